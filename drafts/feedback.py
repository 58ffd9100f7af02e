"""What the comments changed: the drafting team's decision on each cluster of comments (采纳, 部分采纳, 不予采纳)
with its reason, linked to the article and version it changed; and the public feedback report built from them
(意见采纳情况说明). The figures are defined in docs/metrics.md ("Draft consultations")."""
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from core import audit
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.models import utcnow
from core.text import clean_text
from drafts.models import Decision, Draft, DraftComment, DraftDecision, DraftProvision
from drafts.services import article_table, require_draft_staff
from suggestions.cluster_models import Cluster, ClusterMember
from suggestions.models import Suggestion

REASON_MAX_LENGTH = 1000
INTRODUCTION_MAX_LENGTH = 5000


def decide_cluster(actor: User, draft: Draft, cluster: Cluster, *, article_id: int | None, decision: str,
                   reason: str) -> DraftDecision:
    """Record (or change) the decision on a cluster of comments about ``article_id`` (None: the whole draft).
    An adopted or partly adopted cluster is linked to the current version's change when there is a later
    version than the one consulted on. Staff of the campaign's body; audit-logged."""
    require_draft_staff(actor, draft)
    if cluster.campaign_id != draft.campaign_id:
        raise InvalidInput(_l("This group of comments is not about this draft."))
    if decision not in Decision.__members__.values():
        raise InvalidInput(_l("Choose a decision."))
    reason = clean_text(reason, field=_l("Reason"), max_length=REASON_MAX_LENGTH, min_length=4, multiline=True)
    if article_id is not None and db.session.scalar(
            sa.select(sa.func.count()).select_from(DraftProvision).join(DraftProvision.version)
            .where(DraftProvision.article_id == article_id, DraftProvision.version.has(draft_id=draft.id))) == 0:
        raise InvalidInput(_l("This article is not in this draft."))
    led_to = draft.current_version if decision != Decision.NOT_ADOPTED and len(draft.versions) > 1 else None
    record = db.session.scalar(sa.select(DraftDecision).where(DraftDecision.draft_id == draft.id,
                                                              DraftDecision.cluster_id == cluster.id))
    if record is None:
        record = DraftDecision(draft_id=draft.id, cluster_id=cluster.id)
        db.session.add(record)
    record.article_id, record.decision, record.reason = article_id, decision, reason
    record.version_id, record.decided_by_id = (led_to.id if led_to else None), actor.id
    db.session.flush()
    audit.record(actor, "draft.decision", record, body_id=draft.campaign.body_id, cluster=cluster.id,
                 article=article_id, decision=decision, version=led_to.number if led_to else None)
    return record


def publish_report(actor: User, draft: Draft, introduction: str) -> None:
    """Publish the feedback report with the drafting team's introduction (or update it once published)."""
    require_draft_staff(actor, draft)
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


def decisions_by_cluster(draft: Draft, cluster_ids: list[int]) -> dict[int, DraftDecision]:
    """The decisions already recorded on these clusters, by cluster id."""
    return {r.cluster_id: r for r in db.session.scalars(sa.select(DraftDecision).where(
        DraftDecision.draft_id == draft.id, DraftDecision.cluster_id.in_(cluster_ids)))}


@dataclass
class DecisionRow:
    decision: DraftDecision
    representative: Suggestion
    comments: int  # the cluster's members that comment on this draft (public ones)
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
    """The draft's decisions with their representative comment, comment count and article, by article order."""
    records = list(db.session.scalars(sa.select(DraftDecision).where(DraftDecision.draft_id == draft.id)
                                      .order_by(DraftDecision.id)))
    if not records:
        return []
    cluster_ids = [r.cluster_id for r in records]
    comments = dict(db.session.execute(
        sa.select(ClusterMember.cluster_id, sa.func.count())
        .join(DraftComment, DraftComment.suggestion_id == ClusterMember.suggestion_id)
        .join(Suggestion, Suggestion.id == ClusterMember.suggestion_id)
        .where(ClusterMember.cluster_id.in_(cluster_ids), DraftComment.draft_id == draft.id, Suggestion.public)
        .group_by(ClusterMember.cluster_id)).all())
    representatives = {c.id: c.representative for c in db.session.scalars(
        sa.select(Cluster).where(Cluster.id.in_(cluster_ids)))}
    latest: dict[int, DraftProvision] = {}
    for provision in db.session.scalars(
            sa.select(DraftProvision).join(DraftProvision.version)
            .where(DraftProvision.version.has(draft_id=draft.id),
                   DraftProvision.article_id.in_([r.article_id for r in records if r.article_id]))
            .order_by(DraftProvision.version_id)):
        latest[provision.article_id] = provision  # the newest version's wins
    rows = [DecisionRow(r, representatives[r.cluster_id], comments.get(r.cluster_id, 0), latest.get(r.article_id))
            for r in records]
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
                       "representative_comment": {"id": row.representative.id, "title": row.representative.title,
                                                  "url": url_for_proposal(row.representative.id)}
                       if row.representative.is_public else None,
                       "comments": row.comments}
                      for rows in report.decisions.values() for row in rows],
    }
