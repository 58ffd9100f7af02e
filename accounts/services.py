"""Account and body services. They flush; the caller commits.

Site role and body membership stay coherent: the membership is what lets someone act for a body, the role
"staff" means "member of at least one body", and the role "citizen" means "member of none". So adding a citizen
to a body makes them staff, removing a staff member's last membership makes them a citizen again, and
demoting anyone to citizen removes every membership they hold, in the same action. A deactivated account keeps
its memberships (for reactivation) but counts as anonymous everywhere: its sessions end, it cannot log in and
its API tokens stop working, for good (reactivation brings back neither). A password change or reset ends
every session and API token too.
"""
import re
import unicodedata

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from accounts.models import Body, BodyKind, BodyLevel, Membership, MembershipRole, Role, User
from accounts.names import DISPLAY_NAME_MAX_LENGTH, check_display_name
from accounts.password_policy import check_password_policy
from accounts.permissions import can_manage_body, operated_prefixes, operates_in
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text

USERNAME_PATTERN = re.compile(r"^[a-z0-9_\u4e00-\u9fff]{3,32}$")
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
REASON_MAX_LENGTH = 200
_hasher = PasswordHasher()


class InvalidEmail(InvalidInput):
    """An e-mail address that is not one."""


class WrongPassword(InvalidInput):
    """The current password given to confirm a change is not right."""


def configure_password_hasher(time_cost: int, memory_cost: int) -> None:
    """Set the argon2id cost (called once by create_app from the configuration)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    _dummy_hash = None


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (pure CPU, ~0.1 s at the production cost)."""
    return _hasher.hash(password)


def normalise_username(username: str | None) -> str:
    """Fold width and case so that ＡＢＣ, abc and ABC are one username."""
    return unicodedata.normalize("NFKC", (username or "").strip()).casefold()


def clean_email(email: str | None) -> str:
    """The trimmed address ("" for none); raises ``InvalidInput`` if it is not one."""
    email = clean_text(email, field=_l("E-mail"), max_length=254, min_length=0)
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise InvalidEmail(_l("Enter a valid e-mail address, or leave it empty."))
    return email


def register_user(username: str, password: str, display_name: str = "", email: str = "") -> User:
    """Create a citizen account; raises ``InvalidInput`` (``WeakPassword``, ``DisplayNameRefused``) or
    ``Conflict`` (username taken). ``email`` (optional) receives notifications and password-reset links."""
    key = normalise_username(username)
    email = clean_email(email)
    if not USERNAME_PATTERN.match(key):
        raise InvalidInput(_l("A username has 3 to 32 letters, digits, underscores or Chinese characters."))
    check_password_policy(password, username=key, email=email)
    display = check_display_name(display_name)
    password_hash = hash_password(password)  # before the account query: no database lock is held meanwhile
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
    """Return ``user`` if the password matches and the account is active, else raise ``NotAllowed``.

    A deactivated account is named as such only to someone who knows its password. Pure CPU (argon2): callers
    on SQLite should not hold a write transaction while it runs.
    """
    try:
        if user is None:
            global _dummy_hash
            _dummy_hash = _dummy_hash or _hasher.hash("no such user")
            _hasher.verify(_dummy_hash, password or "")  # the same work, so timing does not reveal usernames
            raise VerificationError()
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        raise NotAllowed(_l("Wrong username or password.")) from None
    if not user.active:
        raise NotAllowed(_l("This account has been deactivated. Please contact the site's administrators."))
    return user


def record_login(user: User, password: str) -> None:
    """Note the login time, upgrading the stored hash if the configured cost has changed."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of ``user`` (logout everywhere)."""
    user.session_version += 1


def end_credentials(user: User) -> None:
    """End every session and every API token of ``user`` (the password changed, or the account is deactivated):
    tokens made under an older credentials version stop working (``api.tokens``)."""
    end_sessions(user)
    user.credentials_version += 1


def set_password(user: User, new_password: str) -> None:
    """Store a new password that passes the policy, ending every session and API token of the user (no audit
    row: the calling action writes it)."""
    check_password_policy(new_password, username=user.username, email=user.email)
    user.password_hash = hash_password(new_password)
    end_credentials(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; every session and API token of the user ends (the
    view logs the session in use back in)."""
    try:
        check_password(user, current_password)
    except NotAllowed:
        raise WrongPassword(_l("The current password is not right.")) from None
    if new_password == current_password:
        raise InvalidInput(_l("The new password must differ from the current one."))
    set_password(user, new_password)
    audit.record(user, "user.change_password", user)


def update_profile(user: User, *, display_name: str, email: str, current_password: str = "") -> None:
    """Change one's own display name and e-mail address. A new display name follows the public-name rules (one
    kept as it is is not checked again); a new e-mail address needs the current password, since reset links go
    there (someone using a forgotten open session could otherwise take the account over)."""
    display = clean_text(display_name, field=_l("Display name"), max_length=DISPLAY_NAME_MAX_LENGTH, min_length=0)
    if display != user.display_name:
        display = check_display_name(display)
    email = clean_email(email)
    if email != user.email:
        try:
            check_password(user, current_password)
        except NotAllowed:
            raise WrongPassword(_l("Enter your current password to change your e-mail address.")) from None
    changed = [name for name, old, new in (("display_name", user.display_name, display),
                                           ("email", user.email, email)) if old != new]
    if not changed:
        return
    user.display_name, user.email = display, email
    audit.record(user, "user.update_profile", user, changed=changed)


# --- site roles and accounts (administrators) ------------------------------------------------------------------

def _require_admin(actor: User | None) -> None:
    """Administrators act on accounts; ``actor`` None is the command line."""
    if actor is not None and (not actor.is_active or actor.role != Role.ADMIN):
        raise NotAllowed(_l("Only administrators may do this."))


def _not_oneself(actor: User | None, user: User) -> None:
    if actor is not None and actor.id == user.id:
        raise Conflict(_l("You cannot do this to your own account; ask another administrator."))


def set_role(actor: User | None, user: User, role: str) -> None:
    """Give ``user`` a site role (administrators, or the CLI with actor None). "citizen" also removes every body
    membership; "staff" needs a membership (add the person to a body instead)."""
    _require_admin(actor)
    _not_oneself(actor, user)
    if role not in Role.__members__.values():
        raise InvalidInput(_l("Choose a role from the list."))
    role = Role(role)
    if role == Role.STAFF and not user.memberships:
        raise InvalidInput(_l("Staff are made by adding them to a body, on the body's staff page."))
    previous = user.role
    removed = sorted(m.body_id for m in user.memberships) if role == Role.CITIZEN else []
    if role == Role.CITIZEN:
        user.memberships.clear()  # delete-orphan: the rows go at the flush
    user.role = role
    db.session.flush()
    audit.record(actor, "user.set_role", user, role=str(role), previous=str(previous), removed_from_bodies=removed)


def deactivate_user(actor: User | None, user: User, reason: str) -> None:
    """Deactivate an account, saying why: its sessions and API tokens end at once, it cannot log in and counts
    as anonymous."""
    _require_admin(actor)
    _not_oneself(actor, user)
    reason = clean_text(reason, field=_l("Reason"), max_length=REASON_MAX_LENGTH)
    if not user.active:
        raise Conflict(_l("This account is already deactivated."))
    user.active = False
    end_credentials(user)  # a reactivated account starts with no session and no token
    audit.record(actor, "user.deactivate", user, reason=reason)


def reactivate_user(actor: User | None, user: User) -> None:
    """Let a deactivated account log in again (with its role and memberships as they were)."""
    _require_admin(actor)
    if user.active:
        raise Conflict(_l("This account is active."))
    user.active = True
    audit.record(actor, "user.reactivate", user)


# --- bodies and their staff ------------------------------------------------------------------------------------

def create_body(actor: User | None, *, name: str, kind: str, level: str, region: str,
                parent: Body | None = None, name_en: str = "", contact_email: str = "") -> Body:
    """Create a body (organisation): administrators and the CLI anywhere, a local edition's operators within its
    region (the region must name one of its divisions, and the parent lie in it too). ``contact_email`` receives
    reminders."""
    from accounts.regions import region_by_path  # regions imports this package's models

    name = clean_text(name, field=_l("Name"), max_length=120)
    name_en = clean_text(name_en, field=_l("English name"), max_length=200, min_length=0)
    region = clean_text(region, field=_l("Region"), max_length=80)
    division = region_by_path(region)
    if actor is not None and not (actor.is_active and actor.is_admin):
        if not operated_prefixes(actor):
            raise NotAllowed(_l("Only administrators may do this."))
        if division is None or not operates_in(actor, division.code) or \
                (parent is not None and not operates_in(actor, parent.region_code)):
            raise NotAllowed(_l("An edition's operators create bodies only within the edition's region."))
    contact_email = clean_email(contact_email)
    if db.session.scalar(sa.select(Body.id).where(Body.name == name)) is not None:
        raise Conflict(_l("A body with this name already exists."))
    body = Body(name=name, name_en=name_en, kind=BodyKind(kind), level=BodyLevel(level), region=region,
                parent=parent, contact_email=contact_email, region_code=division.code if division else None)
    db.session.add(body)
    db.session.flush()
    audit.record(actor, "body.create", body, body_id=body.id)
    return body


def _require_body_manager(actor: User | None, body_id: int) -> None:
    if actor is not None and not can_manage_body(actor, body_id):
        raise NotAllowed(_l("Only the body's managers and administrators may change its staff."))


def _membership_role(role: str) -> MembershipRole:
    if role not in MembershipRole.__members__.values():
        raise InvalidInput(_l("Choose a role from the list."))
    return MembershipRole(role)


def add_member(actor: User | None, user: User, body: Body, role: str = "staff") -> Membership:
    """Make ``user`` staff or manager of ``body`` (its managers, administrators, the CLI); a citizen's site role
    becomes "staff"."""
    _require_body_manager(actor, body.id)
    role = _membership_role(role)
    if db.session.scalar(sa.select(Membership.id).where(Membership.user_id == user.id,
                                                        Membership.body_id == body.id)) is not None:
        raise Conflict(_l("This user is already staff of this body."))
    if not user.active:  # after the query, whose autoflush gives a new account its defaults
        raise Conflict(_l("This account is deactivated."))
    membership = Membership(user=user, body=body, role=role)
    db.session.add(membership)
    if user.role == Role.CITIZEN:
        user.role = Role.STAFF
    db.session.flush()
    audit.record(actor, "body.add_member", body, body_id=body.id, user_id=user.id, role=str(role))
    return membership


def _not_own_membership(actor: User | None, membership: Membership) -> None:
    """Managers do not remove or demote themselves (the body could be left without one); another manager or an
    administrator does."""
    if actor is not None and actor.id == membership.user_id and actor.role != Role.ADMIN:
        raise Conflict(_l("You cannot change your own place in the body; ask another manager or an administrator."))


def change_member_role(actor: User | None, membership: Membership, role: str) -> None:
    """Make a member of a body staff or manager of it."""
    _require_body_manager(actor, membership.body_id)
    _not_own_membership(actor, membership)
    role = _membership_role(role)
    if membership.role == role:
        return
    previous, membership.role = membership.role, role
    audit.record(actor, "body.change_member_role", membership.body, body_id=membership.body_id,
                 user_id=membership.user_id, role=str(role), previous=str(previous))


def remove_member(actor: User | None, membership: Membership) -> None:
    """Take a person off a body's staff: they lose its rights at their next request. Someone whose site role is
    "staff" and who has no other membership becomes a citizen."""
    _require_body_manager(actor, membership.body_id)
    _not_own_membership(actor, membership)
    user, body, role = membership.user, membership.body, membership.role
    user.memberships.remove(membership)  # delete-orphan: the row goes at the flush
    if user.role == Role.STAFF and not user.memberships:
        user.role = Role.CITIZEN
    db.session.flush()
    audit.record(actor, "body.remove_member", body, body_id=body.id, user_id=user.id, role=str(role),
                 site_role=str(user.role))
