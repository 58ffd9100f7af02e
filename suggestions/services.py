"""Proposal services: submit, vote, screen, accept, reply, close, withdraw, hide.

Each status change is one function and one audit row. Services flush; the caller commits.
"""
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import User
from accounts.permissions import require_body_staff, require_moderator, require_screener
from accounts.phones import require_verified_phone
from campaigns.models import Campaign, Category
from core import audit
from core.database import insert_for
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text
from moderation import words
from search.indexing import move_counters
from suggestions.clustering import leave_cluster
from suggestions.contacts import ContactDetails, clean_contact, move_into_contact
from suggestions.deadlines import note_support_threshold, record_first_reply, start_deadline
from suggestions.handling import can_handle
from suggestions.models import (
    PUBLIC_STATUSES,
    STAFF_DECISIONS,
    MessageType,
    PrivateContact,
    Reply,
    Status,
    Suggestion,
    Vote,
)
from suggestions.notifications import notify

TITLE_MAX_LENGTH = 80
BODY_MAX_LENGTH = 5000
REPLY_MAX_LENGTH = 10000
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
REJECT_REASONS = ("off_topic", "duplicate", "abusive", "personal_data", "not_a_proposal")

VOTABLE_STATUSES = (Status.PUBLISHED, Status.ACCEPTED, Status.REPLIED)
PHONE_TO_SUBMIT = _l("This campaign asks for a verified mobile number before you submit a proposal. Verify yours "
                     "in your account settings: no one else sees it.")
PHONE_TO_VOTE = _l("This campaign asks for a verified mobile number before you support or oppose a proposal. "
                   "Verify yours in your account settings: no one else sees it.")


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


def _lock_counts(suggestion: Suggestion) -> None:
    """Lock the proposal's row (PostgreSQL; SQLite already holds its write lock) and load its counters as they are
    now, before a recount by a moderator's hold or release (``_recount``); a vote moves them by ``_count_change``."""
    # FOR NO KEY UPDATE: the vote row written before holds a KEY SHARE lock on this row (its foreign key), which a
    # plain FOR UPDATE would wait on in every other voter's transaction: a deadlock between any two voters.
    support, oppose = db.session.execute(counters_for_update(suggestion.id)).one()
    set_committed_value(suggestion, "support_count", support)
    set_committed_value(suggestion, "oppose_count", oppose)


def counters_moved(suggestion_id: int, support_delta: int, oppose_delta: int) -> sa.Update:
    """The UPDATE that moves a proposal's counters by a vote, returning (id, support_count, oppose_count)."""
    return (sa.update(Suggestion).where(Suggestion.id == suggestion_id)
            .values(support_count=Suggestion.support_count + support_delta,
                    oppose_count=Suggestion.oppose_count + oppose_delta)
            .returning(Suggestion.id, Suggestion.support_count, Suggestion.oppose_count))


def counters_for_update(suggestion_id: int) -> sa.Select:
    """The proposal's counters, row-locked without blocking (or being blocked by) its votes' foreign keys."""
    return (sa.select(Suggestion.support_count, Suggestion.oppose_count).where(Suggestion.id == suggestion_id)
            .with_for_update(key_share=True))


def _count_change(suggestion: Suggestion, before: int, after: int) -> None:
    """Move the counters from one vote value to another (1, -1 or 0 for none), inside the vote's transaction.

    The vote rows are the truth; an increment keeps a popular proposal's vote O(1) where a recount read all its
    votes (20 ms at 200,000 supports), and ``flask suggestions recount`` repairs any drift. One UPDATE … RETURNING
    (with the search queue's row, ``move_counters``): its row lock is FOR NO KEY UPDATE, which never waits on the
    KEY SHARE lock other voters' new vote rows hold on the proposal, and is held only until the commit."""
    if before == after:
        return
    support, oppose = move_counters(counters_moved(suggestion.id, (after == 1) - (before == 1),
                                                   (after == -1) - (before == -1)))
    set_committed_value(suggestion, "support_count", support)
    set_committed_value(suggestion, "oppose_count", oppose)


def _require_votable(suggestion: Suggestion, now: datetime) -> None:
    """Votes, and their withdrawal, are possible only while the proposal and its campaign are open."""
    if suggestion.status not in VOTABLE_STATUSES or not suggestion.campaign.accepts_submissions(now):
        raise Conflict(_l("This proposal is not open for support now."))


def vote(voter: User, suggestion: Suggestion, value: int, now: datetime | None = None, *,
         network: str | None = None) -> None:
    """Support (+1) or oppose (-1) a proposal; voting again changes the vote, never adds a second one. A held
    vote (``set_votes_held``) stays held and uncounted whatever its value. ``network``: as in ``submit_suggestion``."""
    if value not in (1, -1):
        raise InvalidInput(_l("A vote is either support or oppose."))
    when = now or utcnow()
    _require_votable(suggestion, when)
    if value == -1 and not suggestion.campaign.allow_oppose:
        raise Conflict(_l("This campaign does not take opposing votes."))
    if suggestion.author_id == voter.id:
        raise Conflict(_l("You cannot support or oppose your own proposal."))
    if suggestion.campaign.phone_to_vote:
        require_verified_phone(voter, PHONE_TO_VOTE)
    before, after = _write_vote(voter, suggestion, value, when, network)
    _count_change(suggestion, before, after)
    note_support_threshold(suggestion, when)


def _write_vote(voter: User, suggestion: Suggestion, value: int, when: datetime, network: str | None
                ) -> tuple[int, int]:
    """Insert or change the voter's vote row; returns what it counted before and after (``Vote.counted``).

    A first vote is one statement: the row, unique per proposal and voter, is inserted unless it exists, and a
    second request of the same voter (a double click) waits on that row until the first commits or rolls back."""
    while True:
        inserted = db.session.scalar(insert_for(db.session, Vote).values(
            suggestion_id=suggestion.id, user_id=voter.id, value=value, created_at=when, network_key=network)
            .on_conflict_do_nothing(index_elements=["suggestion_id", "user_id"]).returning(Vote.id))
        if inserted is not None:
            return 0, value
        # FOR UPDATE: a moderator holding this vote at the same moment either finishes first (and we see its
        # held_at) or waits for us; a stale read would move the counters for a vote that no longer counts.
        existing = db.session.scalar(sa.select(Vote).where(Vote.suggestion_id == suggestion.id,
                                                           Vote.user_id == voter.id)
                                     .with_for_update().execution_options(populate_existing=True))
        if existing is None:  # withdrawn by the voter's other request between the two statements: insert it again
            continue
        before = existing.counted
        if existing.value != value:
            existing.value, existing.updated_at, existing.network_key = value, when, network
            db.session.flush()
        return before, existing.counted


def withdraw_vote(voter: User, suggestion: Suggestion, now: datetime | None = None) -> None:
    """Take back the voter's support or opposition, if any, while voting is open. A held vote cannot be taken back
    until moderators decide (a new vote would not be held)."""
    _require_votable(suggestion, now or utcnow())
    # Only an unheld vote is deleted, decided on the row as it is when the DELETE gets its lock: a moderator's hold
    # committed meanwhile is seen, and the counters are never moved for a vote they no longer count.
    before = db.session.scalar(sa.delete(Vote).where(Vote.suggestion_id == suggestion.id, Vote.user_id == voter.id,
                                                     Vote.held_at.is_(None))
                               .returning(Vote.value).execution_options(synchronize_session=False))
    if before is None and db.session.scalar(sa.select(Vote.id).where(Vote.suggestion_id == suggestion.id,
                                                                     Vote.user_id == voter.id)) is not None:
        raise Conflict(_l("Moderators are reviewing this vote with others cast at the same time; it cannot be "
                          "withdrawn until they have decided."))
    if before:
        _count_change(suggestion, before, 0)


def switch_support(voter: User, withdrawn_from: Suggestion, supported: Suggestion, now: datetime | None = None, *,
                   network: str | None = None) -> None:
    """Move the voter's support from one proposal to another (a related one): ``withdraw_vote`` there and ``vote``
    here, in the caller's one transaction, so that a refusal of either leaves both votes as they were once it
    rolls back. The two proposals are taken in id order, so that two citizens switching between the same two
    proposals in opposite directions queue on the counters' row locks instead of deadlocking."""
    if withdrawn_from.id == supported.id:
        raise InvalidInput(_l("Choose another proposal to support."))
    if db.session.scalar(sa.select(Vote.value).where(Vote.suggestion_id == withdrawn_from.id,
                                                     Vote.user_id == voter.id)) != 1:
        raise Conflict(_l("You do not support this proposal, so there is no support to move."))
    for suggestion in sorted((withdrawn_from, supported), key=lambda s: s.id):
        if suggestion is supported:
            vote(voter, supported, 1, now, network=network)
        else:
            withdraw_vote(voter, withdrawn_from, now)


def recount_votes() -> int:
    """Rebuild every proposal's counters from the vote rows that are not held; returns how many proposals changed.

    The proposals are locked first so that no vote commits between the count and the write (PostgreSQL);
    the UPDATE then runs with a snapshot that sees every vote committed before the locks were granted.
    """
    db.session.execute(sa.select(Suggestion.id).with_for_update())

    def count(value: int):
        return (sa.select(sa.func.count()).select_from(Vote)
                .where(Vote.suggestion_id == Suggestion.id, Vote.value == value, Vote.held_at.is_(None))
                .scalar_subquery())
    result = db.session.execute(
        sa.update(Suggestion)
        .where(sa.or_(Suggestion.support_count != count(1), Suggestion.oppose_count != count(-1)))
        .values(support_count=count(1), oppose_count=count(-1))
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    return result.rowcount


def _recount(suggestion: Suggestion) -> None:
    """One proposal's counters from its unheld vote rows, under its row lock (reads all its votes: for the rare
    moderation action, never per vote)."""
    _lock_counts(suggestion)
    counts = dict(db.session.execute(
        sa.select(Vote.value, sa.func.count()).where(Vote.suggestion_id == suggestion.id, Vote.held_at.is_(None))
        .group_by(Vote.value)).all())
    suggestion.support_count, suggestion.oppose_count = counts.get(1, 0), counts.get(-1, 0)


def set_votes_held(actor: User | None, vote_ids: sa.Select, held: bool, now: datetime | None = None) -> int:
    """Hold (leave out of the public counters, keeping the rows) or release the votes ``vote_ids`` selects (a
    SELECT of ``Vote.id``), and recount the proposals they are on; returns how many votes changed. Moderators;
    actor None is the system applying a moderator's decision to votes that join a held flood group. The calling
    action writes the audit row."""
    if actor is not None:
        require_moderator(actor)
    db.session.flush()
    # Vote rows first (in id order, so two moderators never deadlock), counters last: the order a voter takes them
    # in, so a voter and a moderator never wait on each other in a circle.
    db.session.execute(sa.select(Vote.id).where(Vote.id.in_(vote_ids)).order_by(Vote.id).with_for_update())
    changed = db.session.execute(
        sa.update(Vote).where(Vote.id.in_(vote_ids), Vote.held_at.is_(None) if held else Vote.held_at.is_not(None))
        .values(held_at=(now or utcnow()) if held else None).execution_options(synchronize_session=False)).rowcount
    for loaded in [obj for obj in db.session.identity_map.values() if isinstance(obj, Vote)]:
        db.session.expire(loaded, ["held_at"])
    suggestions = db.session.scalars(sa.select(Suggestion).where(Suggestion.id.in_(
        sa.select(Vote.suggestion_id).where(Vote.id.in_(vote_ids)))).order_by(Suggestion.id)).all()
    for suggestion in suggestions:  # in id order, so that two moderators' actions never wait on each other
        _recount(suggestion)
    db.session.flush()
    return changed


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
