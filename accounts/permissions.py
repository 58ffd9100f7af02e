"""Who may act for which body. Services call these before any staff action.

A membership of the body is what counts (staff handle its proposals; managers also run its campaigns);
administrators act for every body; a local edition's operators run every body in the edition's region (its
campaigns and its staff) without handling its proposals.
"""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import Body, MembershipRole, Role, User
from core.errors import NotAllowed
from core.extensions import db


def _is_user(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_act_for_body(user: User | None, body_id: int) -> bool:
    """May handle the body's proposals: administrators and the body's staff and managers."""
    if not _is_user(user):
        return False
    return user.role == Role.ADMIN or body_id in user.body_ids()


def can_manage_body(user: User | None, body_id: int) -> bool:
    """May run the body's campaigns and staff: administrators, the body's managers and the operators of the
    edition the body lies in."""
    if not _is_user(user):
        return False
    if user.role == Role.ADMIN or body_id in user.body_ids(MembershipRole.MANAGER):
        return True
    body = db.session.get(Body, body_id)
    return body is not None and operates_in(user, body.region_code)


def operated_prefixes(user: User | None) -> list[str]:
    """The division-code prefixes of the editions ``user`` operates."""
    if not _is_user(user):
        return []
    from editions.models import Edition, EditionOperator  # editions build on accounts

    return [edition.prefix for edition in db.session.scalars(
        sa.select(Edition).join(EditionOperator).where(EditionOperator.user_id == user.id))]


def operates_in(user: User | None, region_code: str | None) -> bool:
    """``user`` operates the edition that the division ``region_code`` lies in."""
    return bool(region_code) and any(region_code.startswith(prefix) for prefix in operated_prefixes(user))


def _body_id(body: Body | int) -> int:
    return body if isinstance(body, int) else body.id


def require_body_staff(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may handle the proposals of ``body``."""
    if not can_act_for_body(user, _body_id(body)):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))


def require_body_manager(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may run the campaigns of ``body``."""
    if not can_manage_body(user, _body_id(body)):
        raise NotAllowed(_l("Only managers of the body may run its campaigns."))


def require_moderator(user: User | None) -> None:
    """Raise ``NotAllowed`` unless ``user`` is a moderator or an administrator."""
    if not _is_user(user) or not user.is_moderator:
        raise NotAllowed(_l("Only moderators may do this."))


def can_screen(user: User | None, body_id: int) -> bool:
    """May decide whether a pending proposal of the body's campaigns is published: the body's staff and
    managers, moderators and administrators."""
    return can_act_for_body(user, body_id) or (_is_user(user) and user.is_moderator)


def require_screener(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may screen the proposals of ``body``'s campaigns."""
    if not can_screen(user, _body_id(body)):
        raise NotAllowed(_l("Only staff of the responsible body or moderators may do this."))


def require_admin(user: User | None) -> None:
    """Raise ``NotAllowed`` unless ``user`` is an administrator."""
    if not _is_user(user) or not user.is_admin:
        raise NotAllowed(_l("Only administrators may do this."))
