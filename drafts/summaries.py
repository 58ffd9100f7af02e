"""What the drafting team reads per article: comments received, distinct commenters, the clusters they fall in
(each with its representative comment and keywords), support; the comments themselves, filtered; a CSV export."""
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core.privacy import mask_personal_data
from drafts.models import DraftComment, DraftVersion
from suggestions.cluster_models import Cluster, ClusterMember
from suggestions.models import Status, Suggestion

CLUSTERS_SHOWN = 20
KEYWORDS_SHOWN = 12
SORTS = ("support", "newest")
SHOWN_STATUSES = ("public", "pending", "all")


@dataclass
class ClusterRow:
    cluster: Cluster
    here: int  # of the cluster's members, how many comment on this article


@dataclass
class ArticleSummary:
    comments: int = 0  # every comment received on the article (any status but withdrawn)
    public: int = 0
    commenters: int = 0  # distinct authors
    support: int = 0  # supports of its public comments
    with_passage: int = 0
    clusters: list[ClusterRow] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


def _on_article(draft_id: int, article_id: int | None):
    where = [DraftComment.draft_id == draft_id, Suggestion.status != Status.WITHDRAWN]
    where.append(DraftComment.article_id.is_(None) if article_id is None else DraftComment.article_id == article_id)
    return where


def summarise_article(session, draft_id: int, article_id: int | None) -> ArticleSummary:
    """The figures of one article's comments (``article_id`` None: the comments on the whole draft)."""
    where = _on_article(draft_id, article_id)
    joined = sa.select().select_from(DraftComment).join(Suggestion, Suggestion.id == DraftComment.suggestion_id)
    row = session.execute(joined.add_columns(
        sa.func.count(), sa.func.count(sa.func.distinct(Suggestion.author_id)),
        sa.func.coalesce(sa.func.sum(sa.case((Suggestion.public, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((Suggestion.public, Suggestion.support_count), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((DraftComment.quote != "", 1), else_=0)), 0),
    ).where(*where)).one()
    summary = ArticleSummary(comments=row[0], commenters=row[1], public=row[2], support=row[3], with_passage=row[4])
    counts = session.execute(joined.add_columns(ClusterMember.cluster_id, sa.func.count())
                             .join(ClusterMember, ClusterMember.suggestion_id == DraftComment.suggestion_id)
                             .where(*where, Suggestion.public).group_by(ClusterMember.cluster_id)
                             .order_by(sa.func.count().desc(), ClusterMember.cluster_id)
                             .limit(CLUSTERS_SHOWN)).all()
    clusters = {c.id: c for c in session.scalars(
        sa.select(Cluster).options(joinedload(Cluster.representative))
        .where(Cluster.id.in_([cluster_id for cluster_id, _ in counts])))}
    summary.clusters = [ClusterRow(clusters[cluster_id], here) for cluster_id, here in counts]
    weights: Counter[str] = Counter()
    for row in summary.clusters:
        for word in row.cluster.keywords.split():
            weights[word] += row.here
    summary.keywords = [word for word, _ in weights.most_common(KEYWORDS_SHOWN)]
    return summary


def article_comments(draft_id: int, article_id: int | None, *, shown: str = "public", message_type: str = "",
                     passage_only: bool = False, sort: str = "support") -> sa.Select:
    """The comments on one article as a query of proposals, filtered and sorted as the staff view asks."""
    query = (sa.select(Suggestion).join(DraftComment, DraftComment.suggestion_id == Suggestion.id)
             .where(*_on_article(draft_id, article_id)))
    if shown == "public":
        query = query.where(Suggestion.public)
    elif shown == "pending":
        query = query.where(Suggestion.status == Status.PENDING)
    if message_type:
        query = query.where(Suggestion.message_type == message_type)
    if passage_only:
        query = query.where(DraftComment.quote != "")
    if sort == "newest":
        return query.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
    return query.order_by(Suggestion.support_count.desc(), Suggestion.id.desc())


CSV_COLUMNS = ("proposal_id", "url", "article", "version_commented", "passage", "title", "text", "message_type",
               "status", "support", "oppose", "cluster_id", "submitted_at")


def csv_rows(session, draft_id: int, article_label: str, query: sa.Select, url_for_proposal):
    """One row per comment for the drafting team, as ``CSV_COLUMNS``: the text masked as the public reads it, never
    the private contact details (a file travels further than a page)."""
    cluster_of = dict(session.execute(
        sa.select(ClusterMember.suggestion_id, ClusterMember.cluster_id)
        .where(ClusterMember.suggestion_id.in_(query.with_only_columns(Suggestion.id).order_by(None)))).all())
    anchors = {suggestion_id: (number, quote) for suggestion_id, number, quote in session.execute(
        sa.select(DraftComment.suggestion_id, DraftVersion.number, DraftComment.quote)
        .join(DraftVersion, DraftVersion.id == DraftComment.version_id)
        .where(DraftComment.suggestion_id.in_(query.with_only_columns(Suggestion.id).order_by(None))))}
    for suggestion in session.scalars(query.execution_options(yield_per=500)):
        version, quote = anchors[suggestion.id]
        yield (suggestion.id, url_for_proposal(suggestion.id), article_label, version, quote,
               mask_personal_data(suggestion.title), mask_personal_data(suggestion.body), suggestion.message_type,
               suggestion.status,
               suggestion.support_count, suggestion.oppose_count, cluster_of.get(suggestion.id),
               suggestion.created_at.isoformat(timespec="seconds"))
