"""Proposal pages: submit, read, vote; staff screening, acceptance and replies; moderation."""
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import Body
from accounts.permissions import can_act_for_body
from campaigns.models import Campaign, Category
from core.errors import DomainError, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.web import error_response, redirect_with_error, wants_json
from suggestions import queries, services
from suggestions.forms import REJECT_REASON_LABELS, HideForm, RejectForm, ReplyForm, SuggestionForm
from suggestions.models import DECISION_LABELS, MESSAGE_TYPE_LABELS, STATUS_LABELS, Suggestion

bp = Blueprint("suggestions", __name__, url_prefix="/suggestions")
VOTE_VALUES = {"support": 1, "oppose": -1}


@bp.app_context_processor
def _labels() -> dict:
    """Label tables for proposal statuses, decisions and types, available in every template."""
    return {"status_labels": STATUS_LABELS, "decision_labels": DECISION_LABELS,
            "type_labels": MESSAGE_TYPE_LABELS, "reject_labels": REJECT_REASON_LABELS}


@bp.route("/new/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def submit(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status == "draft" and not can_act_for_body(current_user, campaign.body_id):
        abort(404)
    if not campaign.accepts_submissions(utcnow()):
        message = _("This campaign is not taking proposals now.")
        if request.method == "POST" or wants_json():
            return error_response(message, 409)
        flash(message, "error")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id), code=303)
    locale = str(get_locale())
    form = SuggestionForm()
    form.category.choices = [("", _("Choose…"))] + [(c.code, c.display_name(locale)) for c in campaign.categories]
    if form.validate_on_submit():
        category = db.session.scalar(sa.select(Category).where(Category.code == form.category.data))
        try:
            suggestion = services.submit_suggestion(
                current_user, campaign, title=form.title.data, body=form.body.data, category=category,
                message_type=form.message_type.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
        else:
            db.session.commit()
            if suggestion.is_public:
                flash(_("Your proposal has been published."), "success")
            else:
                flash(_("Your proposal has been received and will be published after screening."), "success")
            return redirect(url_for("suggestions.detail", suggestion_id=suggestion.id), code=303)
    status = 422 if form.is_submitted() else 200
    if wants_json() and form.is_submitted():
        return jsonify(error=_("The proposal was not saved."), fields=form.errors, status=status), status
    return render_template("suggestions/form.html", form=form, campaign=campaign), status


def _can_see(user, suggestion: Suggestion) -> bool:
    """Public proposals for everyone; the others for their author, moderators and the body's staff."""
    if suggestion.is_public:
        return True
    return user.is_authenticated and (user.id == suggestion.author_id or user.is_moderator
                                      or can_act_for_body(user, suggestion.campaign.body_id))


def _visible_or_404(suggestion_id: int) -> Suggestion:
    suggestion = db.get_or_404(Suggestion, suggestion_id)
    if not _can_see(current_user, suggestion):
        abort(404)
    return suggestion


@bp.get("/<int:suggestion_id>")
def detail(suggestion_id: int, reply_form: ReplyForm | None = None):
    suggestion = _visible_or_404(suggestion_id)
    is_staff = can_act_for_body(current_user, suggestion.campaign.body_id)
    return render_template(
        "suggestions/detail.html", suggestion=suggestion, campaign=suggestion.campaign, is_staff=is_staff,
        my_vote=queries.vote_of(current_user, suggestion.id), now=utcnow(),
        reply_form=reply_form or ReplyForm(formdata=None), reject_form=RejectForm(formdata=None, prefix="reject"),
        hide_form=HideForm(formdata=None, prefix="hide"))


@bp.post("/<int:suggestion_id>/vote")
@login_required
def cast_vote(suggestion_id: int):
    suggestion = _visible_or_404(suggestion_id)
    choice = request.form.get("value", "")
    if choice not in VOTE_VALUES and choice != "withdraw":
        return redirect_with_error(DomainError(_("Choose support or oppose.")), _detail_url(suggestion))
    try:
        if choice == "withdraw":
            services.withdraw_vote(current_user, suggestion)
        else:
            services.vote(current_user, suggestion, VOTE_VALUES[choice])
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    db.session.commit()
    if wants_json():
        return jsonify(support_count=suggestion.support_count, oppose_count=suggestion.oppose_count,
                       my_vote=VOTE_VALUES.get(choice, 0))
    flash(_("Your vote has been withdrawn.") if choice == "withdraw" else _("Thank you, your vote is recorded."),
          "success")
    return redirect(_detail_url(suggestion), code=303)


@bp.post("/<int:suggestion_id>/reply")
@login_required
def reply(suggestion_id: int):
    suggestion = _visible_or_404(suggestion_id)
    if not can_act_for_body(current_user, suggestion.campaign.body_id):
        raise NotAllowed()
    form = ReplyForm()
    if not form.validate():
        if wants_json():
            return jsonify(error=_("The reply was not saved."), fields=form.errors, status=422), 422
        return detail(suggestion_id, reply_form=form), 422
    try:
        services.reply_to_suggestion(current_user, suggestion, decision=form.decision.data,
                                     content=form.content.data)
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    db.session.commit()
    flash(_("The reply has been published."), "success")
    return redirect(_detail_url(suggestion), code=303)


@bp.post("/<int:suggestion_id>/<any(accept, close, publish, reject, withdraw, hide, unhide):action>")
@login_required
def act(suggestion_id: int, action: str):
    """One button per status change; the service checks who may press it."""
    suggestion = _visible_or_404(suggestion_id)
    try:
        if action == "accept":
            services.accept_suggestion(current_user, suggestion)
        elif action == "close":
            services.close_suggestion(current_user, suggestion)
        elif action == "publish":
            services.publish_suggestion(current_user, suggestion)
        elif action == "reject":
            services.reject_suggestion(current_user, suggestion, request.form.get("reject-reason", ""))
        elif action == "withdraw":
            services.withdraw_suggestion(current_user, suggestion)
        elif action == "hide":
            services.hide_suggestion(current_user, suggestion, request.form.get("hide-reason", ""))
        else:
            services.unhide_suggestion(current_user, suggestion)
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    db.session.commit()
    flash(_("Done: the proposal is now “%(status)s”.", status=STATUS_LABELS[suggestion.status]), "success")
    if not _can_see(current_user, suggestion):
        return redirect(url_for("home"), code=303)
    return redirect(_detail_url(suggestion), code=303)


@bp.get("/inbox")
@login_required
def inbox():
    """Staff: what the user's bodies must screen, accept or reply to."""
    body_ids = current_user.body_ids()
    if current_user.is_admin:
        body_ids = set(db.session.scalars(sa.select(Body.id)))
    if not body_ids:
        abort(403)
    state = request.args.get("state", "accept")
    state = state if state in ("screen", "accept", "reply") else "accept"
    page = db.paginate(queries.inbox_query(body_ids, state), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("suggestions/inbox.html", page=page, state=state)


@bp.get("/mine")
@login_required
def mine():
    """The citizen's own proposals, whatever their status."""
    query = (sa.select(Suggestion).where(Suggestion.author_id == current_user.id)
             .order_by(Suggestion.created_at.desc(), Suggestion.id.desc()))
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("suggestions/mine.html", page=page)


def _detail_url(suggestion: Suggestion) -> str:
    return url_for("suggestions.detail", suggestion_id=suggestion.id)
