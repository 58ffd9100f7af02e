"""Reports by citizens, submissions held by the sensitive-word list, and the list itself.

These models import nothing from ``suggestions`` (their foreign keys name tables): ``suggestions.services``
screens each submission through ``moderation.words``, while the rest of this package reads and acts on
proposals.
"""
import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import TimestampMixin, UTCDateTime


class ReportReason(enum.StrEnum):
    ABUSIVE = "abusive"              # 辱骂、人身攻击
    ADVERTISING = "advertising"      # 广告、垃圾信息
    ILLEGAL = "illegal"              # 违法内容
    PERSONAL_DATA = "personal_data"  # 泄露个人信息
    OFF_TOPIC = "off_topic"          # 与征集主题无关
    OTHER = "other"                  # 其他 (a note is required)


REPORT_REASON_LABELS = {ReportReason.ABUSIVE: _l("Abusive or insulting"),
                        ReportReason.ADVERTISING: _l("Advertising or spam"),
                        ReportReason.ILLEGAL: _l("Illegal content"),
                        ReportReason.PERSONAL_DATA: _l("Exposes personal information"),
                        ReportReason.OFF_TOPIC: _l("Off topic"), ReportReason.OTHER: _l("Other")}


class WordCategory(enum.StrEnum):
    ABUSE = "abuse"                  # 辱骂
    ADVERTISING = "advertising"      # 广告
    ILLEGAL = "illegal"              # 违法
    PERSONAL_DATA = "personal_data"  # 个人信息


WORD_CATEGORY_LABELS = {WordCategory.ABUSE: _l("Abuse"), WordCategory.ADVERTISING: _l("Advertising"),
                        WordCategory.ILLEGAL: _l("Illegal"), WordCategory.PERSONAL_DATA: _l("Personal information")}


class TargetType(enum.StrEnum):
    """What a report is about (the table name, as the audit log names its targets)."""
    SUGGESTION = "suggestions"
    REPLY = "replies"


class Resolution(enum.StrEnum):
    DISMISSED = "dismissed"  # the moderator found nothing wrong
    UPHELD = "upheld"        # the moderator hid the item (or kept it hidden)


class Report(TimestampMixin, db.Model):
    """One account's report of a proposal or an official reply, with a reason; one per account and item.

    A report is open until a moderator decides on its item (``resolution``). The author of the item is never
    shown who reported it.
    """

    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("target_type", "target_id", "reporter_id"),
        # The queue's "reported" tab and the open reports of one proposal (and its replies).
        sa.Index("ix_reports_suggestion_resolved", "suggestion_id", "resolved_at"),
        sa.Index("ix_reports_resolved_created", "resolved_at", "created_at"),
        sa.Index("ix_reports_reporter_created", "reporter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(sa.String(16))  # TargetType
    target_id: Mapped[int] = mapped_column()
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))  # the proposal, or the reply's
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(16))  # ReportReason
    note: Mapped[str] = mapped_column(sa.Text, default="")
    resolution: Mapped[str | None] = mapped_column(sa.String(16))  # Resolution; None while open
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class WordHold(TimestampMixin, db.Model):
    """A submission that matched the sensitive-word list: it waits (status pending) for a moderator or the
    campaign body's staff. The matched words stay on record after the decision."""

    __tablename__ = "word_holds"

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    # [{"word": "代开发票", "category": "advertising"}, …] as the list had them at submission time
    matches: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)

    @property
    def categories(self) -> list[str]:
        return sorted({m["category"] for m in self.matches})

    @property
    def words(self) -> list[str]:
        return [m["word"] for m in self.matches]


class SensitiveWord(TimestampMixin, db.Model):
    """One entry of the sensitive-word list, kept as typed and folded (Simplified, no spaces or punctuation)
    the way submissions are folded before matching."""

    __tablename__ = "sensitive_words"
    __table_args__ = (sa.Index("ix_sensitive_words_category", "category", "folded"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(40))
    folded: Mapped[str] = mapped_column(sa.String(40), unique=True)
    category: Mapped[str] = mapped_column(sa.String(16))  # WordCategory
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class FloodKind(enum.StrEnum):
    SUPPORTS = "supports"        # a burst of supports on one proposal
    SUBMISSIONS = "submissions"  # a burst of near-identical submissions to one campaign


class FloodStatus(enum.StrEnum):
    OPEN = "open"          # flagged; no moderator has decided
    HELD = "held"          # the group's supports are held: kept, but not counted publicly
    RELEASED = "released"  # judged legitimate, or held and then released: counted as any other


FLOOD_RULE_LABELS = {"new_accounts": _l("many supports from new accounts"),
                     "one_network": _l("many supports from one network"),
                     "rapid": _l("very many supports in a few minutes"),
                     "template": _l("many near-identical submissions")}
FLOOD_STATUS_LABELS = {FloodStatus.OPEN: _l("Awaiting a decision"), FloodStatus.HELD: _l("Supports held"),
                       FloodStatus.RELEASED: _l("Released")}


class FloodGroup(TimestampMixin, db.Model):
    """A burst of activity that looks coordinated (``moderation.floods``), shown to moderators as one item with
    its evidence. Nothing is deleted: moderators hold the group's supports (the vote rows stay, the public
    counters leave them out) or release them. ``evidence`` is the summary of the members when last detected:
    accounts, how new, networks, the time window, the rules that fired and sample members."""

    __tablename__ = "flood_groups"
    __table_args__ = (sa.Index("ix_flood_groups_status_created", "status", "created_at"),
                      sa.Index("ix_flood_groups_suggestion", "suggestion_id"),
                      sa.Index("ix_flood_groups_campaign", "campaign_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # FloodKind
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    suggestion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("suggestions.id"))  # supports: the proposal
    status: Mapped[str] = mapped_column(sa.String(16), default=FloodStatus.OPEN)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(default=0)  # supports or submissions in the group
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class FloodVote(db.Model):
    """A vote in a flood group: the burst's supports, or (for a group of submissions) the votes its accounts cast
    in the campaign when the group was held. A withdrawn vote leaves its groups with it."""

    __tablename__ = "flood_votes"
    __table_args__ = (sa.Index("ix_flood_votes_vote", "vote_id"),)

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("flood_groups.id"), primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True)


class FloodSubmission(db.Model):
    """A submission in a flood group of near-identical submissions."""

    __tablename__ = "flood_submissions"
    __table_args__ = (sa.Index("ix_flood_submissions_suggestion", "suggestion_id"),)

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("flood_groups.id"), primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
