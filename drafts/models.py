"""A draft put out for comment: its versions, their provisions, and the comments anchored to its articles."""
import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Campaign
from core.extensions import db
from core.models import TimestampMixin, UTCDateTime, utcnow


class Draft(TimestampMixin, db.Model):
    """The draft a campaign consults on (a law, a regulation, a plan outline); at most one per campaign."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    # The feedback report (意见采纳情况说明): public once published, with the drafting team's introduction.
    report_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_introduction: Mapped[str] = mapped_column(sa.Text, default="")

    campaign: Mapped[Campaign] = relationship()
    versions: Mapped[list["DraftVersion"]] = relationship(back_populates="draft", order_by="DraftVersion.number")

    @property
    def current_version(self) -> "DraftVersion":
        return self.versions[-1]


class DraftVersion(TimestampMixin, db.Model):
    """One version of the draft as imported (征求意见稿, 修改稿 …); the newest is the one shown."""

    __tablename__ = "draft_versions"
    __table_args__ = (sa.UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("drafts.id"))
    number: Mapped[int]  # 1, 2, …
    title: Mapped[str] = mapped_column(sa.String(200))  # as the file names it
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # what this version is (修改稿, 二次审议稿)
    source_name: Mapped[str] = mapped_column(sa.String(200), default="")  # the imported file's name
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    draft: Mapped[Draft] = relationship(back_populates="versions")
    provisions: Mapped[list["DraftProvision"]] = relationship(order_by="DraftProvision.position",
                                                              back_populates="version")


class DraftArticle(db.Model):
    """An article's identity across versions: renumbered or reworded it stays the same article, so comments on
    it follow it; when a version drops it, the comments on it are orphaned (``services.anchor_of``)."""

    __tablename__ = "draft_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("drafts.id"), index=True)


class DraftProvision(db.Model):
    """One unit of one version: a heading (编, 章, 节, an outline's heading) or an article with its paragraphs
    (款, with its items 项 as lines). A unit citizens can comment on has ``article_id``."""

    __tablename__ = "draft_provisions"
    __table_args__ = (sa.Index("ix_draft_provisions_version_position", "version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("draft_versions.id"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(12))  # parsing.Provision.kind
    depth: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(40), default="")  # 第十二条
    number: Mapped[int | None]
    heading: Mapped[str] = mapped_column(sa.String(200), default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")  # paragraphs, one per line
    within: Mapped[str] = mapped_column(sa.String(400), default="")  # 第二章 服务内容 / 第一节 …
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draft_articles.id"), index=True)

    version: Mapped[DraftVersion] = relationship(back_populates="provisions")

    @property
    def title(self) -> str:
        return " ".join(part for part in (self.label, self.heading) if part)

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n") if self.text else []


class DraftComment(db.Model):
    """What makes a proposal a comment on the draft: the article it is on (none: on the whole draft), the version
    it was written on, and the passage selected, if any. The proposal itself goes through the usual pipeline
    (screening, privacy, similar hints, clusters, supports, search)."""

    __tablename__ = "draft_comments"
    # The draft page counts public comments per article from this index alone (drafts.services.comment_counts).
    __table_args__ = (sa.Index("ix_draft_comments_draft_public_article", "draft_id", "public", "article_id"),)

    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"), primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("drafts.id"))
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draft_articles.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("draft_versions.id"))
    quote: Mapped[str] = mapped_column(sa.String(500), default="")
    # The proposal's own ``public``, copied here so that counting needs no join with every proposal; kept in step
    # on every flush that changes a proposal's status (drafts.services.copy_public_flags).
    public: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    suggestion = relationship("Suggestion")
    version: Mapped[DraftVersion] = relationship()


class Decision(enum.StrEnum):
    """What the drafting team decided on a group of comments (the words of 意见采纳情况说明)."""
    ADOPTED = "adopted"  # 采纳
    PARTLY = "partly"  # 部分采纳
    NOT_ADOPTED = "not_adopted"  # 不予采纳


DECISION_LABELS = {Decision.ADOPTED: _l("Adopted"), Decision.PARTLY: _l("Partly adopted"),
                   Decision.NOT_ADOPTED: _l("Not adopted")}


class DraftDecision(TimestampMixin, db.Model):
    """The drafting team's decision on a group of comments about an article (or the whole draft), with its
    reason, and the version whose change it led to (none when not adopted). Clusters are rebuilt and renumbered,
    comments stay: the decision keeps the comment that represented the group and the group's comments when it
    was decided, and its group is whichever cluster holds most of them now (``feedback.current_groups``)."""

    __tablename__ = "draft_decisions"
    __table_args__ = (sa.UniqueConstraint("draft_id", "suggestion_id"),
                      sa.Index("ix_draft_decisions_draft_article", "draft_id", "article_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("drafts.id"))
    suggestion_id: Mapped[int] = mapped_column(sa.ForeignKey("suggestions.id"))
    # The group's comments when it was decided: after clusters are rebuilt, the group is the cluster holding most.
    comment_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draft_articles.id"))
    version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draft_versions.id"))  # the change it led to
    decision: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(1000))
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    suggestion = relationship("Suggestion")
    version: Mapped[DraftVersion | None] = relationship()
