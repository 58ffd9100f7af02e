"""PolicyOutcome, its milestones, and its links to proposals and clusters."""
import enum
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Body
from core.extensions import db
from core.models import TimestampMixin
from suggestions.models import Cluster, Suggestion


class Stage(enum.StrEnum):
    ADOPTED = "adopted"            # 已采纳
    DRAFTING = "drafting"          # 起草中
    ISSUED = "issued"              # 已出台
    IMPLEMENTING = "implementing"  # 实施中
    COMPLETED = "completed"        # 已完成


STAGE_LABELS = {Stage.ADOPTED: _l("Adopted"), Stage.DRAFTING: _l("Being drafted"), Stage.ISSUED: _l("Issued"),
                Stage.IMPLEMENTING: _l("Being implemented"), Stage.COMPLETED: _l("Completed")}

outcome_suggestions = sa.Table(
    "outcome_suggestions", db.metadata,
    sa.Column("outcome_id", sa.ForeignKey("policy_outcomes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("suggestion_id", sa.ForeignKey("suggestions.id"), primary_key=True, index=True),
)
outcome_clusters = sa.Table(
    "outcome_clusters", db.metadata,
    sa.Column("outcome_id", sa.ForeignKey("policy_outcomes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("cluster_id", sa.ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class PolicyOutcome(TimestampMixin, db.Model):
    """A policy (document and clause) that adopted proposals became, followed to completion."""

    __tablename__ = "policy_outcomes"
    __table_args__ = (sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_is_a_percentage"),
                      sa.Index("ix_policy_outcomes_body", "issuing_body_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    document_name: Mapped[str] = mapped_column(sa.String(200), default="")
    document_number: Mapped[str] = mapped_column(sa.String(100), default="")  # e.g. 青政办发〔2026〕12号
    issuing_body_id: Mapped[int] = mapped_column(sa.ForeignKey("bodies.id"))
    issued_on: Mapped[date | None] = mapped_column(sa.Date)
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    clause: Mapped[str] = mapped_column(sa.Text, default="")  # the article or clause concerned
    stage: Mapped[str] = mapped_column(sa.String(16), default=Stage.ADOPTED)
    progress: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    issuing_body: Mapped[Body] = relationship()
    milestones: Mapped[list["Milestone"]] = relationship(back_populates="outcome",
                                                         order_by="(Milestone.happened_on, Milestone.id)",
                                                         cascade="all, delete-orphan")
    suggestions: Mapped[list[Suggestion]] = relationship(secondary=outcome_suggestions, order_by=Suggestion.id)
    clusters: Mapped[list[Cluster]] = relationship(secondary=outcome_clusters, order_by=Cluster.id)


class Milestone(TimestampMixin, db.Model):
    """A dated step on the way from adoption to completion."""

    __tablename__ = "outcome_milestones"
    __table_args__ = (sa.Index("ix_outcome_milestones_outcome", "outcome_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_outcomes.id", ondelete="CASCADE"))
    happened_on: Mapped[date] = mapped_column(sa.Date)
    title: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    outcome: Mapped[PolicyOutcome] = relationship(back_populates="milestones")
