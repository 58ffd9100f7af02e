"""Similar proposals while typing, and cluster pages with the staff review of clusters."""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from accounts.permissions import can_act_for_body
from campaigns.models import Campaign
from core.errors import DomainError, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.pagination import bounded_page
from core.params import page_number, record_id
from core.privacy import mask_personal_data
from core.web import redirect_with_error, wants_json
from suggestions import cluster_decisions, cluster_rows, queries
from suggestions.forms import ClusterActionForm
from suggestions.models import Cluster, ClusterMember, IssueCandidate, Suggestion
from suggestions.services import BODY_MAX_LENGTH, TITLE_MAX_LENGTH
from suggestions.similar import RELATED_FLOOR, relation, similar_proposals

bp = Blueprint("clusters", __name__, url_prefix="/suggestions")
LISTED_SIZE = sa.literal_column("1")  # lists show clusters of two or more; a literal, so the partial index applies


@bp.get("/similar")
def similar():
    """Proposals of the campaign like the draft being typed (the submit form asks as the citizen types)."""
    campaign = db.session.get(Campaign, request.args.get("campaign", type=record_id) or 0)
    if campaign is None or campaign.status == "draft":
        abort(404)
    text = f"{request.args.get('title', '')[:TITLE_MAX_LENGTH]}\n{request.args.get('body', '')[:BODY_MAX_LENGTH]}"
    author_id = current_user.id if current_user.is_authenticated else None
    found = similar_proposals(campaign.id, text, author_id=author_id, floor=RELATED_FLOOR, by_issue=True)
    if wants_json():
        return jsonify(similar=[{"id": s.id, "title": mask_personal_data(s.title), "support_count": s.support_count,
                                 "score": round(m.score, 3), "kind": m.kind, "relation": relation(m.kind, m.score),
                                 "url": url_for("suggestions.detail", suggestion_id=s.id)} for s, m in found])
    return render_template("suggestions/_similar.html", found=found, campaign=campaign, now=utcnow(),
                           inside_form=request.args.get("inside_form") == "1",
                           related_votes=queries.votes_of(current_user, [s.id for s, _match in found]))


@bp.get("/clusters")
def index():
    """A campaign's clusters of near-duplicate proposals, by combined support."""
    campaign = db.session.get(Campaign, request.args.get("campaign", type=record_id) or 0)
    if campaign is None or campaign.status == "draft":
        abort(404)
    # Representatives are public: a proposal leaving public view leaves its cluster (clustering.leave_cluster).
    query = (sa.select(Cluster).where(Cluster.campaign_id == campaign.id, Cluster.size > LISTED_SIZE)
             .options(joinedload(Cluster.representative))
             .order_by(Cluster.supporter_count.desc(), Cluster.size.desc(), Cluster.id))
    page = bounded_page(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("suggestions/clusters.html", campaign=campaign, page=page)


@bp.get("/clusters/<int:cluster_id>")
def page(cluster_id: int, form: ClusterActionForm | None = None):
    cluster = db.get_or_404(Cluster, cluster_id)
    members = [m for m in db.session.scalars(  # one query for the members, their proposals and authors
        sa.select(ClusterMember).where(ClusterMember.cluster_id == cluster.id).order_by(ClusterMember.score.desc())
        .options(joinedload(ClusterMember.suggestion).joinedload(Suggestion.author))) if m.suggestion.is_public]
    if not members:
        abort(404)
    # A representative hidden since the last batch must not show its title: the best public member stands in.
    shown = cluster.representative if cluster.representative.is_public else members[0].suggestion
    is_staff = can_act_for_body(current_user, cluster.campaign.body_id)
    others, candidates = [], []
    if is_staff:
        candidates = _issue_candidates(cluster)
        others = db.session.scalars(sa.select(Cluster).where(Cluster.campaign_id == cluster.campaign_id,
                                                             Cluster.id != cluster.id, Cluster.size > 1)
                                    .options(joinedload(Cluster.representative))
                                    .order_by(Cluster.supporter_count.desc()).limit(200)).all()
    return render_template("suggestions/cluster.html", cluster=cluster, campaign=cluster.campaign, members=members,
                           is_staff=is_staff, others=others, candidates=candidates,
                           form=form or ClusterActionForm(formdata=None),
                           supporters=cluster_rows.distinct_supporters(cluster), shown=shown)


def _issue_candidates(cluster: Cluster, limit: int = 5) -> list[tuple[IssueCandidate, Cluster, Suggestion]]:
    """The clusters the last batch left apart from this one that may be the same issue, most likely first: each
    stored candidate (its score, why it was not joined, the evidence), the other cluster, and its member the link
    goes to (public ones only)."""
    rows = db.session.scalars(
        sa.select(IssueCandidate).where(sa.or_(IssueCandidate.cluster_id == cluster.id,
                                               IssueCandidate.other_cluster_id == cluster.id))
        .options(joinedload(IssueCandidate.cluster).joinedload(Cluster.representative),
                 joinedload(IssueCandidate.other_cluster).joinedload(Cluster.representative),
                 joinedload(IssueCandidate.suggestion), joinedload(IssueCandidate.other_suggestion))
        .order_by(IssueCandidate.score.desc(), IssueCandidate.id).limit(limit))
    facing = [(c, *c.facing(cluster.id)) for c in rows]
    return [(c, other, closest) for c, other, closest in facing if other.representative.is_public and closest.is_public]


@bp.get("/clusters/<int:cluster_id>/<any(confirm, representative, move_out, merge):action>")
def action_address(cluster_id: int, action: str):
    """A review form's address opened in the browser (a reload after a refusal): the cluster's page."""
    return redirect(url_for("clusters.page", cluster_id=cluster_id), code=303)


@bp.post("/clusters/<int:cluster_id>/<any(confirm, representative, move_out, merge):action>")
@login_required
def action(cluster_id: int, action: str):
    """Staff review of a cluster; every decision is kept by later batch runs."""
    cluster = db.get_or_404(Cluster, cluster_id)
    if not can_act_for_body(current_user, cluster.campaign.body_id):
        raise NotAllowed()
    form = ClusterActionForm()
    if not form.validate():
        return page(cluster_id, form=form), 422
    target = url_for("clusters.page", cluster_id=cluster.id)
    reason = form.reason.data or ""
    try:
        if action == "confirm":
            cluster_decisions.confirm_cluster(current_user, cluster, reason)
        elif action == "representative":
            cluster_decisions.choose_representative(current_user, cluster, form.suggestion_id.data or 0, reason)
        elif action == "move_out":
            cluster_decisions.move_out(current_user, cluster, form.suggestion_id.data or 0, reason)
        else:
            other = db.session.get(Cluster, form.other_cluster.data or 0)
            if other is None:
                raise InvalidInput(_("Choose another cluster of the same campaign."))
            cluster_decisions.merge_clusters(current_user, cluster, other, reason)
    except DomainError as error:
        return redirect_with_error(error, target)
    db.session.commit()
    flash(_("The cluster has been updated."), "success")
    return redirect(target, code=303)
