"""Account and body services. They flush; the caller commits."""
import re
import unicodedata

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from accounts.models import Body, BodyKind, BodyLevel, Membership, MembershipRole, Role, User
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text

USERNAME_PATTERN = re.compile(r"^[a-z0-9_\u4e00-\u9fff]{3,32}$")
PASSWORD_MIN_LENGTH = 8
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_hasher = PasswordHasher()


def configure_password_hasher(time_cost: int, memory_cost: int) -> None:
    """Set the argon2id cost (called once by create_app from the configuration)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    _dummy_hash = None


def normalise_username(username: str | None) -> str:
    """Fold width and case so that ＡＢＣ, abc and ABC are one username."""
    return unicodedata.normalize("NFKC", (username or "").strip()).casefold()


def register_user(username: str, password: str, display_name: str = "", email: str = "") -> User:
    """Create a citizen account; raises ``InvalidInput`` or ``Conflict`` (username taken). ``email`` (optional)
    receives notifications about proposals the citizen wrote, supports or follows."""
    key = normalise_username(username)
    email = (email or "").strip()
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput(_l("Enter a valid e-mail address, or leave it empty."))
    if not USERNAME_PATTERN.match(key):
        raise InvalidInput(_l("A username has 3 to 32 letters, digits, underscores or Chinese characters."))
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise InvalidInput(_l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    display = clean_text(display_name or key, field=_l("Display name"), max_length=40)
    password_hash = _hasher.hash(password)  # before the first query: no database lock is held meanwhile
    if db.session.scalar(sa.select(User.id).where(User.username == key)) is not None:
        raise Conflict(_l("This username is already taken."))
    user = User(username=key, display_name=display, password_hash=password_hash, role=Role.CITIZEN, email=email)
    db.session.add(user)
    db.session.flush()
    return user


_dummy_hash: str | None = None


def find_user(username: str | None) -> User | None:
    """The user with this username (width- and case-folded), if any."""
    return db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))


def check_password(user: User | None, password: str) -> User:
    """Return ``user`` if it is active and the password matches, else raise ``NotAllowed``.

    Pure CPU (argon2): callers on SQLite should not hold a write transaction while it runs.
    """
    try:
        if user is None or not user.active:
            global _dummy_hash
            _dummy_hash = _dummy_hash or _hasher.hash("no such user")
            _hasher.verify(_dummy_hash, password or "")  # the same work, so timing does not reveal usernames
            raise VerificationError()
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise NotAllowed(_l("Wrong username or password.")) from None
    return user


def record_login(user: User, password: str) -> None:
    """Note the login time, upgrading the stored hash if the configured cost has changed."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of ``user`` (logout everywhere)."""
    user.session_version += 1


def change_password(user: User, old_password: str, new_password: str) -> None:
    """Change the password after checking the old one; ends the user's other sessions."""
    check_password(user, old_password)
    if len(new_password or "") < PASSWORD_MIN_LENGTH:
        raise InvalidInput(_l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    user.password_hash = _hasher.hash(new_password)
    end_sessions(user)


def set_role(actor: User | None, user: User, role: Role) -> None:
    """Give ``user`` a site role; only an administrator (or the CLI, with actor None) may."""
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed()
    user.role = Role(role)
    audit.record(actor, "user.set_role", user, role=str(role))


def create_body(actor: User | None, *, name: str, kind: str, level: str, region: str,
                parent: Body | None = None, name_en: str = "", contact_email: str = "") -> Body:
    """Create a body (organisation); administrators and the CLI only. ``contact_email`` receives reminders."""
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed()
    name = clean_text(name, field=_l("Name"), max_length=120)
    contact_email = (contact_email or "").strip()
    if contact_email and not EMAIL_PATTERN.fullmatch(contact_email):
        raise InvalidInput(_l("Enter a valid e-mail address, or leave it empty."))
    if db.session.scalar(sa.select(Body.id).where(Body.name == name)) is not None:
        raise Conflict(_l("A body with this name already exists."))
    body = Body(name=name, name_en=name_en, kind=BodyKind(kind), level=BodyLevel(level), region=region,
                parent=parent, contact_email=contact_email)
    db.session.add(body)
    db.session.flush()
    audit.record(actor, "body.create", body, body_id=body.id)
    return body


def add_member(actor: User | None, user: User, body: Body, role: str = "staff") -> Membership:
    """Make ``user`` staff or manager of ``body``; a citizen's site role becomes "staff"."""
    if actor is not None and actor.role != Role.ADMIN:
        raise NotAllowed()
    if role not in MembershipRole.__members__.values():
        raise InvalidInput()
    if db.session.scalar(sa.select(Membership.id).where(Membership.user_id == user.id,
                                                        Membership.body_id == body.id)) is not None:
        raise Conflict(_l("This user is already staff of this body."))
    membership = Membership(user=user, body=body, role=role)
    db.session.add(membership)
    if user.role == Role.CITIZEN:
        user.role = Role.STAFF
    db.session.flush()
    audit.record(actor, "body.add_member", body, body_id=body.id, user_id=user.id, role=role)
    return membership
