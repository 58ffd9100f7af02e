"""Editions: creating them, and what each one covers (issue 16).

An edition covers the bodies whose division code starts with its prefix (``Edition.prefix``); editions never
overlap (a new one inside or around another is refused), so a body, its proposals and its figures belong to at
most one edition, and the national figures are the editions' figures plus those of bodies outside any edition,
each counted once. Lists, the edition's home page and its figures all select through ``bodies_in``.
"""
import os
import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import Body, Region, Role, User
from accounts.permissions import operated_prefixes
from analytics.metrics import Scope
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.text import clean_text
from editions.models import Edition, EditionOperator

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def create_edition(actor: User | None, *, code: str, name: str, short_name: str, name_en: str = "",
                   short_name_en: str = "", colour: str = "#1f4e79", host: str | None = None) -> Edition:
    """Open an edition for the division ``code``; administrators and the command line only."""
    _require_admin(actor)
    region = db.session.get(Region, (code or "").strip())
    if region is None:
        raise InvalidInput(_l("No region has that code."))
    colour = (colour or "").strip()
    if not _COLOUR.fullmatch(colour):
        raise InvalidInput(_l("A colour is written as # and six hexadecimal digits, e.g. #1f4e79."))
    host = (host or "").strip().lower() or None
    if host is not None and not _HOST.fullmatch(host):
        raise InvalidInput(_l("That is not a host name (e.g. linchuan.example.cn)."))
    edition = Edition(code=region.code, name=clean_text(name, field=_l("Name"), max_length=80),
                      short_name=clean_text(short_name, field=_l("Short name"), max_length=20),
                      name_en=clean_text(name_en, field=_l("English name"), max_length=160, min_length=0),
                      short_name_en=clean_text(short_name_en, field=_l("English short name"), max_length=40,
                                               min_length=0),
                      colour=colour.lower(), host=host)
    for other in db.session.scalars(sa.select(Edition)):
        if other.prefix.startswith(edition.prefix) or edition.prefix.startswith(other.prefix):
            raise Conflict(_l("Editions may not overlap: %(name)s already covers part of this region.",
                              name=other.name))
        if host is not None and other.host == host:
            raise Conflict(_l("Another edition already uses that host name."))
    db.session.add(edition)
    db.session.flush()
    audit.record(actor, "edition.create", edition, code=edition.code, host=host)
    return edition


def edition_by_code(code: str) -> Edition | None:
    return db.session.scalar(sa.select(Edition).where(Edition.code == code))


def edition_for_host(host: str) -> Edition | None:
    """The edition served on ``host`` (its port left out), if one is configured for it."""
    name = (host or "").split(":")[0].strip().lower()
    return db.session.scalar(sa.select(Edition).where(Edition.host == name)) if name else None


def all_editions() -> list[Edition]:
    return list(db.session.scalars(sa.select(Edition).order_by(Edition.code)))


def bodies_in(edition: Edition):
    """A condition on ``Body``: the body lies in the edition's region."""
    return Body.region_code.startswith(edition.prefix, autoescape=True)


def scope_of(edition: Edition, **filters) -> Scope:
    """The figures' scope of an edition (the same definitions as the national figures, docs/metrics.md)."""
    return Scope(divisions=edition.prefix, **filters)


def text_colour_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background`` (#rrggbb), by WCAG's contrast ratio."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    ink, paper = luminance("#1a1a1a"), luminance(background)
    on_white = (1.05) / (paper + 0.05)
    on_ink = (max(paper, ink) + 0.05) / (min(paper, ink) + 0.05)
    return "#ffffff" if on_white >= on_ink else "#1a1a1a"


def _require_admin(actor: User | None) -> None:
    if actor is not None and not (actor.is_active and actor.is_admin):
        raise NotAllowed(_l("Only administrators may do this."))


def add_operator(actor: User | None, edition: Edition, user: User) -> EditionOperator:
    """Make ``user`` an operator of ``edition`` (administrators and the command line); a citizen becomes staff."""
    _require_admin(actor)
    if not user.is_active:
        raise InvalidInput(_l("This account is deactivated."))
    existing = db.session.scalar(sa.select(EditionOperator).where(EditionOperator.user_id == user.id,
                                                                  EditionOperator.edition_id == edition.id))
    if existing is not None:
        raise Conflict(_l("%(name)s already operates this edition.", name=user.username))
    operator = EditionOperator(user=user, edition=edition)
    if user.role == Role.CITIZEN:
        user.role = Role.STAFF
    db.session.add(operator)
    db.session.flush()
    audit.record(actor, "edition.add_operator", edition, user_id=user.id, code=edition.code)
    return operator


def remove_operator(actor: User | None, edition: Edition, user: User) -> None:
    """``user`` no longer operates ``edition`` (administrators and the command line)."""
    _require_admin(actor)
    operator = db.session.scalar(sa.select(EditionOperator).where(EditionOperator.user_id == user.id,
                                                                  EditionOperator.edition_id == edition.id))
    if operator is None:
        raise InvalidInput(_l("%(name)s does not operate this edition.", name=user.username))
    db.session.delete(operator)
    audit.record(actor, "edition.remove_operator", edition, user_id=user.id, code=edition.code)


def operators_of(edition: Edition) -> list[User]:
    return list(db.session.scalars(sa.select(User).join(EditionOperator, EditionOperator.user_id == User.id)
                                   .where(EditionOperator.edition_id == edition.id).order_by(User.username)))


def can_run(user: User | None, edition: Edition) -> bool:
    """May open the edition's management page: administrators and its operators."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_admin or edition.prefix in operated_prefixes(user)


def divisions_of(edition: Edition) -> list[Region]:
    """The edition's region and every division inside it, from the top."""
    return list(db.session.scalars(sa.select(Region).where(Region.code.startswith(edition.prefix, autoescape=True))
                                   .order_by(Region.code)))


def edition_campaign_ids(edition: Edition) -> list[int]:
    """The public campaigns of the edition: its bodies' and those about its region (as its home page lists them)."""
    from campaigns.models import Campaign, CampaignStatus

    return list(db.session.scalars(
        sa.select(Campaign.id).join(Body, Campaign.body_id == Body.id)
        .where(Campaign.status != CampaignStatus.DRAFT,
               sa.or_(bodies_in(edition), Campaign.region_scope.startswith(edition.region.path, autoescape=True)))))


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
LOGO_MAX_BYTES = 200 * 1024


def set_logo(actor: User | None, edition: Edition, filename: str, data: bytes, folder: str) -> str:
    """Give ``edition`` its logo (an SVG or PNG of at most 200 KB), saved as ``<code><ext>`` in ``folder``
    (EDITION_LOGO_DIR); administrators and the command line only. Returns the saved file's name."""
    _require_admin(actor)
    extension = os.path.splitext(filename or "")[1].lower()
    if extension not in LOGO_TYPES:
        raise InvalidInput(_l("A logo is an SVG or PNG file."))
    if not data or len(data) > LOGO_MAX_BYTES:
        raise InvalidInput(_l("A logo may be at most 200 KB."))
    looks_right = data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip().startswith(b"<svg") \
        if extension == ".svg" else data.startswith(b"\x89PNG\r\n\x1a\n")
    if not looks_right:
        raise InvalidInput(_l("That file is not an SVG or PNG image."))
    os.makedirs(folder, exist_ok=True)
    name = f"{edition.code}{extension}"
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)
    edition.logo = name
    audit.record(actor, "edition.set_logo", edition, code=edition.code, file=name)
    return name
