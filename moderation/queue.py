"""Read-side queries of moderation: the queue's tabs and why each item is there, a reader's own reports, and
the audit-log viewer's rows. Nothing here writes."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from accounts.models import MembershipRole, User
from campaigns.models import Campaign
from core import audit
from core.audit import AuditLog
from core.extensions import db
from moderation.models import FloodGroup, FloodKind, FloodStatus, FloodVote, Report, TargetType, WordHold
from moderation.services import hidden_automatically
from suggestions.models import Reply, Status, Suggestion, Vote

BEIJING = ZoneInfo("Asia/Shanghai")
TABS = ("screening", "held", "reported", "hidden")
STAFF_TABS = ("screening", "held")  # a body's staff screen their own campaigns' pending proposals
TAB_ACTIONS = {"screening": ("publish", "reject"), "held": ("publish", "reject", "hide"),
               "reported": ("hide", "dismiss"), "hidden": ("restore", "hide")}


def tabs_for(user: User) -> tuple[str, ...]:
    """The tabs the user may open: moderators all, a body's staff the pending proposals of their campaigns."""
    if user.is_moderator:
        return TABS
    return STAFF_TABS if user.body_ids() else ()


def actions_for(user: User, tab: str) -> tuple[str, ...]:
    return tuple(a for a in TAB_ACTIONS[tab] if user.is_moderator or a in ("publish", "reject"))


def _held():
    return sa.exists().where(WordHold.suggestion_id == Suggestion.id)


def _open_reports():
    return sa.select(Report.suggestion_id).where(Report.resolved_at.is_(None))


def tab_query(user: User, tab: str) -> sa.Select:
    """The proposals of one tab the user may see (a moderator: every campaign; staff: their bodies')."""
    query = (sa.select(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)
             .options(joinedload(Suggestion.campaign), joinedload(Suggestion.author)))
    if not user.is_moderator:
        query = query.where(Campaign.body_id.in_(user.body_ids()))
    if tab == "screening":
        query = query.where(Suggestion.status == Status.PENDING, Campaign.screening.is_(True), ~_held())
    elif tab == "held":
        query = query.where(Suggestion.status == Status.PENDING, _held())
    elif tab == "reported":
        open_count = (sa.select(sa.func.count()).select_from(Report)
                      .where(Report.suggestion_id == Suggestion.id, Report.resolved_at.is_(None)).scalar_subquery())
        return query.where(Suggestion.id.in_(_open_reports())).order_by(open_count.desc(), Suggestion.id)
    else:
        hidden_reply = sa.exists().where(Reply.suggestion_id == Suggestion.id, Reply.hidden_at.is_not(None))
        return query.where(sa.or_(Suggestion.status == Status.HIDDEN, hidden_reply)).order_by(
            Suggestion.created_at.desc(), Suggestion.id.desc())
    return query.order_by(Suggestion.created_at, Suggestion.id)


def tab_counts(user: User) -> dict[str, int]:
    """How many items each of the user's tabs holds."""
    return {tab: db.session.scalar(sa.select(sa.func.count()).select_from(tab_query(user, tab).order_by(None)
                                                                          .subquery()))
            for tab in tabs_for(user)}


@dataclass
class ItemReports:
    """The open reports of one proposal or reply: how many for each reason, and the notes."""
    count: int = 0
    reasons: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


@dataclass
class Why:
    """Why a proposal is in the queue: matched words, open reports on it and on its replies, hidden replies."""
    matches: list[dict] = field(default_factory=list)
    reports: ItemReports = field(default_factory=ItemReports)
    reply_reports: dict[int, ItemReports] = field(default_factory=dict)
    replies: dict[int, Reply] = field(default_factory=dict)  # reported or hidden replies
    hidden_automatically: bool = False


def why(suggestions: list[Suggestion]) -> dict[int, Why]:
    """For each listed proposal, why it is in the queue (three queries for the page, and one for each hidden
    proposal to tell whether reports hid it)."""
    ids = [s.id for s in suggestions]
    result = {s.id: Why(hidden_automatically=hidden_automatically(s)) for s in suggestions}
    for hold in db.session.scalars(sa.select(WordHold).where(WordHold.suggestion_id.in_(ids))):
        result[hold.suggestion_id].matches = hold.matches
    reports = db.session.scalars(sa.select(Report).where(Report.suggestion_id.in_(ids), Report.resolved_at.is_(None))
                                 .order_by(Report.id))
    for entry in reports:
        item = result[entry.suggestion_id]
        summary = item.reports if entry.target_type == TargetType.SUGGESTION else \
            item.reply_reports.setdefault(entry.target_id, ItemReports())
        summary.count += 1
        summary.reasons[entry.reason] += 1
        if entry.note:
            summary.notes.append(entry.note)
    replies = db.session.scalars(sa.select(Reply).where(Reply.suggestion_id.in_(ids), sa.or_(
        Reply.hidden_at.is_not(None), Reply.id.in_([rid for w in result.values() for rid in w.reply_reports]))))
    for reply in replies:
        result[reply.suggestion_id].replies[reply.id] = reply
    return result


def targets(raw: list[str]) -> list[Suggestion | Reply] | None:
    """The items named by the queue's checkboxes ("suggestions-12", "replies-5"), each once; None if one of
    them is malformed or names nothing."""
    found = []
    for value in dict.fromkeys(raw):
        kind, _, number = value.partition("-")
        model = {TargetType.SUGGESTION.value: Suggestion, TargetType.REPLY.value: Reply}.get(kind)
        if model is None or not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= 2**31 - 1:
            return None
        item = db.session.get(model, int(number))
        if item is None:
            return None
        found.append(item)
    return found


def reported_by(user: User, suggestion: Suggestion) -> set[tuple[str, int]]:
    """The items of this proposal (itself, its replies) the user has reported: (target type, id)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return {(kind, number) for kind, number in db.session.execute(
        sa.select(Report.target_type, Report.target_id)
        .where(Report.suggestion_id == suggestion.id, Report.reporter_id == user.id))}


def hold_of(suggestion: Suggestion) -> WordHold | None:
    return db.session.get(WordHold, suggestion.id)


# --- coordinated floods (moderators only) ----------------------------------------------------------------------

def flood_query() -> sa.Select:
    """Flood groups, those awaiting a decision first, then held, then released; newest activity first."""
    order = sa.case((FloodGroup.status == FloodStatus.OPEN, 0), (FloodGroup.status == FloodStatus.HELD, 1), else_=2)
    return sa.select(FloodGroup).order_by(order, FloodGroup.last_at.desc(), FloodGroup.id.desc())


def open_flood_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(FloodGroup)
                             .where(FloodGroup.status == FloodStatus.OPEN))


@dataclass
class FloodView:
    """What the floods tab shows beside a group's stored evidence: its campaign, its proposal (a support burst)
    or sample submissions, and how many of its votes are held now."""
    campaign: Campaign
    proposal: Suggestion | None = None
    samples: list[Suggestion] = field(default_factory=list)
    held_votes: int = 0


def flood_views(groups: list[FloodGroup]) -> dict[int, FloodView]:
    """For each listed group, what the tab shows with it (four queries for the page)."""
    if not groups:
        return {}
    campaigns = {c.id: c for c in db.session.scalars(
        sa.select(Campaign).where(Campaign.id.in_({g.campaign_id for g in groups})))}
    wanted = {g.suggestion_id for g in groups if g.suggestion_id} | {
        i for g in groups if g.kind == FloodKind.SUBMISSIONS for i in (g.evidence or {}).get("samples", [])}
    proposals = {s.id: s for s in db.session.scalars(sa.select(Suggestion).where(Suggestion.id.in_(wanted)))}
    held = dict(db.session.execute(
        sa.select(FloodVote.group_id, sa.func.count()).join(Vote, Vote.id == FloodVote.vote_id)
        .where(FloodVote.group_id.in_([g.id for g in groups]), Vote.held_at.is_not(None))
        .group_by(FloodVote.group_id)).all())
    return {g.id: FloodView(
        campaign=campaigns[g.campaign_id], proposal=proposals.get(g.suggestion_id),
        samples=[proposals[i] for i in (g.evidence or {}).get("samples", []) if i in proposals]
        if g.kind == FloodKind.SUBMISSIONS else [],
        held_votes=held.get(g.id, 0)) for g in groups}


# --- the audit-log viewer ------------------------------------------------------------------------------------

def audit_scope(user: User) -> set[int] | None:
    """The bodies whose audit rows the user may read: None for every row (administrators), else the bodies
    the user manages (possibly none)."""
    return None if user.is_admin else user.body_ids(MembershipRole.MANAGER)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def audit_query(user: User, *, actor_id: int | None = None, action: str = "", target_type: str = "",
                target_id: int | None = None, since: date | None = None, until: date | None = None) -> sa.Select:
    """Audit rows the user may read, newest first, filtered: ``action`` matches exactly or as a prefix ending
    in "." (``suggestion.`` is every proposal action; a group's prefix also takes the group's other codes, such as
    ``clusters.rebuild`` for ``cluster.``); the dates are Beijing days, both included."""
    query = sa.select(AuditLog).order_by(AuditLog.id.desc())
    scope = audit_scope(user)
    if scope is not None:
        query = query.where(AuditLog.body_id.in_(scope))
    if actor_id is not None:
        query = query.where(AuditLog.actor_id == actor_id)
    if action:
        if action.endswith("."):
            others = [code for code in audit.group_codes(action) if not code.startswith(action)]
            query = query.where(sa.or_(AuditLog.action.startswith(action, autoescape=True), AuditLog.action.in_(others))
                                if others else AuditLog.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditLog.action == action)
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditLog.target_id == target_id)
    if since is not None:
        query = query.where(AuditLog.created_at >= _start_of(since))
    if until is not None:
        query = query.where(AuditLog.created_at < _start_of(until + timedelta(days=1)))
    return query


def actor_names(rows: list[AuditLog], *, with_usernames: bool) -> dict[int, str]:
    """How the audit-log viewer names the rows' actors: their public name (display name or pseudonym), followed by
    the login name only ``with_usernames`` (administrators: nobody else ever sees a login name)."""
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids))) if ids else []
    return {u.id: f"{u.public_name} ({u.username})" if with_usernames else u.public_name for u in users}


def audit_target_types(user: User) -> list[str]:
    """The object types that appear in the audit rows the user may read. The distinct types are walked along the
    index on (target_type, …) one type at a time (a loose index scan: a few index lookups, not a scan of the log);
    for a body's managers each type is then kept only if one of their rows has it."""
    log, inner = AuditLog.__table__, AuditLog.__table__.alias("later")
    walk = sa.select(sa.func.min(log.c.target_type).label("type")).cte("types", recursive=True)
    walk = walk.union_all(sa.select(sa.select(sa.func.min(inner.c.target_type))
                                    .where(inner.c.target_type > walk.c.type).scalar_subquery())
                          .where(walk.c.type.is_not(None)))
    present = db.session.scalars(sa.select(walk.c.type).where(walk.c.type.is_not(None))).all()
    scope = audit_scope(user)
    if scope is None:
        return sorted(present)
    return sorted(t for t in present if scope and db.session.scalar(
        sa.select(sa.literal(1)).where(AuditLog.target_type == t, AuditLog.body_id.in_(scope)).limit(1)))

