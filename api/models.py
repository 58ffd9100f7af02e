"""Personal API tokens: only a hash of the secret is stored; the secret is shown once, at creation."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class ApiToken(TimestampMixin, db.Model):
    """A personal token that lets a program act for its user through the JSON API (submit, support)."""

    __tablename__ = "api_tokens"
    __table_args__ = (sa.Index("ix_api_tokens_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(60))
    # SHA-256 (hex) of the secret: the secret is 256 random bits, so a fast hash is enough and lookups use the index.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # the secret's first characters, to recognise it in lists
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's credentials version when the token was made: a password change or reset, or a deactivation,
    # moves the user's on and ends every token made before (``ended_by_credentials``).
    credentials_version: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()

    @property
    def ended_by_credentials(self) -> bool:
        """Made before the user's password last changed or was reset, or before a deactivation."""
        return self.credentials_version != self.user.credentials_version

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.ended_by_credentials
