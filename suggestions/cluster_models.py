"""Clusters of near-duplicate proposals, staff decisions about them (pins), and each proposal's stored related
proposals (``suggestions.clustering`` and ``suggestions.similar`` write them)."""
import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime

if TYPE_CHECKING:  # suggestions.models imports this module at its end; the mapper resolves the name
    from suggestions.models import Suggestion


class Cluster(TimestampMixin, db.Model):
    """Near-duplicate proposals of one campaign, shown as one idea with their combined support.

    Every clustered public proposal has a member row, so a cluster may have a single member; lists show
    those with two or more. Votes stay on the proposals: ``supporter_count`` counts distinct citizens who
    supported any member (a citizen supporting three variants counts once).
    """

    __tablename__ = "clusters"
    __table_args__ = (
        sa.Index("ix_clusters_campaign_size", "campaign_id", "size"),
        # The cluster list, by combined support: only clusters of two or more are listed.
        sa.Index("ix_clusters_campaign_listed", "campaign_id", "supporter_count", "size", "id",
                 postgresql_where=sa.text("size > 1"), sqlite_where=sa.text("size > 1")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    representative_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), unique=True)
    size: Mapped[int] = mapped_column(default=1)
    supporter_count: Mapped[int] = mapped_column(default=0)
    keywords: Mapped[str] = mapped_column(sa.String(200), default="")  # the top words, space-separated
    # What the keywords were drawn from (``cluster_rows.keywords_digest``): a batch keeps them while it stays the same.
    keywords_digest: Mapped[str | None] = mapped_column(sa.String(32))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    campaign: Mapped[Campaign] = relationship()
    representative: Mapped["Suggestion"] = relationship(foreign_keys=[representative_id])
    members: Mapped[list["ClusterMember"]] = relationship(back_populates="cluster",
                                                          order_by="ClusterMember.score.desc()")


class RelatedProposal(db.Model):
    """One of a proposal's most similar public proposals of its campaign, as its page lists them (see
    ``suggestions.similar``): stored so that showing a proposal never computes similarity."""

    __tablename__ = "related_proposals"

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    related_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    score: Mapped[float] = mapped_column(sa.Float)
    kind: Mapped[str] = mapped_column(sa.String(24))  # as ``ClusterMember.kind``, or "related" below the threshold


class ClusterMember(db.Model):
    """A proposal's place in its campaign's clustering: which cluster, how it relates to the representative."""

    __tablename__ = "cluster_members"
    __table_args__ = (sa.Index("ix_cluster_members_cluster", "cluster_id"),)

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(sa.ForeignKey("clusters.id"))
    # "representative", "exact", "same_author_repost", "similar", "same_issue" (joined by issue_groups) or "pinned"
    # (placed by a staff decision)
    kind: Mapped[str] = mapped_column(sa.String(24))
    score: Mapped[float] = mapped_column(sa.Float, default=1.0)

    cluster: Mapped[Cluster] = relationship(back_populates="members")
    suggestion: Mapped["Suggestion"] = relationship()


class PinKind(enum.StrEnum):
    TOGETHER = "together"              # the two proposals stay in one cluster
    APART = "apart"                    # the two proposals never share a cluster
    REPRESENTATIVE = "representative"  # the proposal represents its cluster


class IssueCandidate(TimestampMixin, db.Model):
    """Two clusters a batch left apart that may be one issue (``issue_groups.Candidate``): offered to staff on the
    cluster page with the evidence, to merge or leave. Rewritten by every batch clustering of the campaign."""

    __tablename__ = "issue_candidates"
    __table_args__ = (sa.Index("ix_issue_candidates_cluster", "cluster_id"),
                      sa.Index("ix_issue_candidates_other_cluster", "other_cluster_id"),
                      sa.Index("ix_issue_candidates_campaign", "campaign_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    cluster_id: Mapped[int] = mapped_column(sa.ForeignKey("clusters.id"))
    other_cluster_id: Mapped[int] = mapped_column(sa.ForeignKey("clusters.id"))
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))  # the best link: one member each
    other_suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    score: Mapped[float] = mapped_column(sa.Float)  # P(same issue) of that link
    why: Mapped[str] = mapped_column(sa.String(16))  # below, places, apart or pinned (issue_groups.Candidate)
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # places, places_differ, words

    cluster: Mapped[Cluster] = relationship(foreign_keys=[cluster_id])
    other_cluster: Mapped[Cluster] = relationship(foreign_keys=[other_cluster_id])
    suggestion: Mapped["Suggestion"] = relationship(foreign_keys=[suggestion_id])
    other_suggestion: Mapped["Suggestion"] = relationship(foreign_keys=[other_suggestion_id])

    def facing(self, cluster_id: int) -> tuple[Cluster, "Suggestion"]:
        """Seen from one of its two clusters: the other cluster, and the member of it the link goes to."""
        if self.cluster_id == cluster_id:
            return self.other_cluster, self.other_suggestion
        return self.cluster, self.suggestion


class ClusterPin(TimestampMixin, db.Model):
    """A staff decision about clustering, which every later batch run honours."""

    __tablename__ = "cluster_pins"
    __table_args__ = (sa.Index("ix_cluster_pins_campaign", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    other_id: Mapped[int | None] = mapped_column(sa.ForeignKey("suggestions.id"))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")


class IssueWords(db.Model):
    """A public proposal's words as the same-issue score reads them (``suggestions.issue_words``): cut by jieba
    once and kept, so that clustering a campaign again cuts only the proposals new or edited since. ``digest``
    is of the text read and the word cutter's version: a text that no longer matches it is cut again."""

    __tablename__ = "issue_words"

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(32))
    whole_words: Mapped[str] = mapped_column(sa.Text)  # title and body: words separated by spaces
    title_words: Mapped[str] = mapped_column(sa.Text)
