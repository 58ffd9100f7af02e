"""Suggestion, Vote and Reply."""
import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Body, User
from campaigns.models import Campaign, Category
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class MessageType(enum.StrEnum):
    SUGGESTION = "suggestion"  # 建议
    COMPLAINT = "complaint"    # 投诉
    HELP = "help"              # 求助
    QUESTION = "question"      # 咨询
    THANKS = "thanks"          # 感谢


class Status(enum.StrEnum):
    PENDING = "pending"        # awaiting screening
    PUBLISHED = "published"
    ACCEPTED = "accepted"      # 受理: handling body assigned
    REPLIED = "replied"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    HIDDEN = "hidden"


PUBLIC_STATUSES = (Status.PUBLISHED, Status.ACCEPTED, Status.REPLIED, Status.CLOSED)


class Decision(enum.StrEnum):
    ADOPTED = "adopted"                  # 采纳
    PARTLY_ADOPTED = "partly_adopted"    # 部分采纳
    UNDER_STUDY = "under_study"          # 研究办理
    EXPLAINED = "explained"              # 解释说明
    NOT_ADOPTED = "not_adopted"          # 不予采纳


MESSAGE_TYPE_LABELS = {MessageType.SUGGESTION: _l("Suggestion"), MessageType.COMPLAINT: _l("Complaint"),
                       MessageType.HELP: _l("Request for help"), MessageType.QUESTION: _l("Question"),
                       MessageType.THANKS: _l("Thanks")}
STATUS_LABELS = {Status.PENDING: _l("Awaiting screening"), Status.PUBLISHED: _l("Published"),
                 Status.ACCEPTED: _l("Accepted for handling"), Status.REPLIED: _l("Replied"),
                 Status.CLOSED: _l("Closed"), Status.REJECTED: _l("Rejected"),
                 Status.WITHDRAWN: _l("Withdrawn"), Status.HIDDEN: _l("Hidden by moderation")}
DECISION_LABELS = {Decision.ADOPTED: _l("Adopted"), Decision.PARTLY_ADOPTED: _l("Partly adopted"),
                   Decision.UNDER_STUDY: _l("Under study"), Decision.EXPLAINED: _l("Explained"),
                   Decision.NOT_ADOPTED: _l("Not adopted")}


class Suggestion(TimestampMixin, db.Model):
    __tablename__ = "suggestions"
    __table_args__ = (
        # One index per list query: campaign pages by newest and by most supported, the site-wide list,
        # a citizen's own proposals, a body's inbox.
        sa.Index("ix_suggestions_campaign_status_created", "campaign_id", "status", "created_at", "id"),
        sa.Index("ix_suggestions_campaign_status_support", "campaign_id", "status", "support_count", "id"),
        sa.Index("ix_suggestions_status_created", "status", "created_at", "id"),
        sa.Index("ix_suggestions_category_created", "category_id", "created_at"),
        sa.Index("ix_suggestions_author_created", "author_id", "created_at"),
        sa.Index("ix_suggestions_handling_body_status", "handling_body_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    message_type: Mapped[str] = mapped_column(sa.String(16), default=MessageType.SUGGESTION)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=Status.PUBLISHED)
    # Derived from the vote rows (the truth) in the same transaction as each vote; see services.vote.
    support_count: Mapped[int] = mapped_column(default=0)
    oppose_count: Mapped[int] = mapped_column(default=0)
    handling_body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bodies.id"))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(32))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    author: Mapped[User] = relationship()
    category: Mapped[Category] = relationship()
    handling_body: Mapped[Body | None] = relationship()
    replies: Mapped[list["Reply"]] = relationship(back_populates="suggestion", order_by="Reply.created_at")

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


class Vote(TimestampMixin, db.Model):
    """One citizen's support (+1) or opposition (-1) to one proposal; the database allows one per pair."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("suggestion_id", "user_id"),
        sa.CheckConstraint("value IN (-1, 1)", name="value_is_plus_or_minus_one"),
        sa.Index("ix_votes_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reply(TimestampMixin, db.Model):
    """An official reply by the handling body, carrying its decision."""

    __tablename__ = "replies"
    __table_args__ = (sa.Index("ix_replies_suggestion_created", "suggestion_id", "created_at"),
                      sa.Index("ix_replies_body_created", "body_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(sa.String(16))
    content: Mapped[str] = mapped_column(sa.Text)

    suggestion: Mapped[Suggestion] = relationship(back_populates="replies")
    body: Mapped[Body] = relationship()
    author: Mapped[User] = relationship()
