"""JSON API v1: public reads (bodies, campaigns, proposals, clusters, outcomes, metrics); with a personal API
token, submitting and supporting proposals through the same services as the pages (``api.write_views``).

Only an ``Authorization: Bearer <token>`` header authenticates: the session cookie is never read here, which is
why the blueprint can be exempt from CSRF protection. Every answer, errors included, is JSON.
"""
import re

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from accounts.models import Body, BodyKind, BodyLevel
from analytics.metrics import Scope, headline
from analytics.rollup import ensure_fresh
from api import serialize
from api.openapi import MAX_ID, MAX_PAGE, MAX_PER_PAGE, MAX_YEAR, MIN_YEAR, openapi_document
from campaigns.models import Campaign, CampaignStatus, Category, Phase
from campaigns.services import phase_condition
from core.errors import DomainError, InvalidInput, NotFound
from core.extensions import db
from core.models import utcnow
from editions.services import edition_by_code, edition_campaign_ids
from outcomes import services as outcome_services
from outcomes.models import PolicyOutcome
from suggestions import cluster_rows
from suggestions.models import PUBLIC_STATUSES, Cluster, ClusterMember, Suggestion

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_DIGITS = re.compile(r"[0-9]{1,12}")
SORTS = ("newest", "supported")


class BadParameter(DomainError):
    """A query parameter or the request body could not be understood (400)."""
    status_code = 400


class Unprocessable(InvalidInput):
    """The JSON was understood but a field is missing, of the wrong type or not acceptable (422)."""
    status_code = 422


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    # A service's InvalidInput is about the content sent: 422, like the pages' refused forms.
    status = 422 if isinstance(error, InvalidInput) else error.status_code
    response = jsonify(error=str(error.message), status=status)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="jianyan-api"'
    return response


@bp.after_request
def _no_store_for_writes(response):
    if request.method not in ("GET", "HEAD"):
        response.headers["Cache-Control"] = "no-store"
    return response


# ---- query parameters and JSON bodies ------------------------------------------------------------------


def _int_arg(name: str, *, minimum: int = 1, maximum: int = MAX_ID, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise BadParameter(_("The parameter “%(name)s” must be a whole number from %(min)d to %(max)d.",
                             name=name, min=minimum, max=maximum))
    return int(raw)


def _choice_arg(name: str, choices) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise BadParameter(_("The parameter “%(name)s” must be one of: %(values)s.",
                             name=name, values=", ".join(choices)))
    return raw


def _text_arg(name: str, max_length: int) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not 1 <= len(raw) <= max_length:
        raise BadParameter(_("The parameter “%(name)s” must be 1 to %(max)d characters.",
                             name=name, max=max_length))
    return raw


def _paginated(query: sa.Select, render) -> dict:
    """One page of ``query`` as {"items", "page", "per_page", "total"} (the query's order must be total)."""
    page = _int_arg("page", maximum=MAX_PAGE, default=1)
    per_page = _int_arg("per_page", maximum=MAX_PER_PAGE, default=current_app.config["PAGE_SIZE"])
    result = db.paginate(query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": [render(item) for item in result.items], "page": page, "per_page": per_page,
            "total": result.total}


def _edition_arg():
    """The edition named by ``?edition=CODE`` (its division code), or None; an unknown code is a 404."""
    code = _text_arg("edition", 12)
    if code is None:
        return None
    edition = edition_by_code(code)
    if edition is None:
        raise NotFound(_("No local edition has that code."))
    return edition


def _get(model, object_id: int, message: str):
    """The row with this id, or a 404 with ``message``."""
    row = db.session.get(model, object_id) if 1 <= object_id <= MAX_ID else None
    if row is None:
        raise NotFound(message)
    return row


def _public_campaign(campaign_id: int) -> Campaign:
    campaign = _get(Campaign, campaign_id, _("No campaign has that number."))
    if campaign.status == CampaignStatus.DRAFT:
        raise NotFound(_("No campaign has that number."))
    return campaign


def _public_proposal(suggestion_id: int) -> Suggestion:
    suggestion = _get(Suggestion, suggestion_id, _("No public proposal has that number."))
    if not suggestion.is_public:
        raise NotFound(_("No public proposal has that number."))
    return suggestion


def _closing_soon_days() -> int:
    return current_app.config["CLOSING_SOON_DAYS"]


# ---- reads -----------------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())


@bp.get("/bodies")
def bodies():
    query = sa.select(Body).order_by(Body.id)
    if (level := _choice_arg("level", list(BodyLevel))) is not None:
        query = query.where(Body.level == level)
    if (kind := _choice_arg("kind", list(BodyKind))) is not None:
        query = query.where(Body.kind == kind)
    return jsonify(_paginated(query, serialize.body))


@bp.get("/bodies/<int:body_id>")
def body(body_id: int):
    return jsonify(serialize.body(_get(Body, body_id, _("No body has that number."))))


@bp.get("/campaigns")
def campaigns():
    phase = _choice_arg("phase", [p for p in Phase if p != Phase.DRAFT])
    # The pages leave archived campaigns out of their default list; the API lists every public one.
    condition = (phase_condition(phase, utcnow(), _closing_soon_days()) if phase
                 else Campaign.status != CampaignStatus.DRAFT)
    query = (sa.select(Campaign).where(condition)
             .options(joinedload(Campaign.body), selectinload(Campaign.categories)).order_by(Campaign.id.desc()))
    if (body_id := _int_arg("body_id")) is not None:
        query = query.where(Campaign.body_id == body_id)
    if (edition := _edition_arg()) is not None:
        query = query.where(Campaign.id.in_(edition_campaign_ids(edition)))
    return jsonify(_paginated(query, lambda c: serialize.campaign(c, _closing_soon_days())))


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    return jsonify(serialize.campaign(_public_campaign(campaign_id), _closing_soon_days()))


@bp.get("/proposals")
def proposals():
    query = (sa.select(Suggestion)
             .options(joinedload(Suggestion.category), joinedload(Suggestion.handling_body)))
    status = _choice_arg("status", list(PUBLIC_STATUSES))
    query = query.where(Suggestion.status == status if status else Suggestion.status.in_(PUBLIC_STATUSES))
    if (campaign_id := _int_arg("campaign_id")) is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    if (code := _text_arg("category", 32)) is not None:
        query = query.where(Suggestion.category_id.in_(sa.select(Category.id).where(Category.code == code)))
    if (edition := _edition_arg()) is not None:
        query = query.where(Suggestion.campaign_id.in_(edition_campaign_ids(edition)))
    if _choice_arg("sort", SORTS) == "supported":
        query = query.order_by(Suggestion.support_count.desc(), Suggestion.id.desc())
    else:
        query = query.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
    return jsonify(_paginated(query, serialize.proposal))


@bp.get("/proposals/<int:suggestion_id>")
def proposal(suggestion_id: int):
    suggestion = _public_proposal(suggestion_id)
    member = db.session.get(ClusterMember, suggestion.id)
    cluster_id = member.cluster_id if member is not None and member.cluster.size > 1 else None
    outcome_ids = [o.id for o in outcome_services.outcomes_of(suggestion)]
    return jsonify(serialize.proposal_detail(suggestion, cluster_id, outcome_ids))


@bp.get("/campaigns/<int:campaign_id>/clusters")
def clusters(campaign_id: int):
    """A campaign's clusters of two or more near-duplicate proposals, by combined support."""
    campaign = _public_campaign(campaign_id)
    query = (sa.select(Cluster).join(Suggestion, Suggestion.id == Cluster.representative_id)
             .where(Cluster.campaign_id == campaign.id, Cluster.size > 1, Suggestion.status.in_(PUBLIC_STATUSES))
             .options(joinedload(Cluster.representative))
             .order_by(Cluster.supporter_count.desc(), Cluster.size.desc(), Cluster.id))
    page = _paginated(query, lambda c: c)
    texts: dict[int, list[str]] = {c.id: [] for c in page["items"]}
    for cluster_id, title, text in db.session.execute(
            sa.select(ClusterMember.cluster_id, Suggestion.title, Suggestion.body)
            .join(Suggestion, Suggestion.id == ClusterMember.suggestion_id)
            .where(ClusterMember.cluster_id.in_(list(texts)), Suggestion.status.in_(PUBLIC_STATUSES))):
        texts[cluster_id].append(f"{title}\n{text}")
    page["items"] = [serialize.cluster(c, c.representative, serialize.public_keywords(c, texts[c.id]))
                     for c in page["items"]]
    return jsonify(page)


@bp.get("/clusters/<int:cluster_id>")
def cluster(cluster_id: int):
    cluster_row = _get(Cluster, cluster_id, _("No cluster has that number."))
    members = [m for m in db.session.scalars(
        sa.select(ClusterMember).where(ClusterMember.cluster_id == cluster_row.id)
        .order_by(ClusterMember.score.desc(), ClusterMember.suggestion_id)
        .options(joinedload(ClusterMember.suggestion))) if m.suggestion.is_public]
    if not members:
        raise NotFound(_("No cluster has that number."))
    # A representative hidden since the last batch must not show: the best public member stands in (as on the page).
    shown = cluster_row.representative if cluster_row.representative.is_public else members[0].suggestion
    return jsonify(serialize.cluster_detail(cluster_row, shown, members,
                                            cluster_rows.distinct_supporters(cluster_row)))


@bp.get("/outcomes")
def outcomes():
    query = outcome_services.outcomes_query(body_id=_int_arg("body_id"), campaign_id=_int_arg("campaign_id"))
    return jsonify(_paginated(query.options(joinedload(PolicyOutcome.issuing_body)), serialize.outcome))


@bp.get("/outcomes/<int:outcome_id>")
def outcome(outcome_id: int):
    outcome_row = _get(PolicyOutcome, outcome_id, _("No outcome has that number."))
    return jsonify(serialize.outcome_detail(outcome_row, [s for s in outcome_row.suggestions if s.is_public],
                                            [c.id for c in outcome_row.clusters]))


@bp.get("/metrics")
def metrics():
    """The headline figures (analytics.metrics, one definition per figure) for a scope."""
    edition = _edition_arg()
    scope = Scope(body_id=_int_arg("body_id"), level=_choice_arg("level", list(BodyLevel)),
                  region=_text_arg("region", 80), divisions=edition.prefix if edition else None,
                  campaign_id=_int_arg("campaign_id"), year=_int_arg("year", minimum=MIN_YEAR, maximum=MAX_YEAR))
    if scope.body_id is not None:
        _get(Body, scope.body_id, _("No body has that number."))
    if scope.campaign_id is not None:
        _public_campaign(scope.campaign_id)
    ensure_fresh()
    echoed = {"body_id": scope.body_id, "level": scope.level, "region": scope.region,
              "edition": edition.code if edition else None, "campaign_id": scope.campaign_id, "year": scope.year}
    return jsonify({"scope": echoed, **headline(scope)})


# Writes with a personal API token live in their own module, on this blueprint.
from api import write_views  # noqa: E402, F401
