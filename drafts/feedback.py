"""What the comments changed: the drafting team's decision on each cluster of comments (采纳, 部分采纳, 不予采纳)
with its reason, linked to the article and version it changed; and the public feedback report built from them
(意见采纳情况说明). The figures are defined in docs/metrics.md ("Draft consultations")."""
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer, selectinload

from accounts.models import User
from accounts.permissions import require_body_manager
from core import audit
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.models import utcnow
from core.privacy import mask_personal_data
from core.text import clean_text
from drafts.models import Decision, Draft, DraftComment, DraftDecision, DraftProvision
from drafts.services import article_history, article_table, require_draft_staff
from suggestions.cluster_models import Cluster, ClusterMember
from suggestions.models import Suggestion

REASON_MAX_LENGTH = 1000
SHOWN = (Suggestion.id, Suggestion.title, Suggestion.status)  # what the report shows of a decision's comment
INTRODUCTION_MAX_LENGTH = 5000


def current_groups(draft: Draft, records: list[DraftDecision]) -> dict[int, int]:
    """The cluster that is each decision's group now, by decision id: the one holding the comment that represented
    the group when it was decided; if that comment is in no cluster now (withdrawn, hidden), the one holding most
    of the group's other comments (a tie: the lower cluster id). A decision none of whose comments is in a
    cluster has none."""
    wanted = {r.id for r in records}
    groups = {decision_id: cluster_id for decision_id, cluster_id in db.session.execute(
        sa.select(DraftDecision.id, ClusterMember.cluster_id)
        .join(ClusterMember, ClusterMember.suggestion_id == DraftDecision.suggestion_id)
        .where(DraftDecision.draft_id == draft.id)) if decision_id in wanted}
    strays = [r for r in records if r.id not in groups]
    others = {i for r in strays for i in r.comment_ids or []}
    if others:
        holder = dict(db.session.execute(sa.select(ClusterMember.suggestion_id, ClusterMember.cluster_id)
                                         .where(ClusterMember.suggestion_id.in_(others))).all())
        for record in strays:
            votes = Counter(holder[i] for i in record.comment_ids if i in holder)
            if votes:
                groups[record.id] = min(votes, key=lambda cluster_id: (-votes[cluster_id], cluster_id))
    return groups


def decide_cluster(actor: User, draft: Draft, cluster: Cluster, *, article_id: int | None, decision: str,
                   reason: str) -> DraftDecision:
    """Record (or change) the decision on a cluster of comments about ``article_id`` (None: the whole draft); the
    decision is held by a comment of the cluster (its representative when on the article), so it outlives the
    cluster's rebuilding. An adopted or partly adopted cluster is linked to the current version's change when a
    later version than the first exists, else to the next version imported (``link_pending_decisions``). A cluster
    with comments on two articles takes a decision on each. Staff of the campaign's body; audit-logged."""
    require_draft_staff(actor, draft)
    if cluster.campaign_id != draft.campaign_id:
        raise InvalidInput(_l("This group of comments is not about this draft."))
    if decision not in Decision.__members__.values():
        raise InvalidInput(_l("Choose a decision."))
    reason = clean_text(reason, field=_l("Reason"), max_length=REASON_MAX_LENGTH, min_length=4, multiline=True)
    on_article = (DraftComment.article_id.is_(None) if article_id is None
                  else DraftComment.article_id == article_id)
    on_it = list(db.session.scalars(sa.select(DraftComment.suggestion_id)
                                    .join(ClusterMember, DraftComment.suggestion_id == ClusterMember.suggestion_id)
                                    .where(ClusterMember.cluster_id == cluster.id, DraftComment.draft_id == draft.id,
                                           on_article).order_by(DraftComment.suggestion_id)))
    if not on_it:
        raise InvalidInput(_l("None of this group's comments is on this article."))
    led_to = draft.current_version if decision != Decision.NOT_ADOPTED and len(draft.versions) > 1 else None
    members = sorted(db.session.scalars(sa.select(ClusterMember.suggestion_id).where(
        ClusterMember.cluster_id == cluster.id)))
    record = decisions_by_cluster(draft, article_id, [cluster.id]).get(cluster.id)  # deciding again changes it
    if record is None:
        # held by the representative when it is on the article, else by the group's first comment on it: a
        # group whose comments are on two articles takes a decision on each, and a comment holds one at most
        holder = cluster.representative_id if cluster.representative_id in on_it else on_it[0]
        record = DraftDecision(draft_id=draft.id, suggestion_id=holder)
        db.session.add(record)
    record.comment_ids = members
    record.article_id, record.decision, record.reason = article_id, decision, reason
    record.version_id, record.decided_by_id = (led_to.id if led_to else None), actor.id
    db.session.flush()
    audit.record(actor, "draft.decision", record, body_id=draft.campaign.body_id, cluster=cluster.id,
                 comment=record.suggestion_id, article=article_id, decision=decision,
                 version=led_to.number if led_to else None)
    return record


def link_pending_decisions(draft: Draft) -> int:
    """After a new version is imported: the adopted and partly adopted decisions not yet linked to a change (made
    while only the consulted version existed) are linked to it. Returns how many."""
    pending = list(db.session.scalars(sa.select(DraftDecision).where(
        DraftDecision.draft_id == draft.id, DraftDecision.version_id.is_(None),
        DraftDecision.decision != Decision.NOT_ADOPTED)))
    for record in pending:
        record.version_id = draft.current_version.id
    db.session.flush()
    return len(pending)


def publish_report(actor: User, draft: Draft, introduction: str) -> None:
    """Publish the feedback report with the drafting team's introduction (or update it once published):
    managers of the campaign's body."""
    require_body_manager(actor, draft.campaign.body_id)
    if not db.session.scalar(sa.select(sa.func.count()).select_from(DraftDecision)
                             .where(DraftDecision.draft_id == draft.id)):
        raise Conflict(_l("Record at least one decision on the comments before publishing the report."))
    draft.report_introduction = clean_text(introduction, field=_l("Introduction"),
                                           max_length=INTRODUCTION_MAX_LENGTH, min_length=10, multiline=True)
    first = draft.report_published_at is None
    draft.report_published_at = draft.report_published_at or utcnow()
    db.session.flush()
    audit.record(actor, "draft.report_publish" if first else "draft.report_update", draft,
                 body_id=draft.campaign.body_id)


def decisions_by_cluster(draft: Draft, article_id: int | None, cluster_ids: list[int]) -> dict[int, DraftDecision]:
    """The decisions on the article (None: the whole draft) whose group is now one of these clusters, by cluster
    id (the first made, if several). A cluster whose comments are on two articles has a decision for each."""
    on_article = (DraftDecision.article_id.is_(None) if article_id is None
                  else DraftDecision.article_id == article_id)
    records = list(db.session.scalars(sa.select(DraftDecision).where(DraftDecision.draft_id == draft.id, on_article)
                                      .order_by(DraftDecision.id)))
    groups = current_groups(draft, records)
    found: dict[int, DraftDecision] = {}
    for record in records:
        cluster_id = groups.get(record.id)
        if cluster_id in cluster_ids and cluster_id not in found:
            found[cluster_id] = record
    return found


@dataclass
class DecisionRow:
    decision: DraftDecision
    representative: Suggestion  # the comment shown for it (shown only when public)
    comments: int  # the public comments on this draft in its group (counted once, with the first decision)
    article: DraftProvision | None  # as the current version has it, else as the last version that had it


@dataclass
class FeedbackReport:
    participants: int = 0  # distinct authors of public comments
    comments: int = 0  # public comments
    articles_commented: int = 0  # articles of the current version with at least one public comment
    orphaned: int = 0  # public comments on articles the current version no longer has
    rows: list = field(default_factory=list)  # services.ArticleRow, the whole draft first
    decisions: dict[str, list[DecisionRow]] = field(default_factory=dict)  # per Decision, in its order
    comments_by_decision: dict[str, int] = field(default_factory=dict)


def decisions_of(draft: Draft) -> list[DecisionRow]:
    """The draft's decisions with a comment to show for each (the one that represented the group, else its
    group's representative now), the public comments of its group and its article (as the newest version that
    has it names it), in the order of the articles, the whole draft first."""
    records = list(db.session.scalars(sa.select(DraftDecision).where(DraftDecision.draft_id == draft.id)
                                      .options(selectinload(DraftDecision.suggestion).load_only(*SHOWN),
                                               defer(DraftDecision.comment_ids))
                                      .order_by(DraftDecision.id)))
    if not records:
        return []
    groups = current_groups(draft, records)
    comments = dict(db.session.execute(
        sa.select(ClusterMember.cluster_id, sa.func.count())
        .join(DraftComment, DraftComment.suggestion_id == ClusterMember.suggestion_id)
        .where(ClusterMember.cluster_id.in_(set(groups.values())), DraftComment.draft_id == draft.id,
               DraftComment.public)
        .group_by(ClusterMember.cluster_id)).all())
    clusters = {c.id: c for c in db.session.scalars(
        sa.select(Cluster).options(selectinload(Cluster.representative).load_only(*SHOWN))
        .where(Cluster.id.in_(set(groups.values()))))}
    latest: dict[int, DraftProvision] = {}
    for provision in article_history(draft, [r.article_id for r in records if r.article_id]):
        latest[provision.article_id] = provision  # the newest version's wins
    rows, counted = [], set()
    for record in records:
        cluster_id = groups.get(record.id)
        shown = record.suggestion
        if not shown.is_public and cluster_id is not None:
            shown = clusters[cluster_id].representative
        count = comments.get(cluster_id, 0) if cluster_id is not None and cluster_id not in counted else 0
        counted.add(cluster_id)  # two decisions whose comments were grouped later: counted with the first
        rows.append(DecisionRow(record, shown, count, latest.get(record.article_id)))
    return sorted(rows, key=lambda row: (row.article is not None, row.article.position if row.article else 0))


def feedback_report(draft: Draft) -> FeedbackReport:
    """The figures and decisions of the feedback report."""
    from drafts.services import orphaned_count
    report = FeedbackReport()
    report.participants, report.comments = db.session.execute(
        sa.select(sa.func.count(sa.func.distinct(Suggestion.author_id)), sa.func.count())
        .select_from(DraftComment).join(Suggestion, Suggestion.id == DraftComment.suggestion_id)
        .where(DraftComment.draft_id == draft.id, Suggestion.public)).one()
    report.rows = article_table(draft)
    report.articles_commented = sum(1 for row in report.rows if row.provision is not None and row.comments)
    report.orphaned = orphaned_count(draft)
    report.decisions = {decision: [] for decision in Decision}
    for row in decisions_of(draft):
        report.decisions[row.decision.decision].append(row)
    report.comments_by_decision = {decision: sum(r.comments for r in rows)
                                   for decision, rows in report.decisions.items()}
    return report


def published_reports() -> list[Draft]:
    """The drafts whose feedback report is published, newest first (listed with the open data)."""
    return list(db.session.scalars(sa.select(Draft).where(Draft.report_published_at.is_not(None))
                                   .order_by(Draft.report_published_at.desc())))


def report_data(draft: Draft, url_for_proposal) -> dict:
    """The report as open data (JSON): the same figures and decisions, with the definitions' names."""
    report = feedback_report(draft)
    return {
        "draft": {"id": draft.id, "title": draft.title, "campaign_id": draft.campaign_id,
                  "versions": [{"number": v.number, "title": v.title, "note": v.note,
                                "imported_at": v.created_at.isoformat(timespec="seconds")} for v in draft.versions],
                  "report_published_at": draft.report_published_at.isoformat(timespec="seconds")
                  if draft.report_published_at else None},
        "introduction": draft.report_introduction,
        "figures": {"participants": report.participants, "comments": report.comments,
                    "articles_commented": report.articles_commented, "orphaned_comments": report.orphaned,
                    "comments_by_decision": report.comments_by_decision,
                    "clusters_by_decision": {d: len(rows) for d, rows in report.decisions.items()}},
        "articles": [{"article": row.provision.title if row.provision else None, "comments": row.comments,
                      "commenters": row.commenters, "support": row.support} for row in report.rows],
        "decisions": [{"decision": row.decision.decision, "reason": row.decision.reason,
                       "article": row.article.title if row.article else None,
                       "changed_in_version": row.decision.version.number if row.decision.version else None,
                       "representative_comment": {"id": row.representative.id,
                                                  "title": mask_personal_data(row.representative.title),
                                                  "url": url_for_proposal(row.representative.id)}
                       if row.representative.is_public else None,
                       "comments": row.comments}
                      for rows in report.decisions.values() for row in rows],
    }
