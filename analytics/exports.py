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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from analytics.export_rows import (
    Campaigns,
    campaigns,
    clusters,
    milestones,
    moment,
    outcomes,
    proposals,
    ratings,
    replies,
)
from core.extensions import db
from core.models import utcnow

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


def _scope(campaign_id, edition) -> dict:
    return {"edition": edition.code} if edition is not None else {"campaign_id": campaign_id}


def dictionary(campaign_id: int | None = None, edition=None) -> dict:
    """The data dictionary shipped with every export (data-dictionary.json)."""
    return {
        "title": "Jianyan open data",
        "scope": _scope(campaign_id, edition),
        "generated_at": moment(utcnow()),
        "notes": NOTES,
        "files": {f"{d.name}.csv / {d.name}.json": {
            "description": d.description,
            "columns": [{"name": c.name, "type": c.type, "description": c.description} for c in d.columns]}
            for d in DATASETS.values()} | {
            "figures.json": {"description": "Headline figures (docs/metrics.md): messages, suggestion share, "
                             "handling days, reply rate, satisfaction, adoption, overdue, participants.",
                             "columns": []}},
    }


def figures(campaign_id: int | None = None, edition=None) -> dict:
    """The headline figures of the export's scope (a campaign, a local edition's bodies, or the whole site), from
    the one definition in ``analytics.metrics``."""
    from analytics.metrics import Scope, headline
    from analytics.rollup import ensure_fresh

    ensure_fresh()
    scope = Scope(divisions=edition.prefix) if edition is not None else Scope(campaign_id=campaign_id)
    return {"scope": _scope(campaign_id, edition), "figures": headline(scope)}


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


def csv_chunks(dataset: Dataset, campaign_id: Campaigns = None) -> Iterator[str]:
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


def json_chunks(dataset: Dataset, campaign_id: Campaigns = None) -> Iterator[str]:
    """The dataset as a JSON array of objects, one row a chunk."""
    yield "["
    for i, row in enumerate(dataset.rows(campaign_id)):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def chunks(name: str, fmt: str, campaign_id: Campaigns = None) -> Iterator[str]:
    dataset = DATASETS[name]
    return csv_chunks(dataset, campaign_id) if fmt == "csv" else json_chunks(dataset, campaign_id)


def write_export(out_dir: str, campaign_id: int | None = None, edition=None) -> dict[str, int | None]:
    """Write every dataset as CSV and JSON, data-dictionary.json and figures.json into ``out_dir``; returns
    the rows written per file. With ``edition`` (editions.models.Edition), the datasets of its campaigns and the
    figures of its bodies."""
    chosen: Campaigns = campaign_id
    if edition is not None:
        from editions.services import edition_campaign_ids  # editions build on the figures
        chosen = tuple(edition_campaign_ids(edition))
    os.makedirs(out_dir, exist_ok=True)
    written: dict[str, int | None] = {}
    for name in DATASETS:
        for fmt in FORMATS:
            path = os.path.join(out_dir, f"{name}.{fmt}")
            with open(path, "w", encoding="utf-8", newline="") as handle:
                for chunk in chunks(name, fmt, chosen):
                    handle.write(chunk)
            db.session.rollback()  # end the read transaction between files
        written[f"{name}.csv, {name}.json"] = _count_rows(os.path.join(out_dir, f"{name}.json"))
    for filename, content in (("data-dictionary.json", dictionary(campaign_id, edition)),
                              ("figures.json", figures(campaign_id, edition))):
        with open(os.path.join(out_dir, filename), "w", encoding="utf-8") as handle:
            json.dump(content, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        written[filename] = None
    return written


def _count_rows(json_path: str) -> int:
    with open(json_path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.startswith("{"))
