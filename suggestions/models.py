"""Suggestion (with its private contact details), Vote and Reply."""
import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Body, User
from accounts.permissions import can_act_for_body
from campaigns.models import Campaign, Category
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime
from core.privacy import mask_personal_data


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
PUBLIC_CONDITION = "status IN ({})".format(", ".join(f"'{status}'" for status in PUBLIC_STATUSES))


class Decision(enum.StrEnum):
    ADOPTED = "adopted"                  # 采纳
    PARTLY_ADOPTED = "partly_adopted"    # 部分采纳
    UNDER_STUDY = "under_study"          # 研究办理
    EXPLAINED = "explained"              # 解释说明
    NOT_ADOPTED = "not_adopted"          # 不予采纳
    NOT_RECORDED = "not_recorded"        # an imported reply from a board that did not record a decision


STAFF_DECISIONS = tuple(decision for decision in Decision if decision != Decision.NOT_RECORDED)


MESSAGE_TYPE_LABELS = {MessageType.SUGGESTION: _l("Suggestion"), MessageType.COMPLAINT: _l("Complaint"),
                       MessageType.HELP: _l("Request for help"), MessageType.QUESTION: _l("Question"),
                       MessageType.THANKS: _l("Thanks")}
STATUS_LABELS = {Status.PENDING: _l("Awaiting screening"), Status.PUBLISHED: _l("Published"),
                 Status.ACCEPTED: _l("Accepted for handling"), Status.REPLIED: _l("Replied"),
                 Status.CLOSED: _l("Closed"), Status.REJECTED: _l("Rejected"),
                 Status.WITHDRAWN: _l("Withdrawn"), Status.HIDDEN: _l("Hidden by moderation")}
DECISION_LABELS = {Decision.ADOPTED: _l("Adopted"), Decision.PARTLY_ADOPTED: _l("Partly adopted"),
                   Decision.UNDER_STUDY: _l("Under study"), Decision.EXPLAINED: _l("Explained"),
                   Decision.NOT_ADOPTED: _l("Not adopted"), Decision.NOT_RECORDED: _l("Not recorded (imported)")}


class Suggestion(TimestampMixin, db.Model):
    __tablename__ = "suggestions"
    __table_args__ = (
        # One index per list query: campaign pages by newest and by most supported, the site-wide list,
        # a citizen's own proposals, a body's inbox.
        sa.Index("ix_suggestions_campaign_status_created", "campaign_id", "status", "created_at", "id"),
        # Public lists filter on the generated column ``public`` (an equality), so these indexes serve page 1 and
        # page 500 alike; ``status IN (4 values)`` made PostgreSQL read and sort the whole campaign.
        sa.Index("ix_suggestions_campaign_public_created", "campaign_id", "public", "created_at", "id"),
        sa.Index("ix_suggestions_campaign_public_support", "campaign_id", "public", "support_count", "id"),
        sa.Index("ix_suggestions_public_created", "public", "created_at", "id"),
        sa.Index("ix_suggestions_campaign_public_since", "campaign_id", "public_since"),
        sa.Index("ix_suggestions_status_created", "status", "created_at", "id"),
        sa.Index("ix_suggestions_category_created", "category_id", "created_at"),
        sa.Index("ix_suggestions_author_created", "author_id", "created_at"),
        sa.Index("ix_suggestions_handling_body_status", "handling_body_id", "status", "created_at"),
        sa.Index("ix_suggestions_status_due", "status", "reply_due_on"),
        sa.Index("ix_suggestions_created", "created_at"),  # flood detection reads the latest submissions
        sa.UniqueConstraint("source", "source_ref"),
        # A form sent twice (a resend after a lost answer) finds the proposal its first sending saved.
        sa.Index("uq_suggestions_author_submission_key", "author_id", "submission_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    message_type: Mapped[str] = mapped_column(sa.String(16), default=MessageType.SUGGESTION)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=Status.PUBLISHED)
    # True for the public statuses; computed by the database from ``status``, whoever writes it.
    public: Mapped[bool] = mapped_column(sa.Boolean, sa.Computed(PUBLIC_CONDITION, persisted=True))
    # Derived from the vote rows (the truth) in the same transaction as each vote; see services.vote.
    support_count: Mapped[int] = mapped_column(default=0)
    oppose_count: Mapped[int] = mapped_column(default=0)
    handling_body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bodies.id"))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(32))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it last became public (submitted, published after screening, unhidden): similarity indexes top up from it.
    public_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Beijing date by which the official reply is due, set at acceptance; extensions move it.
    reply_due_on: Mapped[date | None] = mapped_column(sa.Date)
    # The deadline as first set (acceptance, support threshold or reopening), before any extension: timeliness
    # figures count overdue replies against it as well as against the final deadline (deadlines.py).
    first_reply_due_on: Mapped[date | None] = mapped_column(sa.Date)
    needs_investigation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a "not solved" rating reopened it (once)
    threshold_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the campaign's support threshold
    # Set once, at the first official reply (deadlines.record_first_reply): the figures group on these columns.
    first_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handling_days: Mapped[int | None] = mapped_column()          # calendar days, acceptance to first reply
    handling_working_days: Mapped[int | None] = mapped_column()  # the same in working days
    # Where an imported message came from (analytics import-messages) and its number there; "" when written here.
    source: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    source_ref: Mapped[str | None] = mapped_column(sa.String(64))
    # The keyed hash of the network it was submitted from (core.network; never the address), for flood detection.
    network_key: Mapped[str | None] = mapped_column(sa.String(16))
    # The key of the form (or the API's Idempotency-Key) that submitted it: see services.submission_by_key.
    submission_key: Mapped[str | None] = mapped_column(sa.String(64))

    campaign: Mapped[Campaign] = relationship()
    author: Mapped[User] = relationship()
    category: Mapped[Category] = relationship()
    handling_body: Mapped[Body | None] = relationship()
    replies: Mapped[list["Reply"]] = relationship(back_populates="suggestion", order_by="Reply.created_at")
    extensions: Mapped[list["DeadlineExtension"]] = relationship(order_by="DeadlineExtension.created_at")
    co_handlers: Mapped[list["CoHandler"]] = relationship(cascade="all, delete-orphan")
    transfers: Mapped[list["Transfer"]] = relationship(order_by="Transfer.created_at")
    private_contact: Mapped["PrivateContact | None"] = relationship()

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def visible_to(self, user) -> bool:
        """Public proposals for everyone; the others for their author, moderators and the body's staff."""
        if self.is_public:
            return True
        return bool(user is not None and user.is_authenticated
                    and (user.id == self.author_id or user.is_moderator
                         or can_act_for_body(user, self.campaign.body_id)))

    def masked_for_others(self) -> bool:
        """True if the title or text as written holds personal data that the public sees masked (once moved to the
        private section, what stays in the text is already masked)."""
        return any(mask_personal_data(text) != (text or "") for text in (self.title, self.body))

    def private_details_visible_to(self, user) -> bool:
        """The private contact details and the text as written (personal data unmasked): for the author and the
        staff of the bodies handling the proposal (the campaign's body, the lead and the co-handling bodies)."""
        if user is None or not user.is_authenticated:
            return False
        bodies = {self.campaign.body_id, self.handling_body_id, *(c.body_id for c in self.co_handlers)}
        return user.id == self.author_id or any(can_act_for_body(user, b) for b in bodies if b is not None)


class PrivateContact(TimestampMixin, db.Model):
    """How the handling bodies can reach the author about one proposal (领导留言板 collects these privately):
    shown only to those ``Suggestion.private_details_visible_to``; never in search, hints, the API, exports or
    notifications."""

    __tablename__ = "private_contacts"

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # anything else for the handling body (ID number…)


class Vote(TimestampMixin, db.Model):
    """One citizen's support (+1) or opposition (-1) to one proposal; the database allows one per pair.

    A vote moderators hold as part of a coordinated flood (``moderation.floods``) keeps its row but is left out of
    the public counters until released (``held_at``)."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("suggestion_id", "user_id"),
        sa.CheckConstraint("value IN (-1, 1)", name="value_is_plus_or_minus_one"),
        sa.Index("ix_votes_user_created", "user_id", "created_at"),
        sa.Index("ix_votes_created_suggestion", "created_at", "suggestion_id"),  # flood detection
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    network_key: Mapped[str | None] = mapped_column(sa.String(16))  # as Suggestion.network_key
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # held by moderators: not counted publicly

    @property
    def counted(self) -> int:
        """What the vote adds to the public counters: its value, or 0 while it is held."""
        return 0 if self.held_at is not None else self.value


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
    # Set when a moderator hides the reply's text (moderation.services); its decision stays public.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    suggestion: Mapped[Suggestion] = relationship(back_populates="replies")
    body: Mapped[Body] = relationship()
    author: Mapped[User] = relationship()
    rating: Mapped["Rating | None"] = relationship(back_populates="reply")


class Satisfaction(enum.StrEnum):
    SATISFIED = "satisfied"                      # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"                  # 不满意


class RatingReason(enum.StrEnum):
    NOT_SOLVED = "not_solved"          # 问题未解决: reopens the proposal once for a second reply
    BESIDE_THE_POINT = "off_point"     # 答非所问
    ATTITUDE = "attitude"              # 态度问题
    TOO_SLOW = "too_slow"              # 办理太慢


SATISFACTION_LABELS = {Satisfaction.SATISFIED: _l("Satisfied"),
                       Satisfaction.BASICALLY_SATISFIED: _l("Basically satisfied"),
                       Satisfaction.UNSATISFIED: _l("Unsatisfied")}
RATING_REASON_LABELS = {RatingReason.NOT_SOLVED: _l("The problem is not solved"),
                        RatingReason.BESIDE_THE_POINT: _l("The answer is beside the point"),
                        RatingReason.ATTITUDE: _l("Attitude"), RatingReason.TOO_SLOW: _l("Too slow")}


class Rating(TimestampMixin, db.Model):
    """The author's rating of one official reply (one per reply)."""

    __tablename__ = "ratings"
    __table_args__ = (sa.Index("ix_ratings_body_created", "body_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(sa.ForeignKey("replies.id"), unique=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), index=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))  # the body that replied
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    satisfaction: Mapped[str] = mapped_column(sa.String(24))
    reasons: Mapped[str] = mapped_column(sa.String(100), default="")  # RatingReason codes, space-separated
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    reply: Mapped[Reply] = relationship(back_populates="rating")

    @property
    def reason_codes(self) -> list[str]:
        return self.reasons.split()


class DeadlineExtension(TimestampMixin, db.Model):
    """Staff moved a proposal's reply deadline, with a reason; shown publicly on the proposal."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (sa.Index("ix_deadline_extensions_suggestion", "suggestion_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    previous_due_on: Mapped[date] = mapped_column(sa.Date)
    new_due_on: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text)


class CoHandler(db.Model):
    """A body helping the lead handling body with a proposal (协办)."""

    __tablename__ = "co_handlers"

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"), primary_key=True, index=True)

    body: Mapped[Body] = relationship()


class Transfer(TimestampMixin, db.Model):
    """The proposal was handed from one handling body to another (转办), with a reason shown publicly."""

    __tablename__ = "transfers"
    __table_args__ = (sa.Index("ix_transfers_suggestion", "suggestion_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    from_body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))
    to_body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)

    from_body: Mapped[Body] = relationship(foreign_keys=[from_body_id])
    to_body: Mapped[Body] = relationship(foreign_keys=[to_body_id])


class Follow(TimestampMixin, db.Model):
    """A citizen follows a proposal: told of its replies and status changes, like its author and supporters."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True, index=True)


class Notification(TimestampMixin, db.Model):
    """An on-site message to one user about one proposal; ``kind`` picks the (translated) sentence."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    kind: Mapped[str] = mapped_column(sa.String(24))  # replied, accepted, closed, reopened, transferred
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    suggestion: Mapped[Suggestion] = relationship()


# Clusters of near-duplicates and stored related proposals: their own module, importable from here too.
from suggestions.cluster_models import (  # noqa: E402, F401
    Cluster,
    ClusterMember,
    ClusterPin,
    IssueCandidate,
    IssueWords,
    PinKind,
    RelatedProposal,
)
