"""Moderation pages: reporting, the moderation queue, the sensitive-word list and the audit-log viewer."""
import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import User
from accounts.services import normalise_username
from core.errors import DomainError, InvalidInput
from core.extensions import db
from core.ratelimit import account_key, limit_reports
from core.web import redirect_with_error
from moderation import audit_display, queue, services, words
from moderation import floods as flood_services
from moderation.forms import ACTION_LABELS, CODE, AuditFilterForm, DecisionForm, ReportForm, WordsForm
from moderation.models import (
    FLOOD_RULE_LABELS,
    FLOOD_STATUS_LABELS,
    REPORT_REASON_LABELS,
    WORD_CATEGORY_LABELS,
    FloodGroup,
    SensitiveWord,
)
from suggestions import clustering
from suggestions.models import Reply, Suggestion

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.app_context_processor
def _labels() -> dict:
    """Label tables for report reasons and word categories, available in every template."""
    return {"report_reason_labels": REPORT_REASON_LABELS, "word_category_labels": WORD_CATEGORY_LABELS,
            "moderation_tabs": queue.tabs_for(current_user) if current_user.is_authenticated else ()}


def _account_key() -> str:
    return account_key(current_user.id)


@bp.post("/report/<any(suggestions, replies):kind>/<int:target_id>")
@login_required
@limit_reports(_account_key)
def report(kind: str, target_id: int):
    """A citizen reports a proposal or an official reply; back to the proposal's page."""
    target = db.get_or_404(Suggestion if kind == "suggestions" else Reply, target_id)
    suggestion = services.proposal_of(target)
    if not suggestion.visible_to(current_user):
        abort(404)
    back = url_for("suggestions.detail", suggestion_id=suggestion.id)
    form = ReportForm()
    if not form.validate():
        return redirect_with_error(InvalidInput(_("The report was not sent: %(problem)s", problem=_first_error(form))),
                                   back)
    try:
        services.report(current_user, target, form.reason.data, form.note.data or "")
    except DomainError as error:
        return redirect_with_error(error, back)
    db.session.commit()
    flash(_("Thank you. The moderators will look at your report; the author is not told who reported."), "success")
    return redirect(back, code=303)


def _first_error(form) -> str:
    return next(str(error) for errors in form.errors.values() for error in errors)


def _tab_or_403(counts: dict[str, int] | None = None) -> tuple[tuple[str, ...], str]:
    """The user's tabs and the one asked for; without a valid choice, the first tab holding items (given the
    counts), else the first tab."""
    tabs = queue.tabs_for(current_user)
    if not tabs:
        abort(403)
    tab = request.args.get("tab", "")
    if tab in tabs:
        return tabs, tab
    return tabs, next((t for t in tabs if (counts or {}).get(t)), tabs[0])


@bp.get("/")
@login_required
def index():
    """The moderation queue: one tab at a time, each item with why it is there. Without a tab in the address it
    opens on the first tab that holds items."""
    counts = _counts()
    tabs, tab = _tab_or_403(counts)
    page = db.paginate(queue.tab_query(current_user, tab), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template("moderation/queue.html", tabs=tabs, tab=tab, page=page, why=queue.why(page.items),
                           counts=counts, actions=queue.actions_for(current_user, tab),
                           action_labels=ACTION_LABELS, form=DecisionForm(formdata=None))


def _counts() -> dict[str, int]:
    """How many items each tab of the queue holds (for moderators, the floods awaiting a decision too)."""
    counts = queue.tab_counts(current_user)
    if current_user.is_moderator:
        counts["floods"] = queue.open_flood_count()
    return counts


def _moderators_only() -> None:
    if not current_user.is_moderator:
        abort(403)


@bp.get("/floods")
@login_required
def floods():
    """Moderators: bursts that look coordinated, each as one group with its evidence, to hold or release."""
    _moderators_only()
    page = db.paginate(queue.flood_query(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("moderation/floods.html", tabs=queue.tabs_for(current_user), tab="floods", page=page,
                           views=queue.flood_views(page.items), counts=_counts(), rule_labels=FLOOD_RULE_LABELS,
                           flood_status_labels=FLOOD_STATUS_LABELS)


@bp.post("/floods/<int:group_id>/<any(hold, release):action>")
@login_required
def flood_decision(group_id: int, action: str):
    """Hold a group's supports (kept, not counted) or release them (counted again; for an open group: legitimate)."""
    _moderators_only()
    group = db.get_or_404(FloodGroup, group_id)
    back = url_for("moderation.floods", _anchor=f"flood-{group.id}")
    try:
        if action == "hold":
            count = flood_services.hold_flood(current_user, group)
        else:
            count = flood_services.release_flood(current_user, group)
    except DomainError as error:
        return redirect_with_error(error, back)
    db.session.commit()
    flash(_("%(n)d support(s) held: they are kept but no longer counted publicly.", n=count) if action == "hold"
          else _("%(n)d support(s) released: they count again.", n=count), "success")
    return redirect(back, code=303)


@bp.post("/floods/detect")
@login_required
def detect_floods():
    """Run flood detection now (cron runs it every few minutes with `flask moderation detect-floods`)."""
    _moderators_only()
    found = flood_services.detect_floods(flood_services.FloodSettings.from_config(current_app.config),
                                         actor=current_user)
    db.session.commit()
    flash(_("Detection done: %(n)d group(s) found or grown.", n=len(found)), "success")
    return redirect(url_for("moderation.floods"), code=303)


@bp.post("/decide")
@login_required
def decide():
    """One action for the checked items, or for one item's own button; all of them or none."""
    tabs, tab = _tab_or_403()
    back = url_for("moderation.index", tab=tab, page=request.args.get("page", type=int))
    form = DecisionForm()
    if not form.validate():
        return redirect_with_error(InvalidInput(_first_error(form)), back)
    action, raw = form.action.data, form.items.data or []
    reason, reject_reason = form.reason.data or "", form.reject_reason.data or ""
    if form.single.data:  # one item's button: its own reasons, never the bulk form's
        action, _sep, item = form.single.data.partition(":")
        raw = [item]
        reason = request.form.get(f"reason-{item}", "")
        reject_reason = request.form.get(f"reject_reason-{item}", "")
    if len(raw) > services.MAX_ITEMS:
        return redirect_with_error(InvalidInput(_("Decide on at most %(n)d items at a time.", n=services.MAX_ITEMS)),
                                   back)
    targets = queue.targets(raw)
    if targets is None:
        return redirect_with_error(InvalidInput(_("One of the chosen items does not exist.")), back)
    try:
        done = services.decide(current_user, action, targets, reason=reason, reject_reason=reject_reason)
    except DomainError as error:
        return redirect_with_error(error, back)
    db.session.commit()
    for target in targets:
        if isinstance(target, Suggestion) and target.is_public:
            clustering.place_after_submit(target)
    flash(_("Done: “%(action)s” for %(n)d item(s).", action=ACTION_LABELS[action], n=done), "success")
    return redirect(back, code=303)


@bp.route("/words", methods=["GET", "POST"])
@login_required
def word_list():
    """Administrators: the sensitive-word list, by category, and a form to add words."""
    if not current_user.is_admin:
        abort(403)
    form = WordsForm()
    if form.validate_on_submit():
        try:
            added, skipped = words.add_words(current_user, form.category.data, form.words.data)
        except DomainError as error:
            db.session.rollback()
            form.words.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("%(n)d word(s) added.", n=len(added)) + (
                " " + _("Already listed: %(words)s", words="、".join(skipped)) if skipped else ""), "success")
            return redirect(url_for("moderation.word_list"), code=303)
    category = request.args.get("category", "")
    query = sa.select(SensitiveWord).order_by(SensitiveWord.category, SensitiveWord.folded, SensitiveWord.id)
    if category in WORD_CATEGORY_LABELS:
        query = query.where(SensitiveWord.category == category)
    page = db.paginate(query, per_page=100, error_out=False)
    status = 422 if form.is_submitted() else 200
    return render_template("moderation/words.html", form=form, page=page, category=category), status


@bp.post("/words/<int:word_id>/remove")
@login_required
def remove_word(word_id: int):
    if not current_user.is_admin:
        abort(403)
    entry = db.get_or_404(SensitiveWord, word_id)
    words.remove_word(current_user, entry)
    db.session.commit()
    flash(_("“%(word)s” has been removed from the list.", word=entry.word), "success")
    return redirect(url_for("moderation.word_list"), code=303)


@bp.get("/audit")
@login_required
def audit_log():
    """The audit log: administrators read every row, a body's managers the rows of their bodies. Only
    administrators see login names and filter by them; others see public names."""
    if queue.audit_scope(current_user) == set():
        abort(403)
    form = AuditFilterForm(request.args)
    if not current_user.is_admin:
        del form.actor  # no looking up accounts by login name
    present = queue.audit_target_types(current_user)
    form.target_type.choices = audit_display.type_choices(present, _requested(form.target_type))
    form.action.choices = audit_display.action_choices(present, _requested(form.action))
    valid = form.validate()
    filters = {name: form[name].data for name in ("action", "target_type", "target_id", "since", "until")
               if not form[name].errors and form[name].data}
    actor = None
    if "actor" in form and form.actor.data and not form.actor.errors:
        actor = db.session.scalar(sa.select(User).where(User.username == normalise_username(form.actor.data)))
        if actor is None:
            form.actor.errors.append(_("No user with this username."))
            valid = False
    rows = queue.audit_query(current_user, actor_id=actor.id if actor else None, **filters)
    if "actor" in form and form.actor.data and actor is None:
        rows = rows.where(sa.false())
    page = db.paginate(rows, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    kept = {name: value for name, value in request.args.items() if name != "page" and name in form._fields}
    return render_template("moderation/audit.html", form=form, page=page, filters=kept, filters_valid=valid,
                           actors=queue.actor_names(page.items, with_usernames=current_user.is_admin),
                           rows=audit_display.rows_for(current_user, page.items,
                                                       with_usernames=current_user.is_admin))


def _requested(field) -> str:
    """A filter's value from the address, if it looks like a code (to show it selected even when not offered)."""
    value = field.data if isinstance(field.data, str) else ""
    return value if re.fullmatch(CODE, value) else ""
