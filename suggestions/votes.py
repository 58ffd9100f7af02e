"""Votes: support, oppose, withdraw, switch support to a related proposal; moderators hold and release votes.

The vote rows are the truth and each proposal's counters follow them in the vote's own transaction
(``_count_change``); ``recount_votes`` (``flask suggestions recount``) repairs any drift. Services flush; the
caller commits.
"""
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import User
from accounts.permissions import require_moderator
from accounts.phones import require_verified_phone
from core.database import insert_for
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.models import utcnow
from search.indexing import move_counters
from suggestions.deadlines import note_support_threshold
from suggestions.models import Status, Suggestion, Vote

VOTABLE_STATUSES = (Status.PUBLISHED, Status.ACCEPTED, Status.REPLIED)
PHONE_TO_VOTE = _l("This campaign asks for a verified mobile number before you support or oppose a proposal. "
                   "Verify yours in your account settings: no one else sees it.")


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
