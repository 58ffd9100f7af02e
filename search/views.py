"""The search page: one box, filters, facet counts, highlighted snippets, pagination."""
import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from campaigns.models import Campaign, Category
from core.extensions import db
from core.text import remove_format_characters
from search.backend import SORTS, SearchQuery
from search.directory import find_bodies, find_campaigns
from search.indexing import get_backend
from suggestions.models import PUBLIC_STATUSES, MessageType, Suggestion

bp = Blueprint("search", __name__, url_prefix="/search")
MAX_QUERY_LENGTH = 200


@bp.get("/")
def results():
    # Invisible format characters (bidi overrides, zero-width spaces) are dropped: the query is shown on the page.
    text = " ".join(remove_format_characters(request.args.get("q") or "").split())
    message = None
    if len(text) > MAX_QUERY_LENGTH:
        text, message = text[:MAX_QUERY_LENGTH], _("The query was shortened to %(n)d characters.",
                                                   n=MAX_QUERY_LENGTH)
    filters = _filters(request.args)
    edition = _edition_filter(request.args.get("edition", ""), filters)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "relevance"
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    result, campaigns_found, bodies_found = None, [], []
    if text:
        result = get_backend().search(SearchQuery(text=text, filters=filters, sort=sort, page=page,
                                                  per_page=current_app.config["PAGE_SIZE"]))
        if page == 1 and not filters and edition is None:
            campaigns_found, bodies_found = find_campaigns(text), find_bodies(text)
        if result.total == 0 and not campaigns_found and not bodies_found and message is None:
            message = _("Nothing matches “%(q)s”. Try fewer or other words.", q=text)
    elif "q" in request.args:
        message = _("Type one or more words to search for.")
    locale = str(get_locale())
    shown = _proposals_of(result.hits) if result else {}
    categories = {c.code: c.display_name(locale) for c in db.session.scalars(sa.select(Category))}
    campaigns = {str(c.id): c.title for c in db.session.scalars(sa.select(Campaign))}
    return render_template("search/results.html", q=text, result=result, message=message, filters=filters,
                           edition=edition,
                           sort=sort, categories=categories, campaigns=campaigns, markup=Markup,
                           campaigns_found=campaigns_found, bodies_found=bodies_found, locale=locale, shown=shown)


def _proposals_of(hits) -> dict[int, Suggestion]:
    """The hits' proposals with their campaigns, in one query, for the line under each hit (campaign, status,
    date, supports): the index holds the texts, the database the rest."""
    ids = [hit.id for hit in hits]
    rows = db.session.scalars(sa.select(Suggestion).options(joinedload(Suggestion.campaign))
                              .where(Suggestion.id.in_(ids), Suggestion.public == sa.true())) if ids else []
    return {row.id: row for row in rows}


def _edition_filter(code: str, filters: dict):
    """Search within a local edition: its campaigns (those of its bodies and those about its region), as the
    edition's home page lists them; a campaign filter outside the edition finds nothing. The edition, or None."""
    from editions.services import edition_by_code, edition_campaign_ids  # editions build on search's neighbours

    edition = edition_by_code(code[:12]) if code else None
    if edition is not None:
        ids = edition_campaign_ids(edition)
        chosen = filters.get("campaign_id")
        filters["campaign_id"] = tuple(str(i) for i in ids if chosen is None or str(i) == chosen)
    return edition


def _filters(args) -> dict:
    """Known filter values only; anything else is ignored rather than failing."""
    wanted = {"campaign_id": args.get("campaign", ""), "category": args.get("category", ""),
              "message_type": args.get("type", ""), "status": args.get("status", "")}
    valid = {"campaign_id": str.isdigit, "category": lambda v: v.isascii() and len(v) <= 32,
             "message_type": lambda v: v in MessageType.__members__.values(),
             "status": lambda v: v in PUBLIC_STATUSES}
    return {key: value for key, value in wanted.items() if value and valid[key](value)}
