"""Outcome pages: "from suggestion to policy" for everyone, recording and updating for staff."""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import Body
from accounts.permissions import can_act_for_body
from analytics import metrics, rollup
from campaigns.models import Campaign
from core.errors import DomainError, InvalidInput
from core.extensions import db
from core.forms import select_choices
from core.params import record_id
from core.web import redirect_with_error
from outcomes import services
from outcomes.forms import LinkForm, MilestoneForm, OutcomeForm
from outcomes.models import STAGE_LABELS, PolicyOutcome
from suggestions.models import Cluster, Suggestion

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


@bp.app_context_processor
def _labels() -> dict:
    return {"stage_labels": STAGE_LABELS}


@bp.get("/")
def index():
    """Outcomes, by body or campaign, with the adoption rate of each."""
    rollup.ensure_fresh()
    body_id = request.args.get("body", type=record_id)
    campaign_id = request.args.get("campaign", type=record_id)
    body = db.session.get(Body, body_id) if body_id else None
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is not None and campaign.status == "draft":
        campaign = None
    page = db.paginate(services.outcomes_query(body_id=body.id if body else None,
                                               campaign_id=campaign.id if campaign else None),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    rate = metrics.adoption(metrics.Scope(body_id=body.id if body else None,
                                          campaign_id=campaign.id if campaign else None))
    by_campaign = [(c, ratio) for c, ratio in metrics.by_campaign("adoption") if c.status != "draft"]
    return render_template("outcomes/index.html", page=page, body=body, campaign=campaign, rate=rate,
                           by_body=metrics.by_body("adoption"), by_campaign=by_campaign,
                           figures_as_of=rollup.refreshed_at())


@bp.get("/<int:outcome_id>")
def detail(outcome_id: int):
    outcome = db.get_or_404(PolicyOutcome, outcome_id)
    is_staff = can_act_for_body(current_user, outcome.issuing_body_id)
    return render_template("outcomes/detail.html", outcome=outcome, is_staff=is_staff,
                           suggestions=[s for s in outcome.suggestions if s.is_public],
                           milestone_form=MilestoneForm(formdata=None), link_form=LinkForm(formdata=None))


def _staff_bodies() -> list[Body]:
    if current_user.is_admin:
        return list(db.session.scalars(sa.select(Body).order_by(Body.level, Body.id)))
    return list(db.session.scalars(sa.select(Body).where(Body.id.in_(current_user.body_ids()))
                                   .order_by(Body.level, Body.id)))


def _fields(form: OutcomeForm) -> dict:
    return {"title": form.title.data, "document_name": form.document_name.data,
            "document_number": form.document_number.data, "link": form.link.data, "clause": form.clause.data,
            "stage": form.stage.data, "progress": form.progress.data, "issued_on": form.issued_on.data}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Record the outcome an adopted proposal led to (``?suggestion=ID`` links it at once)."""
    bodies = _staff_bodies()
    if not bodies:
        abort(403)
    suggestion = db.session.get(Suggestion, request.args.get("suggestion", type=record_id) or 0)
    form = OutcomeForm()
    form.issuing_body.choices = select_choices((b.id, b.display_name(str(get_locale()))) for b in bodies)
    def save() -> PolicyOutcome:
        outcome = services.create_outcome(current_user, db.session.get(Body, form.issuing_body.data), **_fields(form))
        if suggestion is not None:
            services.link_suggestion(current_user, outcome, suggestion)
        return outcome
    return _save_or_show(form, save, _("The outcome has been recorded."), outcome=None, suggestion=suggestion)


@bp.route("/<int:outcome_id>/edit", methods=["GET", "POST"])
@login_required
def edit(outcome_id: int):
    outcome = _outcome_for_staff(outcome_id)
    form = OutcomeForm(obj=outcome)
    form.issuing_body.choices = select_choices([(outcome.issuing_body_id,
                                                 outcome.issuing_body.display_name(str(get_locale())))])
    if request.method == "GET":
        form.issuing_body.data = outcome.issuing_body_id
    def save() -> PolicyOutcome:
        services.update_outcome(current_user, outcome, **_fields(form))
        return outcome
    return _save_or_show(form, save, _("The outcome has been updated."), outcome=outcome, suggestion=None)


def _save_or_show(form: OutcomeForm, save, success: str, **context):
    """Save a valid form and go to the outcome, or show the form again with what was wrong."""
    if form.validate_on_submit():
        try:
            outcome = save()
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("outcomes.detail", outcome_id=outcome.id), code=303)
    return render_template("outcomes/form.html", form=form, **context), 422 if form.is_submitted() else 200


def _outcome_for_staff(outcome_id: int) -> PolicyOutcome:
    """The outcome, if the current user may act for its issuing body (else 404 or 403)."""
    outcome = db.get_or_404(PolicyOutcome, outcome_id)
    if not can_act_for_body(current_user, outcome.issuing_body_id):
        abort(403)
    return outcome


@bp.post("/<int:outcome_id>/milestones")
@login_required
def add_milestone(outcome_id: int):
    outcome = _outcome_for_staff(outcome_id)
    form = MilestoneForm()
    target = url_for("outcomes.detail", outcome_id=outcome.id)
    if not form.validate():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(target, code=303)
    try:
        services.add_milestone(current_user, outcome, form.happened_on.data, form.title.data, form.note.data or "")
    except DomainError as error:
        return redirect_with_error(error, target)
    db.session.commit()
    flash(_("The milestone has been added."), "success")
    return redirect(target, code=303)


@bp.post("/<int:outcome_id>/link")
@login_required
def link(outcome_id: int):
    outcome = _outcome_for_staff(outcome_id)
    form = LinkForm()
    target = url_for("outcomes.detail", outcome_id=outcome.id)
    try:
        if not form.validate() or not (form.suggestion_id.data or form.cluster_id.data):
            raise InvalidInput(_("Give a proposal or cluster number."))
        if form.suggestion_id.data:
            services.link_suggestion(current_user, outcome, db.session.get(Suggestion, form.suggestion_id.data))
        if form.cluster_id.data:
            services.link_cluster(current_user, outcome, db.session.get(Cluster, form.cluster_id.data))
    except DomainError as error:
        return redirect_with_error(error, target)
    db.session.commit()
    flash(_("Linked."), "success")
    return redirect(target, code=303)
