"""Open data downloads: the whole site's or one campaign's datasets as CSV and JSON (``analytics.exports``)."""
import json

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l

from analytics import exports
from analytics.export_rows import is_exportable
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.params import record_id
from drafts.feedback import published_reports
from editions.models import Edition
from editions.services import all_editions, edition_by_code, edition_campaign_ids

bp = Blueprint("open_data", __name__, url_prefix="/open-data")

DATASET_LABELS = {"campaigns": _l("Campaigns"), "proposals": _l("Public proposals and messages"),
                  "replies": _l("Official replies and their decisions"),
                  "ratings": _l("Ratings of replies, counted per body and year"),
                  "clusters": _l("Clusters of similar proposals"), "outcomes": _l("Policy outcomes"),
                  "milestones": _l("Milestones of the policy outcomes")}
MIMETYPES = {"csv": "text/csv", "json": "application/json"}


def _campaign_or_404(campaign_id: int | None) -> Campaign | None:
    if campaign_id is None:
        return None
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not is_exportable(campaign):
        abort(404)
    return campaign


@bp.get("/")
def index():
    """The downloads of the whole site, and of one campaign when chosen."""
    campaign = _campaign_or_404(request.args.get("campaign", type=record_id))
    campaigns = db.session.scalars(sa.select(Campaign).where(Campaign.status != CampaignStatus.DRAFT)
                                   .order_by(Campaign.id.desc()))
    return render_template("open_data/index.html", datasets=exports.DATASETS, labels=DATASET_LABELS,
                           formats=exports.FORMATS, campaign=campaign, campaigns=list(campaigns),
                           editions=all_editions(), edition=edition_by_code(request.args.get("edition", "")[:12]),
                           draft_reports=published_reports())


def _download(filename: str, campaign: Campaign | None, edition: Edition | None = None) -> Response:
    campaign_id = campaign.id if campaign is not None else None
    prefix = (f"edition-{edition.code}-" if edition is not None
              else f"campaign-{campaign_id}-" if campaign_id is not None else "jianyan-")
    disposition = {"Content-Disposition": f'attachment; filename="{prefix}{filename}"'}
    if filename in ("data-dictionary.json", "figures.json"):
        content = exports.dictionary(campaign_id, edition) if filename == "data-dictionary.json" \
            else exports.figures(campaign_id, edition)
        return Response(json.dumps(content, ensure_ascii=False, indent=2) + "\n", mimetype="application/json",
                        headers=disposition)
    name, _, fmt = filename.rpartition(".")
    if name not in exports.DATASETS or fmt not in MIMETYPES:
        abort(404)
    chosen = tuple(edition_campaign_ids(edition)) if edition is not None else campaign_id
    return Response(stream_with_context(exports.chunks(name, fmt, chosen)), mimetype=MIMETYPES[fmt],
                    headers=disposition)


@bp.get("/<filename>")
def download(filename: str):
    """One file of the whole site's open data, streamed."""
    return _download(filename, None)


@bp.get("/editions/<code>/<filename>")
def edition_download(code: str, filename: str):
    """One file of a local edition's open data: its campaigns' datasets and its bodies' figures, streamed."""
    edition = edition_by_code(code[:12])
    if edition is None:
        abort(404)
    return _download(filename, None, edition)


@bp.get("/campaigns/<int:campaign_id>/<filename>")
def campaign_download(campaign_id: int, filename: str):
    """One file of a campaign's open data, streamed."""
    return _download(filename, _campaign_or_404(campaign_id))
