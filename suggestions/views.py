"""Proposal pages: submit, read, vote; staff screening, acceptance and replies; moderation."""
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from accounts import regions
from accounts.models import Body
from accounts.permissions import can_act_for_body
from accounts.phones import has_verified_phone
from analytics import metrics, rollup
from campaigns.models import Campaign, Category
from core.errors import DomainError
from core.extensions import db
from core.forms import select_choices
from core.models import utcnow
from core.network import request_network_key
from core.privacy import KIND_LABELS
from core.ratelimit import account_key, limit_submissions
from core.web import error_response, redirect_with_error, saved_then, wants_json
from core.workdays import is_working_day
from drafts import services as draft_services
from moderation import queue as moderation_queue
from moderation.models import WORD_CATEGORY_LABELS
from outcomes import services as outcome_services
from suggestions import (
    cluster_rows,
    clustering,
    contacts,
    deadlines,
    handling,
    notifications,
    queries,
    ratings,
    related,
    services,
    similar,
)
from suggestions.forms import (
    REJECT_REASON_LABELS,
    ExtensionForm,
    HideForm,
    RatingForm,
    RejectForm,
    ReplyForm,
    SuggestionForm,
)
from suggestions.models import (
    DECISION_LABELS,
    MESSAGE_TYPE_LABELS,
    RATING_REASON_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    ClusterMember,
    Follow,
    Notification,
    Suggestion,
)
from suggestions.services import BODY_MAX_LENGTH, TITLE_MAX_LENGTH

bp = Blueprint("suggestions", __name__, url_prefix="/suggestions")
# The reply, extension and rating forms post to their address with the fragment of their own heading, so a refused
# form comes back scrolled to its messages (the page is long on a phone); a browser keeps that fragment through
# the redirect after success unless the redirect names one, so success lands on the confirmation at the top.
TOP = "main"
STATUS_ACTIONS = ("accept", "close", "publish", "reject", "withdraw", "hide", "unhide")  # suggestions.handling_views
FORM_ADDRESSES = ("transfer", "extend", "rate", "reply", "vote", "'switch-support'", "follow", *STATUS_ACTIONS)


def _account_key() -> str:
    return account_key(current_user.id)


@bp.app_context_processor
def _labels() -> dict:
    """Label tables for proposal statuses, decisions, types and relations, available in every template."""
    return {"status_labels": STATUS_LABELS, "decision_labels": DECISION_LABELS,
            "type_labels": MESSAGE_TYPE_LABELS, "reject_labels": REJECT_REASON_LABELS,
            "satisfaction_labels": SATISFACTION_LABELS, "rating_reason_labels": RATING_REASON_LABELS,
            "relation_of": similar.relation, "relation_labels": similar.RELATIONS}


@bp.route("/new/<int:campaign_id>", methods=["GET", "POST"])
@login_required
@limit_submissions(_account_key)
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
    form.category.choices = select_choices([("", _("Choose…"))] +
                                           [(c.code, c.display_name(locale)) for c in campaign.categories])
    findings = []
    phone_missing = campaign.phone_to_submit and not has_verified_phone(current_user)
    target = draft_services.comment_target(campaign, form.draft_article.data or request.args.get("article"))
    if target is not None and not form.is_submitted():
        _start_comment(form, target)
    if form.validate_on_submit():
        already = services.submission_by_key(current_user, form.submission_key.data)
        if already is not None:
            return _already_received(already)
        refusal = _comment_refusal(form, target)
        if refusal:
            return render_template("suggestions/form.html", form=form, campaign=campaign, findings=findings,
                                   phone_missing=phone_missing, target=target), 422
        findings = _personal_data(form.title.data, form.body.data)
        if findings and not form.privacy_reviewed.data:
            # Personal data in the public text: show the form again, with everything typed, and offer to move it.
            form.privacy_reviewed.data, form.move_details.data = "1", True
            return render_template("suggestions/form.html", form=form, campaign=campaign, findings=findings,
                                   phone_missing=phone_missing, target=target)
        category = db.session.scalar(sa.select(Category).where(Category.code == form.category.data))
        try:
            suggestion = services.submit_suggestion(
                current_user, campaign, title=form.title.data, body=form.body.data, category=category,
                message_type=form.message_type.data, contact=form.contact(),
                move_personal_data=bool(findings) and form.move_details.data,
                network=request_network_key(request, current_app.config), submission_key=form.submission_key.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
        except services.AlreadySubmitted as sent:  # the same form sent twice at once: the other sending saved it
            return _already_received(sent.suggestion)
        else:
            if target is not None:
                draft_services.attach_comment(suggestion, target, form.draft_quote.data)
            saved_then(url_for("suggestions.detail", suggestion_id=suggestion.id))
            db.session.commit()
            clustering.place_after_submit(suggestion)
            hold = moderation_queue.hold_of(suggestion)
            if suggestion.is_public:
                flash(_("Your proposal has been published."), "success")
            elif hold is not None:
                flash(_("Your proposal has been received. It contains wording that must be reviewed before "
                        "publication (%(categories)s), so it will be published after a moderator has looked at it.",
                        categories=_category_names(hold)), "info")
            else:
                flash(_("Your proposal has been received and will be published after screening."), "success")
            return redirect(url_for("suggestions.detail", suggestion_id=suggestion.id), code=303)
    status = 422 if form.is_submitted() else 200
    if wants_json() and form.is_submitted():
        return jsonify(error=_("The proposal was not saved."), fields=form.errors, status=status), status
    return render_template("suggestions/form.html", form=form, campaign=campaign, findings=findings,
                           phone_missing=phone_missing, target=target), status


def _comment_refusal(form: SuggestionForm, target: draft_services.Target | None) -> bool:
    """A comment form that cannot be saved as sent, with the reason put on the form: the article is gone from
    the draft's current version (sent again, the comment is on the whole draft), or the passage is not the
    article's."""
    if target is None:
        return False
    if target.missing:
        form.draft_article.data, form.draft_quote.data = draft_services.WHOLE_DRAFT, ""
        form.form_errors.append(_("The current version of the draft no longer has this article. Send the form "
                                  "again to comment on the whole draft, or go back to the draft to choose another "
                                  "article."))
        return True
    if form.draft_quote.data and not (
            target.provision and draft_services.passage_in(target.provision.text, form.draft_quote.data)):
        form.draft_quote.errors.append(_("The passage must be copied from the article's text, or left empty."))
        return True
    return False


def _start_comment(form: SuggestionForm, target: draft_services.Target) -> None:
    """The proposal form opened from a draft: it remembers the article and the passage selected, and offers a
    title naming the article."""
    if target.missing:
        flash(_("The current version of the draft no longer has this article: this comment is on the whole draft."),
              "info")
    provision = target.provision
    form.draft_article.data = str(provision.article_id) if provision else draft_services.WHOLE_DRAFT
    if provision is not None:
        form.draft_quote.data = draft_services.passage_in(provision.text, request.args.get("quote", ""))
    form.title.data = (_("Comment on %(article)s", article=provision.label or provision.heading)
                       if provision else _("Comment on the whole draft"))


def _already_received(suggestion: Suggestion):
    """The answer to a proposal form sent again after its first sending was saved: that proposal, not a copy."""
    flash(_("This proposal had already been received: here it is. It was saved once."), "info")
    return redirect(url_for("suggestions.detail", suggestion_id=suggestion.id), code=303)


def _personal_data(title: str, text: str) -> list[tuple[str, str]]:
    """What the form tells the author about personal data in the title and text: (kind, as others would see it)."""
    return [(str(KIND_LABELS[f.kind]), f.replacement) for _where, f in contacts.findings_in(title or "", text or "")]


@bp.post("/privacy-check")
@login_required
def privacy_check():
    """While the author types (static/js/privacy.js): a note about personal data in the title and text, or
    nothing. A POST, so that the text stays out of URLs and server logs; it reads and writes nothing."""
    findings = _personal_data(request.form.get("title", "")[:TITLE_MAX_LENGTH],
                              request.form.get("body", "")[:BODY_MAX_LENGTH])
    return render_template("suggestions/_privacy_notice.html", findings=findings, live=True)


def _category_names(hold) -> str:
    return "、".join(str(WORD_CATEGORY_LABELS.get(code, code)) for code in hold.categories)


def _visible_or_404(suggestion_id: int) -> Suggestion:
    suggestion = db.get_or_404(Suggestion, suggestion_id, options=[joinedload(Suggestion.campaign)])
    if not suggestion.visible_to(current_user):
        abort(404)
    return suggestion


@bp.get("/<int:suggestion_id>")
def detail(suggestion_id: int, reply_form: ReplyForm | None = None, extension_form: ExtensionForm | None = None,
           rating_form: RatingForm | None = None):
    suggestion = _visible_or_404(suggestion_id)
    is_staff = handling.can_handle(current_user, suggestion)
    similar_found, cluster = [], None
    if suggestion.is_public:
        similar_found = related.related_of(suggestion)
        member = db.session.get(ClusterMember, suggestion.id)
        cluster = member.cluster if member is not None and member.cluster.size > 1 else None
    my_vote, vote_held = queries.vote_of(current_user, suggestion.id), queries.vote_is_held(current_user, suggestion.id)
    # Supporting this proposal, a viewer may move that support to a related one (one request: switch_support).
    switch_from = (suggestion if my_vote == 1 and not vote_held and suggestion.status in services.VOTABLE_STATUSES
                   else None)
    # Authors of variants in a cluster staff confirmed are invited to support its representative.
    invite = (cluster is not None and cluster.confirmed_at is not None and current_user.is_authenticated
              and current_user.id == suggestion.author_id and cluster.representative_id != suggestion.id
              and cluster.representative.is_public
              and cluster.representative.author_id != current_user.id
              and queries.vote_of(current_user, cluster.representative_id) != 1
              and suggestion.campaign.accepts_submissions(utcnow()))
    latest_extension = deadlines.latest_extension_date(suggestion) if suggestion.reply_due_on else None
    routing = (handling.routing_suggestions(current_app.config["ROUTER_DIR"], suggestion)
               if is_staff and suggestion.status == "published" else {})
    return render_template(
        "suggestions/detail.html", suggestion=suggestion, campaign=suggestion.campaign, is_staff=is_staff,
        reveal=suggestion.private_details_visible_to(current_user),
        similar_found=similar_found, cluster=cluster, invite_to_representative=invite, switch_from=switch_from,
        related_votes=queries.votes_of(current_user, [s.id for s, _match in similar_found]),
        cluster_supporters=cluster_rows.distinct_supporters(cluster) if cluster else 0,
        my_vote=my_vote, now=utcnow(), vote_held=vote_held,
        phone_missing=suggestion.campaign.phone_to_vote and current_user.is_authenticated
        and not has_verified_phone(current_user),
        reply_form=reply_form or ReplyForm(formdata=None), reject_form=RejectForm(formdata=None, prefix="reject"),
        hide_form=HideForm(formdata=None, prefix="hide"),
        extension_form=_bounded(extension_form or ExtensionForm(formdata=None), suggestion, latest_extension),
        overdue=deadlines.is_overdue(suggestion),
        deadline_history=deadlines.deadline_history(suggestion),
        rating_form=rating_form or RatingForm(formdata=None),
        can_rate=current_user.is_authenticated and current_user.id == suggestion.author_id
        and ratings.rateable_reply(suggestion) is not None,
        body_query=request.args.get("body_q", "")[:100],
        transfer_bodies=_transfer_choices(suggestion, request.args.get("body_q", "")[:100]) if is_staff else [],
        outcomes=outcome_services.outcomes_of(suggestion),
        following=current_user.is_authenticated
        and db.session.get(Follow, (current_user.id, suggestion.id)) is not None,
        routing=routing,
        assign_bodies=_assign_choices(suggestion, routing) if is_staff and suggestion.status == "published" else [],
        hold=moderation_queue.hold_of(suggestion) if suggestion.status == "pending" else None,
        hold_categories=_category_names, reported=moderation_queue.reported_by(current_user, suggestion),
        extensions_left=max(suggestion.campaign.max_extensions - len(deadlines.extensions_this_round(suggestion)), 0),
        latest_extension=latest_extension)


def _bounded(form: ExtensionForm, suggestion: Suggestion, latest: date | None) -> ExtensionForm:
    """The date picker offers only the dates an extension may set: after the current deadline (and today), up to
    ``latest``, the campaign's limit (the server checks the same). It also carries the working days after the
    current deadline up to ``latest``, so that static/js/workdays.js can say how many a chosen date adds."""
    if latest is not None:
        earliest = max(suggestion.reply_due_on, deadlines.today()) + timedelta(days=1)
        days_after = (suggestion.reply_due_on + timedelta(days=n)
                      for n in range(1, (latest - suggestion.reply_due_on).days + 1))
        form.new_due_on.render_kw = {
            "min": earliest.isoformat(), "max": latest.isoformat(), "aria-describedby": "extension-count",
            "data-working-days": ",".join(day.isoformat() for day in days_after if is_working_day(day))}
    return form


def _assign_choices(suggestion: Suggestion, routing: dict) -> list[Body]:
    """The bodies the acceptance form offers as lead and co-handling bodies: the campaign's body, the routing
    model's suggestions, then the campaign body's neighbours; at most 40, never all 16,000."""
    campaign_body = suggestion.campaign.body
    offered = [campaign_body, *(body for body, _share in routing.get("body", ())),
               *regions.nearby_bodies(campaign_body, limit=40)]
    return list({body.id: body for body in offered}.values())[:40]


def _transfer_choices(suggestion: Suggestion, query: str) -> list[Body]:
    """The bodies the transfer form offers: those matching ``query`` (the body picker, also without JavaScript),
    else the handling body's neighbours (parent, children, siblings, its region): never all 16,000."""
    if query.strip() or suggestion.handling_body is None:
        return regions.find_bodies(query, limit=40, exclude=suggestion.handling_body_id)
    return regions.nearby_bodies(suggestion.handling_body, limit=40)


@bp.post("/<int:suggestion_id>/rate")
@login_required
def rate(suggestion_id: int):
    """The author rates the latest official reply (once per reply)."""
    suggestion = _visible_or_404(suggestion_id)
    form = RatingForm()
    if not form.validate():
        return detail(suggestion_id, rating_form=form), 422
    status_before = suggestion.status
    try:
        ratings.rate_reply(current_user, suggestion, form.satisfaction.data, form.reasons.data or [],
                           form.comment.data or "")
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion, TOP))
    db.session.commit()
    if suggestion.status != status_before:
        flash(_("Thank you. The proposal has been reopened: the body will reply again."), "success")
    else:
        flash(_("Thank you for rating the reply."), "success")
    return redirect(_detail_url(suggestion, TOP), code=303)


@bp.get("/notifications")
@login_required
def notifications_page():
    """The user's notifications, newest first; opening the page marks them read."""
    query = (sa.select(Notification).where(Notification.user_id == current_user.id)
             .order_by(Notification.id.desc()))
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    unread = {n.id for n in page.items if n.read_at is None}
    notifications.mark_read(current_user)
    db.session.commit()
    return render_template("suggestions/notifications.html", page=page, unread=unread,
                           message=notifications.message)


@bp.app_context_processor
def _unread_notifications() -> dict:
    if not current_user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": notifications.unread_count(current_user)}


@bp.get("/timeliness")
def timeliness():
    """Public: each body's proposals awaiting a reply and how many are overdue; satisfaction with replies."""
    rollup.ensure_fresh()
    return render_template("suggestions/timeliness.html", rows=deadlines.overdue_by_body(), today=deadlines.today(),
                           satisfaction=metrics.by_body("satisfaction"), figures_as_of=rollup.refreshed_at())


@bp.get(f"/<int:suggestion_id>/<any({', '.join(FORM_ADDRESSES)}):action>")
def form_address(suggestion_id: int, action: str):
    """A form's address opened in the browser (reloaded after a refused form, or copied): the proposal it acts on,
    instead of a 405 page."""
    return redirect(url_for("suggestions.detail", suggestion_id=suggestion_id), code=303)


@bp.get("/mine")
@login_required
def mine():
    """The citizen's own proposals, whatever their status."""
    query = (sa.select(Suggestion).where(Suggestion.author_id == current_user.id)
             .order_by(Suggestion.created_at.desc(), Suggestion.id.desc()))
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("suggestions/mine.html", page=page)


def _detail_url(suggestion: Suggestion, anchor: str | None = None) -> str:
    return url_for("suggestions.detail", suggestion_id=suggestion.id, _anchor=anchor)


# The vote, switch-support and follow views, and the staff's handling views, live in their own modules, on this
# blueprint.
from suggestions import handling_views, vote_views  # noqa: E402, F401
