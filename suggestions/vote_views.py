"""Supporting and opposing a proposal, moving one's support to a related one, and following a proposal: views on
the ``suggestions`` blueprint (``suggestions.views`` imports this module once the blueprint exists)."""
from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.phones import PhoneRequired
from core.errors import DomainError, InvalidInput
from core.extensions import db
from core.network import request_network_key
from core.params import record_id
from core.ratelimit import limit_votes
from core.web import error_response, redirect_with_error, saved_then, wants_json
from suggestions import notifications, services
from suggestions.models import Suggestion
from suggestions.views import _account_key, _detail_url, _visible_or_404, bp

VOTE_VALUES = {"support": 1, "oppose": -1}


@bp.post("/<int:suggestion_id>/vote")
@login_required
@limit_votes(_account_key)
def cast_vote(suggestion_id: int):
    suggestion = _visible_or_404(suggestion_id)
    choice = request.form.get("value", "")
    if choice not in VOTE_VALUES and choice != "withdraw":
        return redirect_with_error(DomainError(_("Choose support or oppose.")), _detail_url(suggestion))
    try:
        if choice == "withdraw":
            services.withdraw_vote(current_user, suggestion)
        else:
            services.vote(current_user, suggestion, VOTE_VALUES[choice],
                          network=request_network_key(request, current_app.config))
    except PhoneRequired as error:
        return _phone_needed(error, suggestion)
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    # Read before the commit expires them (a popular proposal's votes need not reload its row afterwards).
    counts, back = {"support_count": suggestion.support_count, "oppose_count": suggestion.oppose_count}, \
        _detail_url(suggestion)
    saved_then(back)
    db.session.commit()
    if wants_json():
        return jsonify(**counts, my_vote=VOTE_VALUES.get(choice, 0))
    flash(_("Your vote has been withdrawn.") if choice == "withdraw" else _("Thank you, your vote is recorded."),
          "success")
    return redirect(back, code=303)


@bp.post("/<int:suggestion_id>/switch-support")
@login_required
@limit_votes(_account_key)
def switch_support(suggestion_id: int):
    """Move the user's support from this proposal to a related one (``to``): both change, or neither."""
    suggestion = _visible_or_404(suggestion_id)
    target_id = request.form.get("to", type=record_id)
    if not target_id:
        return redirect_with_error(InvalidInput(_("Choose another proposal to support.")), _detail_url(suggestion))
    target = _visible_or_404(target_id)
    try:
        services.switch_support(current_user, suggestion, target,
                                network=request_network_key(request, current_app.config))
    except PhoneRequired as error:
        return _phone_needed(error, target)
    except DomainError as error:
        return redirect_with_error(error, _detail_url(suggestion))
    db.session.commit()
    if wants_json():
        return jsonify(moved_from={"id": suggestion.id, "support_count": suggestion.support_count},
                       moved_to={"id": target.id, "support_count": target.support_count})
    flash(_("Your support has moved to this proposal."), "success")
    return redirect(_detail_url(target), code=303)


def _phone_needed(error: PhoneRequired, suggestion: Suggestion):
    """A vote refused for lack of a verified number: say why and offer to verify one, rather than a bare 403."""
    db.session.rollback()
    if wants_json():
        return error_response(str(error.message), 403)
    flash(str(error.message), "error")
    return redirect(url_for("accounts.phone", next=_detail_url(suggestion)), code=303)


@bp.post("/<int:suggestion_id>/follow")
@login_required
def follow(suggestion_id: int):
    """Follow a proposal (or stop following it): be told of its replies and status changes."""
    suggestion = _visible_or_404(suggestion_id)
    following = notifications.follow(current_user, suggestion)
    db.session.commit()
    flash(_("You now follow this proposal.") if following else _("You no longer follow this proposal."), "success")
    return redirect(_detail_url(suggestion), code=303)
