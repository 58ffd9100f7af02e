"""The open-data rows: one generator per dataset, of public data only, every text masked (see exports.py for
what goes out and docs/open-data.md for the columns). Rows are read in keyset batches."""
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from accounts.models import Body
from campaigns.models import Campaign, CampaignStatus, Category
from core.extensions import db
from core.privacy import mask_personal_data
from outcomes.models import Milestone, PolicyOutcome, outcome_clusters, outcome_suggestions
from suggestions.deadlines import BEIJING, beijing_date
from suggestions.models import PUBLIC_STATUSES, Cluster, ClusterMember, Rating, Reply, Satisfaction, Suggestion

BATCH = 1000


Campaigns = int | tuple[int, ...] | None
"""The scope of an export: None (the whole site), one campaign's id, or several (a local edition's campaigns)."""


def within(column, campaigns: Campaigns):
    """A condition: ``column`` (a campaign id) is the campaign, or one of the campaigns, of the scope."""
    return column.in_(campaigns) if isinstance(campaigns, tuple) else column == campaigns


def _public_proposals():
    return (Suggestion.status.in_(PUBLIC_STATUSES), Campaign.status != CampaignStatus.DRAFT)


def is_exportable(campaign: Campaign) -> bool:
    """A campaign's data is public once it is no longer a draft."""
    return campaign.status != CampaignStatus.DRAFT


def _keyset(query: sa.Select, key, batch: int = BATCH) -> Iterator[sa.Row]:
    """Rows of ``query`` in batches ordered by ``key`` (the first selected column), one short query each."""
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = db.session.execute(page.order_by(key).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _batches(rows: Iterator[sa.Row]) -> Iterator[list[sa.Row]]:
    """Rows in lists of BATCH, for datasets that look up each batch's links in one query."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def moment(value: datetime | None) -> str | None:
    """A timestamp as ISO 8601 in Beijing time."""
    return value.astimezone(BEIJING).isoformat() if value is not None else None


def _day(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return (beijing_date(value) if isinstance(value, datetime) else value).isoformat()


def _masked(row: dict, official: bool = False) -> dict:
    """Every text value of a row with personal data masked (``official``: a body's own text, whose landlines are
    its office lines)."""
    return {k: mask_personal_data(v, official=official) if isinstance(v, str) else v for k, v in row.items()}


# ---------------------------------------------------------------------------------------------- datasets

def campaigns(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Campaigns that are not drafts."""
    query = (sa.select(Campaign.id, Campaign.title, Campaign.theme, Campaign.body_id, Body.name, Body.level,
                       Body.region, Campaign.region_scope, Campaign.status, Campaign.opens_at, Campaign.closes_at)
             .join(Body, Body.id == Campaign.body_id).where(Campaign.status != CampaignStatus.DRAFT))
    if campaign_id is not None:
        query = query.where(within(Campaign.id, campaign_id))
    for row in _keyset(query, Campaign.id):
        yield _masked({"id": row.id, "title": row.title, "theme": row.theme, "body_id": row.body_id,
                       "body": row.name, "body_level": row.level, "body_region": row.region,
                       "region": row.region_scope, "status": row.status, "opens_at": moment(row.opens_at),
                       "closes_at": moment(row.closes_at)})


def proposals(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Public proposals with their counts and handling."""
    handler = aliased(Body)
    query = (sa.select(Suggestion.id, Suggestion.campaign_id, Campaign.title.label("campaign"), Category.code,
                       Category.name.label("category"), Suggestion.message_type, Suggestion.title, Suggestion.body,
                       Suggestion.status, Suggestion.support_count, Suggestion.oppose_count, Suggestion.created_at,
                       Suggestion.accepted_at, Suggestion.handling_body_id, handler.name.label("handling_body"),
                       Suggestion.first_replied_at, Suggestion.handling_days, Suggestion.handling_working_days,
                       Suggestion.source, Suggestion.source_ref)
             .join(Campaign, Campaign.id == Suggestion.campaign_id)
             .join(Category, Category.id == Suggestion.category_id)
             .outerjoin(handler, handler.id == Suggestion.handling_body_id)
             .where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(within(Suggestion.campaign_id, campaign_id))
    for row in _keyset(query, Suggestion.id):
        yield _masked({
            "id": row.id, "campaign_id": row.campaign_id, "campaign": row.campaign, "category_code": row.code,
            "category": row.category, "message_type": row.message_type, "title": row.title, "body": row.body,
            "status": row.status, "support_count": row.support_count, "oppose_count": row.oppose_count,
            "created_at": moment(row.created_at), "accepted_at": moment(row.accepted_at),
            "handling_body_id": row.handling_body_id, "handling_body": row.handling_body,
            "first_reply_on": _day(row.first_replied_at), "handling_days": row.handling_days,
            "handling_working_days": row.handling_working_days, "source": row.source or None,
            "source_ref": row.source_ref})


def replies(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Official replies to public proposals (a reply a moderator hid keeps its decision; its text is empty)."""
    query = (sa.select(Reply.id, Reply.suggestion_id, Reply.body_id, Body.name, Reply.decision, Reply.created_at,
                       sa.case((Reply.hidden_at.is_(None), Reply.content), else_="").label("content"))
             .join(Suggestion, Suggestion.id == Reply.suggestion_id)
             .join(Campaign, Campaign.id == Suggestion.campaign_id)
             .join(Body, Body.id == Reply.body_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(within(Suggestion.campaign_id, campaign_id))
    for row in _keyset(query, Reply.id):
        yield _masked({"id": row.id, "proposal_id": row.suggestion_id, "body_id": row.body_id, "body": row.name,
                       "decision": row.decision, "replied_at": moment(row.created_at),
                       "replied_on": _day(row.created_at), "content": row.content}, official=True)


def ratings(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Ratings of replies to public proposals, counted per replying body and Beijing year of the rating."""
    query = (sa.select(Rating.id, Rating.body_id, Rating.created_at, Rating.satisfaction)
             .join(Suggestion, Suggestion.id == Rating.suggestion_id)
             .join(Campaign, Campaign.id == Suggestion.campaign_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(within(Suggestion.campaign_id, campaign_id))
    counts: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for row in _keyset(query, Rating.id):
        counts[row.body_id, beijing_date(row.created_at).year][row.satisfaction] += 1
    names = dict(db.session.execute(sa.select(Body.id, Body.name).where(Body.id.in_({b for b, _ in counts}))).all())
    for (body_id, year), counter in sorted(counts.items()):
        rated = sum(counter.values())
        good = counter[Satisfaction.SATISFIED] + counter[Satisfaction.BASICALLY_SATISFIED]
        yield _masked({"body_id": body_id, "body": names.get(body_id), "year": year, "rated": rated,
                       "satisfied": counter[Satisfaction.SATISFIED],
                       "basically_satisfied": counter[Satisfaction.BASICALLY_SATISFIED],
                       "unsatisfied": counter[Satisfaction.UNSATISFIED], "satisfaction": good / rated})


def _members(cluster_ids: list[int]) -> dict[int, list[int]]:
    rows = db.session.execute(
        sa.select(ClusterMember.cluster_id, ClusterMember.suggestion_id)
        .join(Suggestion, Suggestion.id == ClusterMember.suggestion_id)
        .where(ClusterMember.cluster_id.in_(cluster_ids), Suggestion.status.in_(PUBLIC_STATUSES))
        .order_by(ClusterMember.cluster_id, ClusterMember.suggestion_id))
    members: dict[int, list[int]] = defaultdict(list)
    for cluster_id, suggestion_id in rows:
        members[cluster_id].append(suggestion_id)
    return members


def clusters(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Clusters of near-duplicate public proposals (two or more public members, a public representative)."""
    query = (sa.select(Cluster.id, Cluster.campaign_id, Cluster.representative_id, Cluster.supporter_count,
                       Cluster.keywords, Cluster.confirmed_at)
             .join(Suggestion, Suggestion.id == Cluster.representative_id)
             .join(Campaign, Campaign.id == Cluster.campaign_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(within(Cluster.campaign_id, campaign_id))

    def emit(rows: list[sa.Row]) -> Iterator[dict]:
        members = _members([row.id for row in rows])
        for row in rows:
            ids = members.get(row.id, [])
            if len(ids) >= 2:
                yield _masked({"id": row.id, "campaign_id": row.campaign_id,
                               "representative_id": row.representative_id, "size": len(ids),
                               "supporter_count": row.supporter_count, "keywords": row.keywords,
                               "confirmed": row.confirmed_at is not None, "member_ids": ids})
    for batch in _batches(_keyset(query, Cluster.id)):
        yield from emit(batch)


def _outcome_links(outcome_ids: list[int], campaign_id: Campaigns) -> tuple[dict, dict]:
    proposals_q = (sa.select(outcome_suggestions.c.outcome_id, outcome_suggestions.c.suggestion_id)
                   .join(Suggestion, Suggestion.id == outcome_suggestions.c.suggestion_id)
                   .join(Campaign, Campaign.id == Suggestion.campaign_id)
                   .where(outcome_suggestions.c.outcome_id.in_(outcome_ids), *_public_proposals()))
    clusters_q = (sa.select(outcome_clusters.c.outcome_id, outcome_clusters.c.cluster_id)
                  .join(Cluster, Cluster.id == outcome_clusters.c.cluster_id)
                  .join(Suggestion, Suggestion.id == Cluster.representative_id)
                  .join(Campaign, Campaign.id == Cluster.campaign_id)
                  .where(outcome_clusters.c.outcome_id.in_(outcome_ids), *_public_proposals()))
    if campaign_id is not None:
        proposals_q = proposals_q.where(within(Suggestion.campaign_id, campaign_id))
        clusters_q = clusters_q.where(within(Cluster.campaign_id, campaign_id))
    linked_proposals: dict[int, list[int]] = defaultdict(list)
    linked_clusters: dict[int, list[int]] = defaultdict(list)
    for outcome_id, suggestion_id in db.session.execute(proposals_q.order_by(*proposals_q.selected_columns)):
        linked_proposals[outcome_id].append(suggestion_id)
    for outcome_id, cluster_id in db.session.execute(clusters_q.order_by(*clusters_q.selected_columns)):
        linked_clusters[outcome_id].append(cluster_id)
    return linked_proposals, linked_clusters


def _outcome_ids_of_campaign(campaign_id: int | tuple[int, ...]) -> sa.Select:
    through_proposals = (sa.select(outcome_suggestions.c.outcome_id)
                         .join(Suggestion, Suggestion.id == outcome_suggestions.c.suggestion_id)
                         .where(within(Suggestion.campaign_id, campaign_id), Suggestion.status.in_(PUBLIC_STATUSES)))
    through_clusters = (sa.select(outcome_clusters.c.outcome_id)
                        .join(Cluster, Cluster.id == outcome_clusters.c.cluster_id)
                        .where(within(Cluster.campaign_id, campaign_id)))
    return sa.union(through_proposals, through_clusters)


def outcomes(campaign_id: Campaigns = None) -> Iterator[dict]:
    """Policy outcomes (all of them; of one campaign: those linked to its public proposals or clusters)."""
    query = (sa.select(PolicyOutcome.id, PolicyOutcome.title, PolicyOutcome.document_name,
                       PolicyOutcome.document_number, PolicyOutcome.issuing_body_id, Body.name,
                       PolicyOutcome.issued_on, PolicyOutcome.link, PolicyOutcome.clause, PolicyOutcome.stage,
                       PolicyOutcome.progress, PolicyOutcome.created_at)
             .join(Body, Body.id == PolicyOutcome.issuing_body_id))
    if campaign_id is not None:
        query = query.where(PolicyOutcome.id.in_(_outcome_ids_of_campaign(campaign_id)))

    def emit(batch: list[sa.Row]) -> Iterator[dict]:
        linked_proposals, linked_clusters = _outcome_links([row.id for row in batch], campaign_id)
        for row in batch:
            yield _masked({"id": row.id, "title": row.title, "document_name": row.document_name,
                           "document_number": row.document_number, "issuing_body_id": row.issuing_body_id,
                           "issuing_body": row.name, "issued_on": _day(row.issued_on), "link": row.link,
                           "clause": row.clause, "stage": row.stage, "progress": row.progress,
                           "recorded_on": _day(row.created_at), "proposal_ids": linked_proposals.get(row.id, []),
                           "cluster_ids": linked_clusters.get(row.id, [])})
    for batch in _batches(_keyset(query, PolicyOutcome.id)):
        yield from emit(batch)


def milestones(campaign_id: Campaigns = None) -> Iterator[dict]:
    """The dated steps of the exported outcomes."""
    query = sa.select(Milestone.id, Milestone.outcome_id, Milestone.happened_on, Milestone.title, Milestone.note)
    if campaign_id is not None:
        query = query.where(Milestone.outcome_id.in_(_outcome_ids_of_campaign(campaign_id)))
    for row in _keyset(query, Milestone.id):
        yield _masked({"id": row.id, "outcome_id": row.outcome_id, "happened_on": _day(row.happened_on),
                       "title": row.title, "note": row.note})
