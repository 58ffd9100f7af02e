"""Users, bodies and who works for which body."""
import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.names import pseudonym
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    MODERATOR = "moderator"
    ADMIN = "admin"


class BodyKind(enum.StrEnum):
    CONGRESS = "congress"      # 人大
    CPPCC = "cppcc"            # 政协
    DEPARTMENT = "department"  # 政府部门
    MINISTRY = "ministry"      # 部委
    OTHER = "other"


class BodyLevel(enum.StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"


MEMBERSHIP_ROLE_LABELS = {"staff": _l("Staff: handles proposals"), "manager": _l("Manager: also runs campaigns")}
ROLE_LABELS = {Role.CITIZEN: _l("Citizen"), Role.STAFF: _l("Staff"),
               Role.MODERATOR: _l("Moderator"), Role.ADMIN: _l("Administrator")}
BODY_KIND_LABELS = {BodyKind.CONGRESS: _l("People's congress"), BodyKind.CPPCC: _l("CPPCC committee"),
                    BodyKind.DEPARTMENT: _l("Government department"), BodyKind.MINISTRY: _l("Ministry"),
                    BodyKind.OTHER: _l("Other body")}
BODY_LEVEL_LABELS = {BodyLevel.NATIONAL: _l("National"), BodyLevel.PROVINCIAL: _l("Provincial"),
                     BodyLevel.MUNICIPAL: _l("Municipal"), BodyLevel.COUNTY: _l("County")}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32), unique=True)  # stored NFKC-casefolded; never shown publicly
    display_name: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")  # "" for none
    email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")  # optional: notifications
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.CITIZEN)
    # Bumped at logout, password change or reset and deactivation: every session cookie carrying the old value
    # stops working.
    session_version: Mapped[int] = mapped_column(default=0)
    # Bumped at password change or reset and deactivation (not at logout): every API token made under the old
    # value stops working (``api.tokens``), even if it was made by a request that began before the change.
    credentials_version: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def public_name(self) -> str:
        """The name shown to others: the display name, else a pseudonym (网友·3F8A2C); never the username."""
        return self.display_name or pseudonym(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    def body_ids(self, role: str | None = None) -> set[int]:
        """Ids of the bodies this user works for (as ``role`` only, if given)."""
        return {m.body_id for m in self.memberships if role is None or m.role == role}


class Region(db.Model):
    """An administrative division (province, prefecture-level city, county) under its official code, loaded from
    ``accounts/divisions/divisions.csv`` by ``accounts.regions.load_divisions``. ``path`` is the full name from
    the top (湖南省长沙市浏阳市), as bodies' and campaigns' free-text regions are written."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    path: Mapped[str] = mapped_column(sa.String(80), index=True)
    level: Mapped[str] = mapped_column(sa.String(16))  # province, city, county
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    name_en: Mapped[str] = mapped_column(sa.String(160), default="")
    spelled: Mapped[str] = mapped_column(sa.String(200), default="", index=True)  # "changsha cs" (pinyin, initials)


class Body(TimestampMixin, db.Model):
    """A people's congress, CPPCC committee, department or ministry that runs campaigns and replies."""

    __tablename__ = "bodies"
    __table_args__ = (sa.Index("ix_bodies_level_region", "level", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    level: Mapped[str] = mapped_column(sa.String(16))
    region: Mapped[str] = mapped_column(sa.String(80))
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")  # for reminders
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bodies.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    spelled: Mapped[str] = mapped_column(sa.String(400), default="", server_default="")
    """The name in pinyin, whole and by initials ("changshashizhufang... csszf..."), for the body picker; set
    whenever the name changes (``accounts.regions.spell``)."""

    parent: Mapped["Body | None"] = relationship(remote_side=[id])
    region_division: Mapped[Region | None] = relationship()

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


@sa.event.listens_for(Body, "before_insert")
@sa.event.listens_for(Body, "before_update")
def _spell_body(mapper, connection, body: Body) -> None:  # noqa: ARG001 (SQLAlchemy's signature)
    """Keep ``Body.spelled`` in step with the name, for the body picker."""
    if not body.spelled or sa.inspect(body).attrs.name.history.has_changes():
        from core.regions import spell
        body.spelled = spell(body.name)


class MembershipRole(enum.StrEnum):
    STAFF = "staff"      # handles the body's proposals: screening, acceptance, replies
    MANAGER = "manager"  # also runs the body's campaigns


class Membership(TimestampMixin, db.Model):
    """A person's place in a body; the membership, not the site role, is what lets them act for it."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "body_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=MembershipRole.STAFF)

    user: Mapped[User] = relationship(back_populates="memberships")
    body: Mapped[Body] = relationship()


class PasswordResetToken(db.Model):
    """A password-reset link sent by e-mail: single-use, expiring; only the SHA-256 of its secret is stored."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (sa.Index("ix_password_reset_tokens_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class VerifiedPhone(db.Model):
    """An account's verified mainland mobile number (E.164), for campaigns that ask for one (后台实名).

    One account per number and one number per account. Seen by nobody but its owner (their settings page): not
    on any public page, in the API, exports or search; the audit log shows it masked (138****5678). A number
    stays with its account: only an administrator releases it (``flask accounts release-phone``)."""

    __tablename__ = "verified_phones"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhoneCode(db.Model):
    """A six-digit code sent by SMS to prove a number: stored keyed-hashed, expiring, single use, voided after
    too many wrong tries (``accounts.phones``)."""

    __tablename__ = "phone_codes"
    __table_args__ = (sa.Index("ix_phone_codes_user_created", "user_id", "created_at"),
                      sa.Index("ix_phone_codes_number_created", "number", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    number: Mapped[str] = mapped_column(sa.String(20))  # E.164
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)  # tries so far, each counted before the code is compared
    # Set when the code was used, voided by too many wrong tries, or replaced by a newer code.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
