"""Personal API tokens: create, revoke, and authenticate a presented secret. Services flush; callers commit.

A token works until it is revoked, its account is deactivated, or the account's password is changed or reset:
those move ``User.credentials_version`` on, and a token works only while it carries the current one (so a
token made by someone holding a session or a token that the owner meant to end, even by a request running at
that moment, stops too).
"""
import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from api.models import ApiToken
from core import audit
from core.errors import Conflict, DomainError, NotFound
from core.extensions import db
from core.models import utcnow
from core.text import clean_text

SECRET_PREFIX = "jy_"  # lets people (and secret scanners) recognise a Jianyan token
NAME_MAX_LENGTH = 60
MAX_ACTIVE_TOKENS = 10
_SECRET_MAX_LENGTH = 200


class Unauthenticated(DomainError):
    """No usable API token came with a request that needs one."""
    status_code = 401
    default_message = _l("This API token is not valid or has been revoked.")


def hash_secret(secret: str) -> str:
    """The stored form of a secret (SHA-256, hex)."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def tokens_query(user: User) -> sa.Select:
    """The user's tokens, newest first (revoked ones too, marked as such)."""
    return (sa.select(ApiToken).where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))


def create_token(user: User, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it and its secret, which is shown once and never stored. The token
    carries the credentials version ``user`` was loaded with (for a page, when its session was checked): if the
    password changed since, the token is born ended."""
    name = clean_text(name, field=_l("Name"), max_length=NAME_MAX_LENGTH)
    active = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)
                               .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                      ApiToken.credentials_version == user.credentials_version))
    if active >= MAX_ACTIVE_TOKENS:
        raise Conflict(_l("You have %(n)d active tokens already. Revoke one you no longer use first.",
                          n=MAX_ACTIVE_TOKENS))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), prefix=secret[:10],
                     created_at=now or utcnow(), credentials_version=user.credentials_version)
    db.session.add(token)
    db.session.flush()
    audit.record(user, "api_token.create", token, name=name)
    return token, secret


def revoke_token(user: User, token: ApiToken | None, now: datetime | None = None) -> None:
    """Revoke one of the user's own tokens: it stops working at once."""
    if token is None or token.user_id != user.id:
        raise NotFound(_l("No token of yours has that number."))
    if token.revoked_at is not None:
        raise Conflict(_l("This token has already been revoked."))
    token.revoked_at = now or utcnow()
    audit.record(user, "api_token.revoke", token, name=token.name)


def authenticate(secret: str | None, now: datetime | None = None) -> ApiToken:
    """The active token whose secret was presented, marked as used now; raises ``Unauthenticated`` otherwise
    (unknown, revoked, the account deactivated, or made before its password last changed or was reset)."""
    if not secret:
        raise Unauthenticated(_l("Send your personal API token in the Authorization header: Bearer <token>."))
    token = None
    if len(secret) <= _SECRET_MAX_LENGTH:
        token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.is_active or not token.user.active:
        raise Unauthenticated()
    token.last_used_at = now or utcnow()
    return token
