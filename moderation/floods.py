"""Coordinated floods: detection, and moderators' decisions to hold or release a group's supports.

Detection (``detect_floods``, run by ``flask moderation detect-floods`` from cron every few minutes and by the
floods tab's button) reads the last ``FLOOD_LOOKBACK_HOURS`` of votes and submissions and finds:

- bursts of supports on one proposal (``moderation.bursts.support_burst``): many from new accounts, or from one
  network, within a short window, or very many from anyone within a few minutes;
- bursts of near-identical submissions to one campaign: the near-duplicate engine groups the recent submissions
  into copies of one text (``dedup.near_identical``, at ``FLOOD_TEXT_SIMILARITY``), and a group of enough copies
  from enough accounts within ``FLOOD_SUBMISSION_WINDOW_HOURS`` is a burst.

Each burst becomes a ``FloodGroup`` with its members and evidence, or joins the group (open or held) that already
holds some of its members; members already judged (in a released group) are never flagged again. A real campaign
of many citizens using one template is legitimate: groups are flags, never deletions. Moderators hold a group's
supports (the vote rows stay; the public counters leave them out) or release them; both are audited, and a held
group's newcomers are held as they join. Services flush; the caller commits.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.permissions import require_moderator
from campaigns.models import Campaign
from core import audit
from core.errors import Conflict
from core.extensions import db
from core.models import utcnow
from moderation.bursts import Act, SupportRules, in_bursts, summary, support_burst
from moderation.models import FloodGroup, FloodKind, FloodStatus, FloodSubmission, FloodVote
from suggestions import cluster_rows, dedup, similarity_index
from suggestions import services as suggestion_services
from suggestions.models import Suggestion, Vote

LIVE = (FloodStatus.OPEN, FloodStatus.HELD)
_CHUNK = 1000  # ids per IN (…) list


@dataclass(frozen=True)
class FloodSettings:
    """The detection settings (``from_config`` reads the FLOOD_* values)."""
    lookback: timedelta = timedelta(hours=24)
    supports: SupportRules = SupportRules()
    text_similarity: float = 0.8
    min_submissions: int = 20
    min_authors: int = 10
    submission_window: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config) -> "FloodSettings":
        return cls(lookback=timedelta(hours=config["FLOOD_LOOKBACK_HOURS"]),
                   supports=SupportRules(window=timedelta(minutes=config["FLOOD_WINDOW_MINUTES"]),
                                         new_account_age=timedelta(days=config["FLOOD_NEW_ACCOUNT_DAYS"]),
                                         new_account_share=config["FLOOD_NEW_ACCOUNT_SHARE"],
                                         min_supports=config["FLOOD_MIN_SUPPORTS"],
                                         rapid_window=timedelta(minutes=config["FLOOD_RAPID_MINUTES"]),
                                         rapid_supports=config["FLOOD_RAPID_SUPPORTS"]),
                   text_similarity=config["FLOOD_TEXT_SIMILARITY"], min_submissions=config["FLOOD_MIN_SUBMISSIONS"],
                   min_authors=config["FLOOD_MIN_AUTHORS"],
                   submission_window=timedelta(hours=config["FLOOD_SUBMISSION_WINDOW_HOURS"]))


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


# --- detection -------------------------------------------------------------------------------------------------

def detect_floods(settings: FloodSettings, now: datetime | None = None, actor: User | None = None) -> list[FloodGroup]:
    """Find the bursts of the lookback period and record them; returns the groups created or grown. Safe to run
    again: members already in a group are not added twice. ``actor``: the moderator who asked (else the system)."""
    now = now or utcnow()
    since = now - settings.lookback
    return [*_detect_supports(settings, since, now, actor), *_detect_submissions(settings, since, now, actor)]


def _support_acts(suggestion_id: int, since: datetime) -> list[Act]:
    rows = db.session.execute(
        sa.select(Vote.id, Vote.user_id, Vote.created_at, Vote.network_key, User.created_at.label("account"))
        .join(User, User.id == Vote.user_id)
        .where(Vote.suggestion_id == suggestion_id, Vote.created_at >= since, Vote.value == 1))
    return [Act(r.id, r.user_id, r.created_at, r.account, r.network_key) for r in rows]


def _detect_supports(settings: FloodSettings, since: datetime, now: datetime, actor) -> list[FloodGroup]:
    rules = settings.supports
    busy = db.session.execute(
        sa.select(Vote.suggestion_id, Suggestion.campaign_id).join(Suggestion, Suggestion.id == Vote.suggestion_id)
        .where(Vote.created_at >= since, Vote.value == 1).group_by(Vote.suggestion_id, Suggestion.campaign_id)
        .having(sa.func.count() >= min(rules.min_supports, rules.rapid_supports))
        .order_by(Vote.suggestion_id)).all()
    groups = []
    for suggestion_id, campaign_id in busy:
        members, fired = support_burst(_support_acts(suggestion_id, since), rules)
        group = _record(FloodKind.SUPPORTS, campaign_id, suggestion_id, members, fired, settings, now, actor)
        if group is not None:
            groups.append(group)
    return groups


def _detect_submissions(settings: FloodSettings, since: datetime, now: datetime, actor) -> list[FloodGroup]:
    busy = db.session.scalars(
        sa.select(Suggestion.campaign_id).where(Suggestion.created_at >= since, Suggestion.source == "")
        .group_by(Suggestion.campaign_id).having(sa.func.count() >= settings.min_submissions)
        .order_by(Suggestion.campaign_id)).all()
    groups = []
    for campaign_id in busy:
        rows = db.session.execute(
            sa.select(Suggestion.id, Suggestion.author_id, Suggestion.created_at, Suggestion.network_key,
                      Suggestion.title, Suggestion.body, User.created_at.label("account"))
            .join(User, User.id == Suggestion.author_id)
            .where(Suggestion.campaign_id == campaign_id, Suggestion.created_at >= since, Suggestion.source == "")
            .order_by(Suggestion.created_at, Suggestion.id)).all()
        acts = {r.id: Act(r.id, r.author_id, r.created_at, r.account, r.network_key) for r in rows}
        found = dedup.near_identical([(r.id, similarity_index.text_of(r.title, r.body), r.author_id) for r in rows],
                                     threshold=settings.text_similarity)
        for ids in found.clusters(min_size=settings.min_submissions).values():
            members = in_bursts([acts[i] for i in ids], settings.submission_window, settings.min_submissions,
                                settings.min_authors)
            group = _record(FloodKind.SUBMISSIONS, campaign_id, None, members, ["template"], settings, now, actor)
            if group is not None:
                groups.append(group)
    return groups


def _member_table(kind: str):
    return (FloodVote, FloodVote.vote_id) if kind == FloodKind.SUPPORTS else \
        (FloodSubmission, FloodSubmission.suggestion_id)


def _record(kind: str, campaign_id: int, suggestion_id: int | None, members: list[Act], fired: list[str],
            settings: FloodSettings, now: datetime, actor) -> FloodGroup | None:
    """Add a burst's members to the live group already holding some of them, or to a new group when they are a
    burst by themselves; None when nothing is new."""
    if not members:
        return None
    table, column = _member_table(kind)
    grouped: dict[int, int] = {}
    for chunk in _chunks([m.id for m in members]):
        grouped.update(db.session.execute(sa.select(column, table.group_id).where(column.in_(chunk))).all())
    new = [m for m in members if m.id not in grouped]
    if not new:
        return None
    group = db.session.scalar(sa.select(FloodGroup).where(FloodGroup.id.in_(set(grouped.values())),
                                                         FloodGroup.status.in_(LIVE))
                              .order_by(FloodGroup.id.desc()).limit(1)) if grouped else None
    minimum = settings.supports.min_supports if kind == FloodKind.SUPPORTS else settings.min_submissions
    if group is None and len(new) < minimum:
        return None  # the rest of a burst already judged legitimate: not a burst by itself
    created = group is None
    if created:
        group = FloodGroup(kind=kind, campaign_id=campaign_id, suggestion_id=suggestion_id,
                           status=FloodStatus.OPEN, first_at=new[0].at, last_at=new[-1].at, created_at=now)
        db.session.add(group)
        db.session.flush()
    link = "vote_id" if kind == FloodKind.SUPPORTS else "suggestion_id"
    db.session.execute(sa.insert(table), [{"group_id": group.id, link: m.id} for m in new])
    _summarise(group, fired, settings, now)
    held = _hold_members(None, group, now) if group.status == FloodStatus.HELD else 0
    if held:
        cluster_rows.recount_supporters(campaign_id)
    body_id = db.session.get(Campaign, campaign_id).body_id
    audit.record(actor, "flood.detect" if created else "flood.grow", group, body_id=body_id, kind=kind,
                 added=len(new), held=held, rules=group.evidence["rules"])
    return group


def _group_acts(group: FloodGroup) -> list[Act]:
    """Every member of the group as an ``Act`` (however long ago)."""
    if group.kind == FloodKind.SUPPORTS:
        query = (sa.select(Vote.id, Vote.user_id, Vote.created_at, Vote.network_key, User.created_at.label("account"))
                 .join(FloodVote, FloodVote.vote_id == Vote.id).join(User, User.id == Vote.user_id))
        query = query.where(FloodVote.group_id == group.id)
    else:
        query = (sa.select(Suggestion.id, Suggestion.author_id.label("user_id"), Suggestion.created_at,
                           Suggestion.network_key, User.created_at.label("account"))
                 .join(FloodSubmission, FloodSubmission.suggestion_id == Suggestion.id)
                 .join(User, User.id == Suggestion.author_id).where(FloodSubmission.group_id == group.id))
    return [Act(r.id, r.user_id, r.created_at, r.account, r.network_key) for r in db.session.execute(query)]


def _summarise(group: FloodGroup, fired: list[str], settings: FloodSettings, now: datetime) -> None:
    acts = _group_acts(group)
    rules = set(fired) | set((group.evidence or {}).get("rules", []))
    group.evidence = summary(acts, rules, settings.supports.new_account_age)
    group.size = len(acts)
    group.first_at, group.last_at = min(a.at for a in acts), max(a.at for a in acts)
    group.updated_at = now


# --- decisions -------------------------------------------------------------------------------------------------

def _add_account_votes(group: FloodGroup) -> None:
    """A group of submissions holds the supports its accounts cast in the campaign: add those not listed yet."""
    authors = sa.select(Suggestion.author_id).join(FloodSubmission, FloodSubmission.suggestion_id == Suggestion.id) \
        .where(FloodSubmission.group_id == group.id)
    listed = sa.select(FloodVote.vote_id).where(FloodVote.group_id == group.id)
    votes = (sa.select(sa.literal(group.id), Vote.id).join(Suggestion, Suggestion.id == Vote.suggestion_id)
             .where(Suggestion.campaign_id == group.campaign_id, Vote.user_id.in_(authors), Vote.id.not_in(listed)))
    db.session.execute(sa.insert(FloodVote).from_select(["group_id", "vote_id"], votes))


def _hold_members(actor: User | None, group: FloodGroup, now: datetime) -> int:
    if group.kind == FloodKind.SUBMISSIONS:
        _add_account_votes(group)
    return suggestion_services.set_votes_held(
        actor, sa.select(FloodVote.vote_id).where(FloodVote.group_id == group.id), True, now)


def hold_flood(moderator: User, group: FloodGroup, now: datetime | None = None) -> int:
    """Hold the group's supports: their rows stay, the public counters (and ``flask suggestions recount``) leave
    them out until released. For a group of submissions, the supports its accounts cast in the campaign. Returns
    how many votes were held."""
    require_moderator(moderator)
    if group.status == FloodStatus.HELD:
        raise Conflict(_l("This group's supports are already held."))
    now = now or utcnow()
    held = _hold_members(moderator, group, now)
    cluster_rows.recount_supporters(group.campaign_id)
    group.status, group.decided_at, group.decided_by_id = FloodStatus.HELD, now, moderator.id
    audit.record(moderator, "flood.hold", group, body_id=group_body_id(group), kind=group.kind, votes=held)
    db.session.flush()
    return held


def release_flood(moderator: User, group: FloodGroup, now: datetime | None = None) -> int:
    """Count the group's supports again (those no other held group holds), or mark an open group legitimate;
    returns how many votes were released."""
    require_moderator(moderator)
    if group.status == FloodStatus.RELEASED:
        raise Conflict(_l("This group has already been released."))
    now = now or utcnow()
    held_elsewhere = (sa.select(FloodVote.vote_id).join(FloodGroup, FloodGroup.id == FloodVote.group_id)
                      .where(FloodGroup.status == FloodStatus.HELD, FloodGroup.id != group.id))
    released = suggestion_services.set_votes_held(
        moderator, sa.select(FloodVote.vote_id).where(FloodVote.group_id == group.id,
                                                      FloodVote.vote_id.not_in(held_elsewhere)), False, now)
    cluster_rows.recount_supporters(group.campaign_id)
    previous = group.status
    group.status, group.decided_at, group.decided_by_id = FloodStatus.RELEASED, now, moderator.id
    audit.record(moderator, "flood.release", group, body_id=group_body_id(group), kind=group.kind, votes=released,
                 previous=previous)
    db.session.flush()
    return released


def group_body_id(group: FloodGroup) -> int:
    return db.session.get(Campaign, group.campaign_id).body_id
