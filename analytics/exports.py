"""Open data: public proposals, replies, rating aggregates, clusters and outcomes as CSV and JSON.

What goes out (docs/open-data.md is the same dictionary for people; ``DATASETS`` is the source of both):

- only public proposals (``PUBLIC_STATUSES``) of campaigns that are not drafts, and what hangs on them;
- no author identity: no usernames, display names, e-mail addresses or user ids, of citizens or staff;
  ratings only as counts per body and year, never one rater's rating or comment;
- every text value through ``core.privacy.mask_personal_data`` (phone, ID card numbers, e-mail addresses).

Rows are read in keyset batches and written as they come (a generator per dataset), so a large site is
exported without holding it in memory. CSV files are UTF-8 with a byte-order mark (spreadsheet programs then
read the Chinese right); JSON files hold an array of objects with the same keys, lists as arrays.
"""
import csv
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from accounts.models import Body
from campaigns.models import Campaign, CampaignStatus, Category
from core.extensions import db
from core.models import utcnow
from core.privacy import mask_personal_data
from outcomes.models import Milestone, PolicyOutcome, outcome_clusters, outcome_suggestions
from suggestions.deadlines import BEIJING, beijing_date
from suggestions.models import PUBLIC_STATUSES, Cluster, ClusterMember, Rating, Reply, Satisfaction, Suggestion

BATCH = 1000
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # integer, number, string, text, date, datetime, boolean, list of integers
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[int | None], Iterator[dict]]


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


def _moment(value: datetime | None) -> str | None:
    """A timestamp as ISO 8601 in Beijing time."""
    return value.astimezone(BEIJING).isoformat() if value is not None else None


def _day(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return (beijing_date(value) if isinstance(value, datetime) else value).isoformat()


def _masked(row: dict) -> dict:
    """Every text value of a row with personal data masked."""
    return {k: mask_personal_data(v) if isinstance(v, str) else v for k, v in row.items()}


# ---------------------------------------------------------------------------------------------- datasets

def campaigns(campaign_id: int | None = None) -> Iterator[dict]:
    """Campaigns that are not drafts."""
    query = (sa.select(Campaign.id, Campaign.title, Campaign.theme, Campaign.body_id, Body.name, Body.level,
                       Body.region, Campaign.region_scope, Campaign.status, Campaign.opens_at, Campaign.closes_at)
             .join(Body, Body.id == Campaign.body_id).where(Campaign.status != CampaignStatus.DRAFT))
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    for row in _keyset(query, Campaign.id):
        yield _masked({"id": row.id, "title": row.title, "theme": row.theme, "body_id": row.body_id,
                       "body": row.name, "body_level": row.level, "body_region": row.region,
                       "region": row.region_scope, "status": row.status, "opens_at": _moment(row.opens_at),
                       "closes_at": _moment(row.closes_at)})


def proposals(campaign_id: int | None = None) -> Iterator[dict]:
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
        query = query.where(Suggestion.campaign_id == campaign_id)
    for row in _keyset(query, Suggestion.id):
        yield _masked({
            "id": row.id, "campaign_id": row.campaign_id, "campaign": row.campaign, "category_code": row.code,
            "category": row.category, "message_type": row.message_type, "title": row.title, "body": row.body,
            "status": row.status, "support_count": row.support_count, "oppose_count": row.oppose_count,
            "created_at": _moment(row.created_at), "accepted_at": _moment(row.accepted_at),
            "handling_body_id": row.handling_body_id, "handling_body": row.handling_body,
            "first_reply_on": _day(row.first_replied_at), "handling_days": row.handling_days,
            "handling_working_days": row.handling_working_days, "source": row.source or None,
            "source_ref": row.source_ref})


def replies(campaign_id: int | None = None) -> Iterator[dict]:
    """Official replies to public proposals."""
    query = (sa.select(Reply.id, Reply.suggestion_id, Reply.body_id, Body.name, Reply.decision, Reply.created_at,
                       Reply.content)
             .join(Suggestion, Suggestion.id == Reply.suggestion_id)
             .join(Campaign, Campaign.id == Suggestion.campaign_id)
             .join(Body, Body.id == Reply.body_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    for row in _keyset(query, Reply.id):
        yield _masked({"id": row.id, "proposal_id": row.suggestion_id, "body_id": row.body_id, "body": row.name,
                       "decision": row.decision, "replied_at": _moment(row.created_at),
                       "replied_on": _day(row.created_at), "content": row.content})


def ratings(campaign_id: int | None = None) -> Iterator[dict]:
    """Ratings of replies to public proposals, counted per replying body and Beijing year of the rating."""
    query = (sa.select(Rating.id, Rating.body_id, Rating.created_at, Rating.satisfaction)
             .join(Suggestion, Suggestion.id == Rating.suggestion_id)
             .join(Campaign, Campaign.id == Suggestion.campaign_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
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


def clusters(campaign_id: int | None = None) -> Iterator[dict]:
    """Clusters of near-duplicate public proposals (two or more public members, a public representative)."""
    query = (sa.select(Cluster.id, Cluster.campaign_id, Cluster.representative_id, Cluster.supporter_count,
                       Cluster.keywords, Cluster.confirmed_at)
             .join(Suggestion, Suggestion.id == Cluster.representative_id)
             .join(Campaign, Campaign.id == Cluster.campaign_id).where(*_public_proposals()))
    if campaign_id is not None:
        query = query.where(Cluster.campaign_id == campaign_id)
    batch: list[sa.Row] = []

    def emit(rows: list[sa.Row]) -> Iterator[dict]:
        members = _members([row.id for row in rows])
        for row in rows:
            ids = members.get(row.id, [])
            if len(ids) >= 2:
                yield _masked({"id": row.id, "campaign_id": row.campaign_id,
                               "representative_id": row.representative_id, "size": len(ids),
                               "supporter_count": row.supporter_count, "keywords": row.keywords,
                               "confirmed": row.confirmed_at is not None, "member_ids": ids})
    for row in _keyset(query, Cluster.id):
        batch.append(row)
        if len(batch) >= BATCH:
            yield from emit(batch)
            batch = []
    if batch:
        yield from emit(batch)


def _outcome_links(outcome_ids: list[int], campaign_id: int | None) -> tuple[dict, dict]:
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
        proposals_q = proposals_q.where(Suggestion.campaign_id == campaign_id)
        clusters_q = clusters_q.where(Cluster.campaign_id == campaign_id)
    linked_proposals: dict[int, list[int]] = defaultdict(list)
    linked_clusters: dict[int, list[int]] = defaultdict(list)
    for outcome_id, suggestion_id in db.session.execute(proposals_q.order_by(*proposals_q.selected_columns)):
        linked_proposals[outcome_id].append(suggestion_id)
    for outcome_id, cluster_id in db.session.execute(clusters_q.order_by(*clusters_q.selected_columns)):
        linked_clusters[outcome_id].append(cluster_id)
    return linked_proposals, linked_clusters


def _outcome_ids_of_campaign(campaign_id: int) -> sa.Select:
    through_proposals = (sa.select(outcome_suggestions.c.outcome_id)
                         .join(Suggestion, Suggestion.id == outcome_suggestions.c.suggestion_id)
                         .where(Suggestion.campaign_id == campaign_id, Suggestion.status.in_(PUBLIC_STATUSES)))
    through_clusters = (sa.select(outcome_clusters.c.outcome_id)
                        .join(Cluster, Cluster.id == outcome_clusters.c.cluster_id)
                        .where(Cluster.campaign_id == campaign_id))
    return sa.union(through_proposals, through_clusters)


def outcomes(campaign_id: int | None = None) -> Iterator[dict]:
    """Policy outcomes (all of them; of one campaign: those linked to its public proposals or clusters)."""
    query = (sa.select(PolicyOutcome.id, PolicyOutcome.title, PolicyOutcome.document_name,
                       PolicyOutcome.document_number, PolicyOutcome.issuing_body_id, Body.name,
                       PolicyOutcome.issued_on, PolicyOutcome.link, PolicyOutcome.clause, PolicyOutcome.stage,
                       PolicyOutcome.progress, PolicyOutcome.created_at)
             .join(Body, Body.id == PolicyOutcome.issuing_body_id))
    if campaign_id is not None:
        query = query.where(PolicyOutcome.id.in_(_outcome_ids_of_campaign(campaign_id)))
    rows: list[sa.Row] = []

    def emit(batch: list[sa.Row]) -> Iterator[dict]:
        linked_proposals, linked_clusters = _outcome_links([row.id for row in batch], campaign_id)
        for row in batch:
            yield _masked({"id": row.id, "title": row.title, "document_name": row.document_name,
                           "document_number": row.document_number, "issuing_body_id": row.issuing_body_id,
                           "issuing_body": row.name, "issued_on": _day(row.issued_on), "link": row.link,
                           "clause": row.clause, "stage": row.stage, "progress": row.progress,
                           "recorded_on": _day(row.created_at), "proposal_ids": linked_proposals.get(row.id, []),
                           "cluster_ids": linked_clusters.get(row.id, [])})
    for row in _keyset(query, PolicyOutcome.id):
        rows.append(row)
        if len(rows) >= BATCH:
            yield from emit(rows)
            rows = []
    if rows:
        yield from emit(rows)


def milestones(campaign_id: int | None = None) -> Iterator[dict]:
    """The dated steps of the exported outcomes."""
    query = sa.select(Milestone.id, Milestone.outcome_id, Milestone.happened_on, Milestone.title, Milestone.note)
    if campaign_id is not None:
        query = query.where(Milestone.outcome_id.in_(_outcome_ids_of_campaign(campaign_id)))
    for row in _keyset(query, Milestone.id):
        yield _masked({"id": row.id, "outcome_id": row.outcome_id, "happened_on": _day(row.happened_on),
                       "title": row.title, "note": row.note})


# ------------------------------------------------------------------------------------------ the dictionary

def _cols(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


_TIME = "ISO 8601 with the Beijing offset (+08:00)"
DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("campaigns", "Campaigns (征集活动) that are not drafts.", _cols(
        ("id", "integer", "Campaign id."),
        ("title", "string", "Campaign title."),
        ("theme", "string", "Theme of the campaign."),
        ("body_id", "integer", "Id of the body (人大, 政协, department) running the campaign."),
        ("body", "string", "Name of that body."),
        ("body_level", "string", "Level of the body: national, provincial, municipal, county."),
        ("body_region", "string", "Region of the body."),
        ("region", "string", "Region the campaign covers."),
        ("status", "string", "open, closed or archived."),
        ("opens_at", "datetime", f"When the campaign opens, {_TIME}."),
        ("closes_at", "datetime", f"When it closes, {_TIME}; empty for a standing campaign.")), campaigns),
    Dataset("proposals", "Public proposals and messages (published, accepted, replied or closed); pending, "
            "rejected, withdrawn and hidden ones never appear. No author identity.", _cols(
        ("id", "integer", "Proposal id (as in the proposal's address on the site)."),
        ("campaign_id", "integer", "Campaign id (campaigns file)."),
        ("campaign", "string", "Campaign title."),
        ("category_code", "string", "Category code."),
        ("category", "string", "Category name."),
        ("message_type", "string", "suggestion (建议), complaint (投诉), help (求助), question (咨询), thanks (感谢)."),
        ("title", "text", "Title, personal data masked."),
        ("body", "text", "Text of the proposal, personal data masked."),
        ("status", "string", "published, accepted (受理), replied or closed."),
        ("support_count", "integer", "Citizens supporting it."),
        ("oppose_count", "integer", "Citizens opposing it (0 where the campaign takes no opposing votes)."),
        ("created_at", "datetime", f"When it was written, {_TIME}."),
        ("accepted_at", "datetime", f"When the handling body accepted it (受理), {_TIME}; empty if not yet."),
        ("handling_body_id", "integer", "Id of the handling body; empty until accepted."),
        ("handling_body", "string", "Name of the handling body."),
        ("first_reply_on", "date", "Beijing date of the first official reply; empty if none yet."),
        ("handling_days", "integer", "Calendar days from acceptance to the first reply (Beijing dates); empty "
         "when not replied, or when an imported reply predates its message."),
        ("handling_working_days", "integer", "The same in working days on China's holiday calendar."),
        ("source", "string", "For messages imported from an earlier board: its name; empty when written here."),
        ("source_ref", "string", "The message's number on that board.")), proposals),
    Dataset("replies", "Official replies to public proposals, with their decisions.", _cols(
        ("id", "integer", "Reply id."),
        ("proposal_id", "integer", "The proposal replied to (proposals file)."),
        ("body_id", "integer", "Id of the replying body."),
        ("body", "string", "Name of the replying body."),
        ("decision", "string", "adopted (采纳), partly_adopted (部分采纳), under_study (研究办理), explained "
         "(解释说明), not_adopted (不予采纳), not_recorded (imported from a board that recorded none)."),
        ("replied_at", "datetime", f"When the reply was published, {_TIME}."),
        ("replied_on", "date", "Its Beijing date."),
        ("content", "text", "Text of the reply, personal data masked.")), replies),
    Dataset("ratings", "Citizens' ratings of replies to public proposals, counted per replying body and year "
            "(never an individual rating or comment).", _cols(
        ("body_id", "integer", "Id of the body whose replies were rated."),
        ("body", "string", "Name of that body."),
        ("year", "integer", "Beijing year of the ratings."),
        ("rated", "integer", "Ratings given."),
        ("satisfied", "integer", "Rated satisfied (满意)."),
        ("basically_satisfied", "integer", "Rated basically satisfied (基本满意)."),
        ("unsatisfied", "integer", "Rated unsatisfied (不满意)."),
        ("satisfaction", "number", "(satisfied + basically_satisfied) / rated.")), ratings),
    Dataset("clusters", "Groups of near-duplicate public proposals of one campaign (two or more public "
            "members).", _cols(
        ("id", "integer", "Cluster id."),
        ("campaign_id", "integer", "Campaign id."),
        ("representative_id", "integer", "The proposal shown for the group."),
        ("size", "integer", "Public proposals in the group."),
        ("supporter_count", "integer", "Distinct citizens supporting any member (each counted once)."),
        ("keywords", "string", "Top words of the group, space-separated."),
        ("confirmed", "boolean", "Staff confirmed the grouping."),
        ("member_ids", "list of integers", "Ids of the member proposals (space-separated in CSV).")), clusters),
    Dataset("outcomes", "Policy outcomes: what adopted proposals became (document, clause, stage, progress).",
            _cols(
        ("id", "integer", "Outcome id."),
        ("title", "text", "Title."),
        ("document_name", "string", "Name of the policy document."),
        ("document_number", "string", "Its number (文号)."),
        ("issuing_body_id", "integer", "Id of the issuing body."),
        ("issuing_body", "string", "Name of the issuing body."),
        ("issued_on", "date", "Date the document was issued."),
        ("link", "string", "Address of the document."),
        ("clause", "text", "The article or clause concerned."),
        ("stage", "string", "adopted, drafting, issued, implementing, completed."),
        ("progress", "integer", "Progress, 0 to 100."),
        ("recorded_on", "date", "Beijing date the outcome was recorded."),
        ("proposal_ids", "list of integers", "Public proposals linked to it (space-separated in CSV)."),
        ("cluster_ids", "list of integers", "Clusters linked to it (space-separated in CSV).")), outcomes),
    Dataset("milestones", "Dated steps of the outcomes.", _cols(
        ("id", "integer", "Milestone id."),
        ("outcome_id", "integer", "Outcome id (outcomes file)."),
        ("happened_on", "date", "Date of the step."),
        ("title", "text", "What happened."),
        ("note", "text", "Details.")), milestones),
)}

NOTES = ["Only public proposals of campaigns that are not drafts, and what hangs on them.",
         "No author identity: no usernames, display names, e-mail addresses or user ids.",
         "Phone numbers, ID card numbers and e-mail addresses in any text are masked (e.g. 138****5678).",
         "CSV: UTF-8 with a byte-order mark, a header row, empty cells for missing values, lists space-separated. "
         "JSON: an array of objects with the same keys, null for missing values, lists as arrays.",
         "figures.json holds the headline figures of the same scope, defined in docs/metrics.md."]


def dictionary(campaign_id: int | None = None) -> dict:
    """The data dictionary shipped with every export (data-dictionary.json)."""
    return {
        "title": "Jianyan open data",
        "scope": {"campaign_id": campaign_id},
        "generated_at": _moment(utcnow()),
        "notes": NOTES,
        "files": {f"{d.name}.csv / {d.name}.json": {
            "description": d.description,
            "columns": [{"name": c.name, "type": c.type, "description": c.description} for c in d.columns]}
            for d in DATASETS.values()} | {
            "figures.json": {"description": "Headline figures (docs/metrics.md): messages, suggestion share, "
                             "handling days, reply rate, satisfaction, adoption, overdue, participants.",
                             "columns": []}},
    }


def figures(campaign_id: int | None = None) -> dict:
    """The headline figures of the export's scope, from the one definition in ``analytics.metrics``."""
    from analytics.metrics import Scope, headline
    from analytics.rollup import ensure_fresh

    ensure_fresh()
    return {"scope": {"campaign_id": campaign_id}, "figures": headline(Scope(campaign_id=campaign_id))}


# ------------------------------------------------------------------------------------------------ writers

def csv_value(value) -> str:
    """A value as a CSV cell. Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
    apostrophe (OWASP's advice for CSV injection): the files are meant for Excel and WPS."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    elif not isinstance(value, str):
        return str(value)
    return "'" + value if value[:1] in FORMULA_STARTS else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_chunks(dataset: Dataset, campaign_id: int | None = None) -> Iterator[str]:
    """The dataset as CSV text in chunks: a byte-order mark, the header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.name for c in dataset.columns])
    names = [c.name for c in dataset.columns]
    for i, row in enumerate(dataset.rows(campaign_id), 1):
        writer.writerow([csv_value(row[name]) for name in names])
        if i % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(dataset: Dataset, campaign_id: int | None = None) -> Iterator[str]:
    """The dataset as a JSON array of objects, one row a chunk."""
    yield "["
    for i, row in enumerate(dataset.rows(campaign_id)):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def chunks(name: str, fmt: str, campaign_id: int | None = None) -> Iterator[str]:
    dataset = DATASETS[name]
    return csv_chunks(dataset, campaign_id) if fmt == "csv" else json_chunks(dataset, campaign_id)


def write_export(out_dir: str, campaign_id: int | None = None) -> dict[str, int | None]:
    """Write every dataset as CSV and JSON, data-dictionary.json and figures.json into ``out_dir``; returns
    the rows written per file."""
    os.makedirs(out_dir, exist_ok=True)
    written: dict[str, int | None] = {}
    for name in DATASETS:
        for fmt in FORMATS:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            with open(path, "w", encoding="utf-8", newline="") as handle:
                for chunk in chunks(name, fmt, campaign_id):
                    handle.write(chunk)
            db.session.rollback()  # end the read transaction between files
        written[f"{name}.csv, {name}.json"] = _count_rows(os.path.join(out_dir, f"{name}.json"))
    for filename, content in (("data-dictionary.json", dictionary(campaign_id)),
                              ("figures.json", figures(campaign_id))):
        with open(os.path.join(out_dir, filename), "w", encoding="utf-8") as handle:
            json.dump(content, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        written[filename] = None
    return written


def _count_rows(json_path: str) -> int:
    with open(json_path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.startswith("{"))
