"""Password reset by e-mail. Services flush; the caller commits.

Asking for a reset says the same whatever the address: every active account registered with it gets a link
(through the mail outbox), others nothing. A link carries a 256-bit secret of which only the SHA-256 is stored
(the hash is the lookup key; a slow hash adds nothing at that entropy); it expires after
``PASSWORD_RESET_MAX_AGE_MINUTES`` and works once. Using it sets the new password (under the password policy),
voids the account's other links and ends every session and API token of the account.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from accounts.models import PasswordResetToken, User
from accounts.services import set_password
from core import audit
from core.errors import Conflict, NotFound
from core.extensions import db
from core.mail import queue_mail
from core.models import utcnow

MAX_LINKS_PER_HOUR = 3  # per account: more requests within the hour send nothing (no mail bombing)
_SECRET_MAX_LENGTH = 100


def hash_secret(secret: str) -> str:
    """The stored form of a reset secret (SHA-256, hex)."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def request_password_reset(email: str, *, site_url: str, max_age_minutes: int,
                           now: datetime | None = None) -> int:
    """Queue a reset link to every active account registered with ``email``; returns how many were queued
    (callers must not tell the visitor: the answer is the same whether or not the address is known)."""
    now = now or utcnow()
    email = (email or "").strip()
    if not email or len(email) > 254:
        return 0
    users = db.session.scalars(sa.select(User).where(sa.func.lower(User.email) == email.lower(),
                                                     User.active.is_(True)).order_by(User.id)).all()
    queued = 0
    for user in users:
        recent = db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - timedelta(hours=1)))
        if recent >= MAX_LINKS_PER_HOUR:
            continue
        link = _new_link(user, site_url, max_age_minutes, now)
        queue_mail(user.email, gettext("[Jianyan] Reset your password"),
                   gettext("Someone, probably you, asked to reset the password of the account “%(username)s” on "
                           "Jianyan.\n\nTo choose a new password, open this link within %(minutes)d minutes. It "
                           "works once:\n%(link)s\n\nIf you did not ask for this, ignore this message: your "
                           "password stays as it is.", username=user.username, minutes=max_age_minutes, link=link),
                   sensitive=True)
        audit.record(None, "user.request_password_reset", user)
        queued += 1
    db.session.flush()
    return queued


def issue_reset_link(user: User, *, site_url: str, max_age_minutes: int, now: datetime | None = None) -> str:
    """A reset link for an account without (or with a lost) e-mail address, for an administrator to hand over
    (``flask accounts reset-link``); it works like one sent by e-mail."""
    if not user.active:
        raise Conflict(_l("This account is deactivated."))
    link = _new_link(user, site_url, max_age_minutes, now or utcnow())
    audit.record(None, "user.issue_reset_link", user)
    db.session.flush()
    return link


def _new_link(user: User, site_url: str, max_age_minutes: int, now: datetime) -> str:
    secret = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=hash_secret(secret), created_at=now,
                                      expires_at=now + timedelta(minutes=max_age_minutes)))
    return f"{site_url.rstrip('/')}/accounts/reset/{secret}"


_INVALID_LINK = _l("This link is not valid: it may have expired or been used already. Please ask for a new one.")


def _claim(token: PasswordResetToken, now: datetime) -> bool:
    """Mark the link used if nobody has yet, in one statement; False if another request was first."""
    result = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


def find_reset_token(secret: str | None, now: datetime | None = None) -> PasswordResetToken | None:
    """The unused, unexpired token of an active account whose secret this is, else None."""
    if not secret or len(secret) > _SECRET_MAX_LENGTH:
        return None
    token = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_secret(secret)))
    if token is None or token.used_at is not None or token.expires_at <= (now or utcnow()) or not token.user.active:
        return None
    return token


def reset_password(secret: str, new_password: str, now: datetime | None = None) -> User:
    """Set a new password with a reset link: the link and every other link of the account stop working, and
    every session and API token of the account ends. Raises ``NotFound`` for a link that is unknown, used or expired.

    The link is claimed (one ``UPDATE … WHERE used_at IS NULL``) before the password changes: of two requests
    that both read it unused, only the one whose update changed the row goes on."""
    now = now or utcnow()
    token = find_reset_token(secret, now)
    if token is None or not _claim(token, now):
        raise NotFound(_INVALID_LINK)
    user = token.user
    set_password(user, new_password)
    db.session.execute(sa.update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                           PasswordResetToken.used_at.is_(None)).values(used_at=now))
    audit.record(user, "user.reset_password", user)
    db.session.flush()
    return user
