"""Staff handling a proposal: accept, publish, reject, close, hide and the like (one button each), transfer, extend
the deadline, post the official reply, and the staff inbox. Views on the ``suggestions`` blueprint
(``suggestions.views`` imports this module once the blueprint exists)."""
import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import Body
from core.errors import DomainError, NotAllowed
from core.extensions import db
from core.pagination import bounded_page
from core.params import page_number, record_id
from core.web import redirect_with_error, saved_then, wants_json
from core.workdays import add_working_days
from moderation import services as moderation_services
from suggestions import clustering, deadlines, handling, queries, services
from suggestions.forms import ExtensionForm, ReplyForm
from suggestions.models import STATUS_LABELS, Suggestion
from suggestions.views import STATUS_ACTIONS, TOP, _detail_url, _visible_or_404, bp, detail


@bp.post("/<int:suggestion_id>/transfer")
@login_required
def transfer(suggestion_id: int):
    """Staff hand an accepted proposal to another body, with a reason shown publicly."""
    suggestion = _visible_or_404(suggestion_id)
    return _then_back(suggestion, lambda: handling.transfer(
        current_user, suggestion, request.form.get("to_body", type=record_id), request.form.get("reason", "")),
        _("The proposal has been transferred."))


@bp.post("/<int:suggestion_id>/extend")
@login_required
def extend(suggestion_id: int):
    """Staff move the reply deadline later, with a reason shown publicly. A refused date comes back with what was
    typed: the refusal at the top of the page and on the date field."""
    suggestion = _visible_or_404(suggestion_id)
    form = ExtensionForm()
    if not form.validate():
        return detail(suggestion_id, extension_form=form), 422
    try:
        deadlines.extend_deadline(current_user, suggestion, form.new_due_on.data, form.reason.data)
    except DomainError as error:
        if error.status_code == 403 or wants_json():
            return redirect_with_error(error, _detail_url(suggestion, TOP))
        db.session.rollback()
        flash(str(error.message), "error")
        form.new_due_on.errors.append(str(error.message))
        return detail(suggestion_id, extension_form=form), 422
    db.session.commit()
    flash(_("The reply deadline has been extended."), "success")
    return redirect(_detail_url(suggestion, TOP), code=303)


@bp.post("/<int:suggestion_id>/reply")
@login_required
def reply(suggestion_id: int):
    suggestion = _visible_or_404(suggestion_id)
    if not handling.can_handle(current_user, suggestion):
        raise NotAllowed()
    form = ReplyForm()
    if not form.validate():
        if wants_json():
            return jsonify(error=_("The reply was not saved."), fields=form.errors, status=422), 422
        return detail(suggestion_id, reply_form=form), 422
    return _then_back(suggestion, lambda: services.reply_to_suggestion(
        current_user, suggestion, decision=form.decision.data, content=form.content.data),
        _("The reply has been published."), anchor=TOP)




@bp.post(f"/<int:suggestion_id>/<any({', '.join(STATUS_ACTIONS)}):action>")
@login_required
def act(suggestion_id: int, action: str):
    """One button per status change; the service checks who may press it."""
    suggestion = _visible_or_404(suggestion_id)
    try:
        if action == "accept":
            services.accept_suggestion(current_user, suggestion,
                                       needs_investigation=request.form.get("needs_investigation") == "y")
            handling.assign_handlers(current_user, suggestion, request.form.get("lead_body", type=record_id),
                                     request.form.getlist("co_bodies", type=record_id))
        elif action == "close":
            services.close_suggestion(current_user, suggestion)
        elif action == "publish":
            services.publish_suggestion(current_user, suggestion)
        elif action == "reject":
            services.reject_suggestion(current_user, suggestion, request.form.get("reject-reason", ""))
        elif action == "withdraw":
            services.withdraw_suggestion(current_user, suggestion)
        elif action == "hide":  # through moderation, which also upholds the proposal's open reports
            moderation_services.hide(current_user, suggestion, request.form.get("hide-reason", ""))
        else:
            moderation_services.restore(current_user, suggestion)
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    db.session.commit()
    if action in ("publish", "unhide"):
        clustering.place_after_submit(suggestion)
    flash(_("Done: the proposal is now “%(status)s”.", status=STATUS_LABELS[suggestion.status]), "success")
    if not suggestion.visible_to(current_user):
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
    state = state if state in ("screen", "accept", "reply", "overdue", "due_soon") else "accept"
    on = deadlines.today()
    if state == "overdue":
        query = deadlines.awaiting_reply_query(body_ids, overdue_on=on)
    elif state == "due_soon":
        due_by = add_working_days(on, current_app.config["DUE_SOON_WORKING_DAYS"])
        query = deadlines.awaiting_reply_query(body_ids, due_by=due_by).where(Suggestion.reply_due_on >= on)
    else:
        query = queries.inbox_query(body_ids, state)
    page = bounded_page(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("suggestions/inbox.html", page=page, state=state, today=on)


def _then_back(suggestion: Suggestion, work, success: str, anchor: str | None = None):
    """Run a staff or author action on the proposal; commit and confirm, or go back with its refusal."""
    try:
        work()
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion, TOP))
    back = _detail_url(suggestion, anchor)
    saved_then(back)  # an official reply or a transfer, once committed, is never answered as failed
    db.session.commit()
    flash(success, "success")
    return redirect(back, code=303)
