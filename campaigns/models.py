"""Campaign and Category."""
import enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Body
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Phase(enum.StrEnum):
    """What a visitor sees: derived from the status and the opening and closing times."""
    DRAFT = "draft"
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSING_SOON = "closing_soon"
    CLOSED = "closed"
    ARCHIVED = "archived"


PHASE_LABELS = {Phase.DRAFT: _l("Draft"), Phase.UPCOMING: _l("Opening soon"), Phase.OPEN: _l("Open"),
                Phase.CLOSING_SOON: _l("Closing soon"), Phase.CLOSED: _l("Closed"),
                Phase.ARCHIVED: _l("Archived")}

campaign_categories = sa.Table(
    "campaign_categories",
    db.metadata,
    sa.Column("campaign_id", sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True, index=True),
)


class Category(db.Model):
    """A subject category (城乡建设, 交通运输, …) shared across campaigns."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    name_en: Mapped[str] = mapped_column(sa.String(80), default="")

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.Index("ix_campaigns_status_closes_at", "status", "closes_at"),
        sa.Index("ix_campaigns_body_created", "body_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    theme: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    region_scope: Mapped[str] = mapped_column(sa.String(80), default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: a standing campaign
    allow_oppose: Mapped[bool] = mapped_column(default=False)
    screening: Mapped[bool] = mapped_column(default=False)  # proposals wait for staff before publication
    # Reply deadlines, in working days from acceptance (受理): the usual one, and when investigation is needed.
    reply_working_days: Mapped[int] = mapped_column(default=10, server_default="10")
    investigation_working_days: Mapped[int] = mapped_column(default=20, server_default="20")
    # A proposal reaching this many supports (within the window, if set) must be answered: its deadline starts.
    support_threshold: Mapped[int | None] = mapped_column()
    support_window_days: Mapped[int | None] = mapped_column()
    # Deadline extensions: how many per proposal (per reply round) and how many working days each may add.
    max_extensions: Mapped[int] = mapped_column(default=1, server_default="1")
    max_extension_working_days: Mapped[int] = mapped_column(default=15, server_default="15")
    # Moderation: a public proposal reported by this many distinct accounts is hidden until a moderator decides
    # (0: never hidden automatically).
    report_hide_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    # 后台实名: a verified mobile number is needed to submit, to support or oppose, or both (accounts.phones).
    phone_to_submit: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    phone_to_vote: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[str] = mapped_column(sa.String(16), default=CampaignStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    body: Mapped[Body] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=campaign_categories, order_by=Category.id)

    @property
    def is_standing(self) -> bool:
        return self.closes_at is None

    def phase(self, now: datetime, closing_soon_days: int = 7) -> Phase:
        """The phase a visitor sees at ``now``."""
        if self.status in (CampaignStatus.DRAFT, CampaignStatus.ARCHIVED):
            return Phase(self.status)
        if self.status == CampaignStatus.CLOSED or (self.closes_at is not None and now >= self.closes_at):
            return Phase.CLOSED
        if now < self.opens_at:
            return Phase.UPCOMING
        if self.closes_at is not None and self.closes_at - now <= timedelta(days=closing_soon_days):
            return Phase.CLOSING_SOON
        return Phase.OPEN

    def accepts_submissions(self, now: datetime) -> bool:
        return self.phase(now) in (Phase.OPEN, Phase.CLOSING_SOON)
