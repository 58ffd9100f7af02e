"""JSON API v1 writes, with a personal API token: submitting, supporting, opposing and withdrawing, through the
same services as the pages; views on the ``api`` blueprint (``api.views`` imports this module once it exists).
Only the ``Authorization: Bearer`` header authenticates (see ``api.views``)."""
from flask import current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from accounts.models import User
from api import serialize, tokens
from api.openapi import MAX_ID
from api.tokens import Unauthenticated
from api.views import BadParameter, Unprocessable, _public_proposal, bp
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db, limiter
from core.network import request_network_key
from core.ratelimit import MESSAGES, account_key, address_key, configured, limit_submissions, limit_votes
from core.web import saved_then
from drafts import services as draft_services
from suggestions import clustering, services
from suggestions.contacts import ContactDetails
from suggestions.models import MessageType, Suggestion

# ---- JSON bodies ----------------------------------------------------------------------------------------------


def _json_object() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadParameter(_("Send a JSON object in the request body, with Content-Type: application/json."))
    return data


def _id_field(data: dict, name: str) -> int:
    value = data.get(name)
    if value is None:
        raise Unprocessable(_("The field “%(name)s” is required.", name=name))
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise Unprocessable(_("The field “%(name)s” must be a whole number from 1 to %(max)d.", name=name,
                              max=MAX_ID))
    return value


def _text_field(data: dict, name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if value is None:
        raise Unprocessable(_("The field “%(name)s” is required.", name=name))
    if not isinstance(value, str):
        raise Unprocessable(_("The field “%(name)s” must be a string.", name=name))
    return value


def _contact_field(data: dict) -> ContactDetails:
    """The optional private contact details: an object of strings (name, phone, address, note)."""
    value = data.get("contact")
    if value is None:
        return ContactDetails()
    fields = ("name", "phone", "address", "note")
    if not isinstance(value, dict) or set(value) - set(fields):
        raise Unprocessable(_("The field “%(name)s” must be an object with the strings %(fields)s.",
                              name="contact", fields=", ".join(fields)))
    return ContactDetails(**{name: _text_field(value, name, default="") for name in fields if name in value})


# ---- token and writes -----------------------------------------------------------------------------------------


def _bearer_secret() -> str:
    scheme, _sep, secret = request.headers.get("Authorization", "").strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _token_user() -> User:
    """The user whose token came with the request (never the session cookie), looked up once per request."""
    if "api_token_user" not in g:
        try:
            g.api_token_user = tokens.authenticate(_bearer_secret()).user
        except Unauthenticated as error:
            g.api_token_user, g.api_token_error = None, error
    if g.api_token_user is None:
        raise g.api_token_error
    return g.api_token_user


def _account_key() -> str:
    """Limits count per user (all their tokens together, and with their use of the pages); requests without a valid
    token per address, so made-up tokens do not each get a fresh allowance."""
    try:
        return account_key(_token_user().id)
    except Unauthenticated:
        return address_key()


limit_writes = limiter.shared_limit(configured("API_WRITE_RATE_LIMIT"), scope="api-writes", key_func=_account_key,
                                    error_message=MESSAGES["api_write"])


@bp.post("/proposals")
@limit_writes
@limit_submissions(_account_key)
def submit():
    """Submit a proposal to an open campaign, as the token's user (the same service as the form)."""
    user = _token_user()
    data = _json_object()
    campaign_id = _id_field(data, "campaign_id")
    title, text = _text_field(data, "title"), _text_field(data, "body")
    code = _text_field(data, "category")
    message_type = _text_field(data, "message_type", default=MessageType.SUGGESTION.value)
    contact, move = _contact_field(data), data.get("move_personal_data", False)
    if not isinstance(move, bool):
        raise Unprocessable(_("The field “%(name)s” must be true or false.", name="move_personal_data"))
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise Unprocessable(_("No campaign has the number %(id)d.", id=campaign_id))
    category = next((c for c in campaign.categories if c.code == code), None)
    target = draft_services.comment_target(campaign, None)
    article_id = _id_field(data, "draft_article") if data.get("draft_article") is not None else None
    quote = _text_field(data, "draft_quote", default="")
    if target is not None and article_id is not None:
        target = draft_services.comment_target(campaign, str(article_id))
        if target.provision is None:
            raise Unprocessable(_("The draft has no article %(id)d in its current version.", id=article_id))
    if quote and (target is None or target.provision is None
                  or not draft_services.passage_in(target.provision.text, quote)):
        raise Unprocessable(_("The passage must be copied from the article's text, or left empty."))
    key = request.headers.get("Idempotency-Key")
    already = services.submission_by_key(user, key)
    if already is not None:
        return _already_received(already)
    try:
        suggestion = services.submit_suggestion(user, campaign, title=title, body=text, category=category,
                                                message_type=message_type, contact=contact, move_personal_data=move,
                                                network=request_network_key(request, current_app.config),
                                                submission_key=key)
    except services.AlreadySubmitted as sent:  # sent twice at once: the other sending saved it
        return _already_received(sent.suggestion)
    if target is not None:  # a campaign consulting on a draft: a comment on the article, else on the whole draft
        draft_services.attach_comment(suggestion, target, quote)
    saved_then(url_for("api.proposal", suggestion_id=suggestion.id))
    db.session.commit()
    clustering.place_after_submit(suggestion)
    response = jsonify(serialize.proposal(suggestion))
    response.status_code = 201
    response.headers["Location"] = url_for("api.proposal", suggestion_id=suggestion.id)
    return response


def _already_received(suggestion: Suggestion):
    """The answer to a submission sent again with the Idempotency-Key of one already saved: that proposal (200,
    where the first sending answered 201), not a copy."""
    response = jsonify(serialize.proposal(suggestion))
    response.headers["Location"] = url_for("api.proposal", suggestion_id=suggestion.id)
    return response


def _vote_answer(suggestion: Suggestion, my_vote: int):
    return jsonify(proposal_id=suggestion.id, support_count=suggestion.support_count,
                   oppose_count=suggestion.oppose_count, my_vote=my_vote)


def _vote(suggestion_id: int, value: int):
    user = _token_user()
    suggestion = _public_proposal(suggestion_id)
    services.vote(user, suggestion, value, network=request_network_key(request, current_app.config))
    saved_then(url_for("api.proposal", suggestion_id=suggestion.id))
    db.session.commit()
    return _vote_answer(suggestion, value)


@bp.post("/proposals/<int:suggestion_id>/support")
@limit_writes
@limit_votes(_account_key)
def support(suggestion_id: int):
    """Support (+1) a public proposal; voting again changes the vote, never adds a second one."""
    return _vote(suggestion_id, 1)


@bp.post("/proposals/<int:suggestion_id>/oppose")
@limit_writes
@limit_votes(_account_key)
def oppose(suggestion_id: int):
    """Oppose (-1) a public proposal, where its campaign takes opposing votes."""
    return _vote(suggestion_id, -1)


@bp.delete("/proposals/<int:suggestion_id>/vote")
@limit_writes
@limit_votes(_account_key)
def withdraw_vote(suggestion_id: int):
    """Take back the token user's support or opposition, if any."""
    user = _token_user()
    suggestion = _public_proposal(suggestion_id)
    services.withdraw_vote(user, suggestion)
    db.session.commit()
    return _vote_answer(suggestion, 0)
