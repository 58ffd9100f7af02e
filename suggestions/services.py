"""Proposal services: submit, screen, accept, reply, close, withdraw, hide (votes: ``suggestions.votes``).

Each status change is one function and one audit row. Services flush; the caller commits.
"""
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.permissions import require_body_staff, require_moderator, require_screener
from accounts.phones import require_verified_phone
from campaigns.models import Campaign, Category
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text
from moderation import words
from suggestions.clustering import leave_cluster
from suggestions.contacts import ContactDetails, clean_contact, move_into_contact
from suggestions.deadlines import record_first_reply, start_deadline
from suggestions.handling import can_handle
from suggestions.models import (
    PUBLIC_STATUSES,
    STAFF_DECISIONS,
    MessageType,
    PrivateContact,
    Reply,
    Status,
    Suggestion,
)
from suggestions.notifications import notify
from suggestions.votes import (  # noqa: F401 (votes live in suggestions.votes; callers may say services.vote)
    VOTABLE_STATUSES,
    counters_for_update,
    counters_moved,
    recount_votes,
    set_votes_held,
    switch_support,
    vote,
    withdraw_vote,
)

TITLE_MAX_LENGTH = 80
BODY_MAX_LENGTH = 5000
REPLY_MAX_LENGTH = 10000
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
REJECT_REASONS = ("off_topic", "duplicate", "abusive", "personal_data", "not_a_proposal")

PHONE_TO_SUBMIT = _l("This campaign asks for a verified mobile number before you submit a proposal. Verify yours "
                     "in your account settings: no one else sees it.")


def _clean_title(title: str) -> str:
    return clean_text(title, field=_l("Title"), max_length=TITLE_MAX_LENGTH, min_length=4)


def _clean_body(body: str) -> str:
    return clean_text(body, field=_l("Content"), max_length=BODY_MAX_LENGTH, min_length=10, multiline=True)


def new_submission_key() -> str:
    """A fresh key for one proposal form: sent back with the form, stored with the proposal it saves."""
    return secrets.token_urlsafe(18)


def usable_submission_key(key: str | None) -> str | None:
    """The key if it looks like one (8 to 64 letters, digits, ``-`` or ``_``), else None: a made-up value is
    ignored rather than refused, and never reaches the database."""
    return key if key and SUBMISSION_KEY.fullmatch(key) else None


def submission_by_key(author: User, key: str | None) -> Suggestion | None:
    """The proposal ``author`` already saved with this submission key, if any: a form or API call sent again
    (after a lost answer, a timeout, a restart) gets the proposal its first sending saved, not a second one."""
    key = usable_submission_key(key)
    if key is None:
        return None
    return db.session.scalar(sa.select(Suggestion).where(Suggestion.author_id == author.id,
                                                         Suggestion.submission_key == key))


class AlreadySubmitted(Exception):
    """The proposal form (or API call) was sent twice at once: the other sending saved ``suggestion``."""

    def __init__(self, suggestion: Suggestion):
        super().__init__(suggestion.id)
        self.suggestion = suggestion


def _add_once(suggestion: Suggestion, author: User) -> None:
    """Add and flush a new proposal; one carrying a submission key another request of the author saved first (its
    unique index refuses the second) raises ``AlreadySubmitted`` with that one, this transaction still usable."""
    if suggestion.submission_key is None:
        db.session.add(suggestion)
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.add(suggestion)
    except sa.exc.IntegrityError:
        first = submission_by_key(author, suggestion.submission_key)
        if first is None:
            raise
        raise AlreadySubmitted(first) from None


def submit_suggestion(author: User, campaign: Campaign, *, title: str, body: str, category: Category | None,
                      message_type: str, contact: ContactDetails | None = None, move_personal_data: bool = False,
                      network: str | None = None, submission_key: str | None = None,
                      now: datetime | None = None) -> Suggestion:
    """Submit a proposal to an open campaign; published at once unless the campaign screens first or the text
    contains a word of the sensitive-word list (then it is held for review). ``contact`` is kept private;
    ``move_personal_data`` first moves the personal data written in the title and text into it. ``network`` is
    the request's network key (``core.network``), kept for flood detection. ``submission_key`` is stored unique
    per author: callers answer a sending found by ``submission_by_key`` before calling, and two sendings at once
    end in ``AlreadySubmitted`` for the second."""
    now = now or utcnow()
    if not campaign.accepts_submissions(now):
        raise Conflict(_l("This campaign is not taking proposals now."))
    if campaign.phone_to_submit:
        require_verified_phone(author, PHONE_TO_SUBMIT)
    if category is None or category not in campaign.categories:
        raise InvalidInput(_l("Choose one of this campaign's categories."))
    if message_type not in MessageType.__members__.values():
        raise InvalidInput(_l("Choose a message type."))
    title, body, contact = _clean_title(title), _clean_body(body), clean_contact(contact)
    if move_personal_data:
        title, body, contact = move_into_contact(title, body, contact)
        title, body, contact = _clean_title(title), _clean_body(body), clean_contact(contact)
    held_for = words.screen(title, body)
    waits = campaign.screening or bool(held_for)
    suggestion = Suggestion(
        campaign=campaign, author=author, category=category, message_type=message_type, title=title, body=body,
        status=Status.PENDING if waits else Status.PUBLISHED, published_at=None if waits else now,
        public_since=None if waits else now, created_at=now, network_key=network,
        submission_key=usable_submission_key(submission_key),
    )
    _add_once(suggestion, author)
    if held_for:
        words.hold(suggestion, held_for)
    if not contact.is_empty():
        db.session.add(PrivateContact(suggestion_id=suggestion.id, name=contact.name, phone=contact.phone,
                                      address=contact.address, note=contact.note, created_at=now))
        db.session.flush()
    audit.record(author, "suggestion.submit", suggestion, body_id=campaign.body_id, status=suggestion.status,
                 private_contact=not contact.is_empty(),
                 **({"held_for": [m["word"] for m in held_for]} if held_for else {}))
    return suggestion


def _transition(actor: User | None, suggestion: Suggestion, allowed_from: tuple, to: Status, action: str,
                **detail) -> None:
    if suggestion.status not in allowed_from:
        raise Conflict(_l("This proposal cannot move from its current state to that one."))
    previous = suggestion.status
    suggestion.status = to
    if previous in PUBLIC_STATUSES and to not in PUBLIC_STATUSES:
        leave_cluster(suggestion)
    elif to in PUBLIC_STATUSES and previous not in PUBLIC_STATUSES:
        suggestion.public_since = utcnow()
    audit.record(actor, action, suggestion, body_id=suggestion.campaign.body_id, previous=previous,
                 status=str(to), **detail)


def publish_suggestion(actor: User, suggestion: Suggestion, now: datetime | None = None) -> None:
    """Screening passed: make a pending proposal public (the campaign body's staff, or a moderator)."""
    require_screener(actor, suggestion.campaign.body_id)
    _transition(actor, suggestion, (Status.PENDING,), Status.PUBLISHED, "suggestion.publish")
    suggestion.published_at = now or utcnow()


def reject_suggestion(actor: User, suggestion: Suggestion, reason: str) -> None:
    """Screening failed: reject a pending or published proposal with a reason code (the campaign body's staff,
    or a moderator)."""
    require_screener(actor, suggestion.campaign.body_id)
    if reason not in REJECT_REASONS:
        raise InvalidInput(_l("Choose a reason for the rejection."))
    _transition(actor, suggestion, (Status.PENDING, Status.PUBLISHED), Status.REJECTED,
                "suggestion.reject", reason=reason)
    suggestion.reject_reason = reason


def accept_suggestion(actor: User, suggestion: Suggestion, now: datetime | None = None, *,
                      needs_investigation: bool = False, notify_audience: bool = True) -> None:
    """受理: the campaign's body takes the proposal on as its handling body; the reply deadline starts."""
    require_body_staff(actor, suggestion.campaign.body_id)
    _transition(actor, suggestion, (Status.PUBLISHED,), Status.ACCEPTED, "suggestion.accept",
                needs_investigation=needs_investigation)
    suggestion.handling_body_id = suggestion.campaign.body_id
    suggestion.accepted_at = now or utcnow()
    start_deadline(suggestion, needs_investigation=needs_investigation)
    if notify_audience:
        notify(suggestion, "accepted", actor)


def reply_to_suggestion(actor: User, suggestion: Suggestion, *, decision: str, content: str,
                        now: datetime | None = None) -> Reply:
    """Post the official reply with its decision; a published proposal is accepted first."""
    now = now or utcnow()
    if not can_handle(actor, suggestion):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))
    if decision not in STAFF_DECISIONS:
        raise InvalidInput(_l("Choose a decision."))
    content = clean_text(content, field=_l("Reply"), max_length=REPLY_MAX_LENGTH, min_length=10, multiline=True)
    if suggestion.status == Status.PUBLISHED:
        accept_suggestion(actor, suggestion, now, notify_audience=False)
    _transition(actor, suggestion, (Status.ACCEPTED,), Status.REPLIED, "suggestion.reply", decision=decision)
    reply = Reply(suggestion=suggestion, body_id=suggestion.handling_body_id, author=actor,
                  decision=decision, content=content, created_at=now)
    db.session.add(reply)
    suggestion.replied_at = now
    record_first_reply(suggestion, now)
    db.session.flush()
    notify(suggestion, "replied", actor)
    return reply


def close_suggestion(actor: User, suggestion: Suggestion, now: datetime | None = None) -> None:
    """Close a replied proposal: handling is finished."""
    require_body_staff(actor, suggestion.campaign.body_id)
    _transition(actor, suggestion, (Status.REPLIED,), Status.CLOSED, "suggestion.close")
    suggestion.closed_at = now or utcnow()
    notify(suggestion, "closed", actor)


def withdraw_suggestion(author: User, suggestion: Suggestion) -> None:
    """The author takes back a proposal that no body has taken on yet."""
    if suggestion.author_id != author.id:
        raise NotAllowed(_l("Only the author may withdraw a proposal."))
    _transition(author, suggestion, (Status.PENDING, Status.PUBLISHED), Status.WITHDRAWN, "suggestion.withdraw")


def hide_suggestion(moderator: User, suggestion: Suggestion, reason: str) -> None:
    """Moderation: hide a proposal from every public page."""
    require_moderator(moderator)
    reason = clean_text(reason, field=_l("Reason"), max_length=200)
    if suggestion.status == Status.HIDDEN:
        raise Conflict(_l("This proposal is already hidden."))
    _transition(moderator, suggestion, tuple(Status), Status.HIDDEN, "suggestion.hide", reason=reason)


def hide_after_reports(suggestion: Suggestion, reports: int) -> None:
    """Moderation without a moderator: enough distinct accounts reported the published proposal, so it is hidden
    until a moderator decides (``moderation.services``); the audit row has no actor. A proposal in handling
    (accepted or further) is never hidden this way."""
    _transition(None, suggestion, (Status.PUBLISHED,), Status.HIDDEN, "suggestion.hide", reason="reports",
                reports=reports, automatic=True)


def unhide_suggestion(moderator: User, suggestion: Suggestion) -> None:
    """Moderation: restore a hidden proposal to the status it had before."""
    require_moderator(moderator)
    hidden = db.session.scalar(
        sa.select(audit.AuditLog).where(audit.AuditLog.target_type == Suggestion.__tablename__,
                                        audit.AuditLog.target_id == suggestion.id,
                                        audit.AuditLog.action == "suggestion.hide")
        .order_by(audit.AuditLog.id.desc()).limit(1))
    previous = Status((hidden.detail or {}).get("previous", Status.PUBLISHED)) if hidden else Status.PUBLISHED
    _transition(moderator, suggestion, (Status.HIDDEN,), previous, "suggestion.unhide")
