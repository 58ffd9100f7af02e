"""Rebuild the figures' rollup (analytics_counts) from the proposals, replies, ratings, outcomes and clusters.

One ``INSERT … SELECT … GROUP BY`` per measure, grouped by Beijing month and scope (body, campaign, category,
type) and by a ``bucket`` that splits the measure by value. Every figure in ``analytics.metrics`` reads these
rows, so the dashboard, the report, the exports and the API give the same numbers as of the same refresh.
Pages call ``ensure_fresh()``: with a job queue, a rollup older than ANALYTICS_MAX_AGE_SECONDS is rebuilt by the
``refresh_figures`` job (which ``flask jobs cron`` also enqueues that often) and the page shows the figures it has,
never rebuilding inline. On the embedded default the page rebuilds it, unless the last rebuild took longer than
ANALYTICS_INLINE_REFRESH_SECONDS: then ``flask analytics refresh`` (cron) keeps it fresh and no visitor waits.
One rebuild runs at a time; on PostgreSQL it reads one snapshot (REPEATABLE READ), so all measures describe the
same moment.
"""
import time
from datetime import UTC, date, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context

from analytics.dialect import beijing_year, first_of_january, start_of, start_of_year
from analytics.models import FigureCount, FiguresRefresh
from campaigns.models import Campaign, CampaignStatus
from core import jobs
from core.extensions import db
from core.models import utcnow
from outcomes.models import PolicyOutcome, Stage, outcome_clusters, outcome_suggestions
from suggestions.deadlines import AWAITING_REPLY, record_first_reply, today
from suggestions.models import (
    PUBLIC_STATUSES,
    Cluster,
    ClusterMember,
    Decision,
    Rating,
    Reply,
    Satisfaction,
    Status,
    Suggestion,
    Vote,
)

# Measures and their buckets. Only MESSAGES and CLUSTER_GROWTH are kept per month (for the monthly chart and
# the month's hot topics); the others per year (``month`` is 1 January), which is all a scope can ask for, and
# keeps the rollup small: about 90,000 rows for the benchmark's million proposals.
MESSAGES = "messages"                    # public proposals, by the month written and type
MESSAGES_BY_CATEGORY = "messages_cat"    # the same by year and category
FUNNEL = "funnel"                        # proposals received, by the year written; bucket: STAGES index
HANDLING_DAYS = "handling_days"          # first replies, by their year; bucket: calendar days
HANDLING_WORKING_DAYS = "handling_wdays"  # the same; bucket: working days
RATINGS = "ratings"                      # authors' ratings, by their year and the replying body; bucket 1 good
ADOPTION = "adoption"                    # latest replies, by their year and body; bucket 1 adopted
DUE = "due"                              # proposals whose deadline passed before the refresh date; bucket 1 replied
OVERDUE = "overdue"                      # proposals awaiting a reply past their deadline on the refresh date
CLUSTER_GROWTH = "cluster_growth"        # members joining a cluster of two or more in the last 12 months;
                                         # bucket: the cluster id
PARTICIPANTS = "participants"            # distinct authors and supporters per year written (month: 1 January),
PARTICIPANTS_ALL = "participants_all"    # and over all years (month: ALL_YEARS); per campaign and site-wide

STAGES = ("submitted", "accepted", "replied", "adopted", "completed")
GOOD_RATINGS = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
ADOPTED_DECISIONS = (Decision.ADOPTED, Decision.PARTLY_ADOPTED)
REPLIED_STATUSES = (Status.REPLIED, Status.CLOSED)
ALL_YEARS = date(1970, 1, 1)
_LOCK_KEY = 7_320_001  # PostgreSQL advisory lock: one refresh at a time


def _public():
    """The proposals the figures count: public ones, in campaigns that are not drafts (as the exports)."""
    return sa.and_(Suggestion.status.in_(PUBLIC_STATUSES), Campaign.status != CampaignStatus.DRAFT)


def _body_of_proposal():
    return sa.func.coalesce(Suggestion.handling_body_id, Campaign.body_id)


def _keys(month, body, bucket, *, category=None, message_type=None) -> sa.Select:
    """A select of one row per counted item with the rollup's keys; ``_insert`` groups and counts it."""
    return sa.select(month.label("month"), body.label("body_id"), Suggestion.campaign_id.label("campaign_id"),
                     (sa.cast(sa.null(), sa.Integer) if category is None else category).label("category_id"),
                     (sa.literal("") if message_type is None else message_type).label("message_type"),
                     (sa.literal(bucket) if isinstance(bucket, int) else bucket).label("bucket"))


def _insert(measure: str, rows: sa.Select) -> None:
    """Count the rows of a ``_keys`` select by their keys (grouping a subquery's columns: PostgreSQL cannot
    match parameterised expressions between the select list and GROUP BY) and add them under ``measure``."""
    rows = rows.subquery()
    keys = [rows.c.month, rows.c.body_id, rows.c.campaign_id, rows.c.category_id, rows.c.message_type, rows.c.bucket]
    columns = ["measure", "month", "body_id", "campaign_id", "category_id", "message_type", "bucket", "count"]
    db.session.execute(sa.insert(FigureCount).from_select(
        columns, sa.select(sa.literal(measure), *keys, sa.func.count()).group_by(*keys)))


def _proposals(select: sa.Select) -> sa.Select:
    return select.select_from(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)


def _latest_replies():
    return sa.select(Reply.suggestion_id, sa.func.max(Reply.id).label("reply_id")).group_by(
        Reply.suggestion_id).subquery()


def _completed_outcome():
    """True for a proposal linked, itself or through its cluster, to a completed policy outcome."""
    direct = (sa.select(outcome_suggestions.c.suggestion_id)
              .join(PolicyOutcome, PolicyOutcome.id == outcome_suggestions.c.outcome_id)
              .where(PolicyOutcome.stage == Stage.COMPLETED, outcome_suggestions.c.suggestion_id == Suggestion.id))
    through_cluster = (sa.select(ClusterMember.suggestion_id)
                       .join(outcome_clusters, outcome_clusters.c.cluster_id == ClusterMember.cluster_id)
                       .join(PolicyOutcome, PolicyOutcome.id == outcome_clusters.c.outcome_id)
                       .where(PolicyOutcome.stage == Stage.COMPLETED, ClusterMember.suggestion_id == Suggestion.id))
    return sa.or_(direct.exists(), through_cluster.exists())


def backfill_first_replies() -> int:
    """Set the first-reply date and handling time of replied proposals that lack them (rows written before
    these columns existed); returns how many were filled."""
    first = (sa.select(Reply.suggestion_id, sa.func.min(Reply.created_at).label("at"))
             .group_by(Reply.suggestion_id).subquery())
    rows = db.session.execute(sa.select(Suggestion, first.c.at).join(first, first.c.suggestion_id == Suggestion.id)
                              .where(Suggestion.first_replied_at.is_(None))).all()
    for suggestion, replied_at in rows:
        record_first_reply(suggestion, replied_at if replied_at.tzinfo else replied_at.replace(tzinfo=UTC))
    return len(rows)


def refresh(on: date | None = None, *, wait: bool = True, max_age_seconds: float | None = None) -> float | None:
    """Rebuild every measure (reply deadlines judged as of ``on``, default today in Beijing) in one transaction
    and commit; returns the seconds it took, or None when it did not run: another rebuild was under way and
    ``wait`` is false, or one finished less than ``max_age_seconds`` ago. Commits the caller's session first."""
    started = time.perf_counter()
    on = on or today()
    db.session.commit()  # the rebuild gets its own transaction; on SQLite its first statement must be a write
    if db.engine.dialect.name == "postgresql" and not _lock_for_rebuild(wait):
        return None
    if max_age_seconds is not None and _is_fresh(max_age_seconds):
        db.session.rollback()
        return None
    db.session.execute(sa.delete(FigureCount))
    _insert_counts(on)
    _insert_participants()
    took = time.perf_counter() - started
    db.session.execute(sa.delete(FiguresRefresh))
    db.session.add(FiguresRefresh(refreshed_at=utcnow(), took_seconds=took))
    db.session.commit()
    if has_app_context():
        g.pop("bodies_with_figures", None)  # metrics keeps which bodies have rows for the request
    return took


def _lock_for_rebuild(wait: bool) -> bool:
    """PostgreSQL: start a REPEATABLE READ transaction holding the rebuild lock. Its snapshot is taken by the
    lock statement itself, so it sees a rebuild that just finished (a waiting lock would have an older one)."""
    while True:
        db.session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        if db.session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}):
            return True
        db.session.rollback()
        if not wait:
            return False
        time.sleep(0.2)


def _insert_counts(on: date) -> None:
    public = _public()
    created_month, created = start_of("month", Suggestion.created_at), start_of("year", Suggestion.created_at)

    _insert(MESSAGES, _proposals(_keys(created_month, _body_of_proposal(), 0, message_type=Suggestion.message_type))
            .where(public))
    _insert(MESSAGES_BY_CATEGORY, _proposals(_keys(created, _body_of_proposal(), 0, category=Suggestion.category_id))
            .where(public))

    latest = _latest_replies()
    adopted = (sa.select(latest.c.suggestion_id).join(Reply, Reply.id == latest.c.reply_id)
               .where(Reply.decision.in_(ADOPTED_DECISIONS), latest.c.suggestion_id == Suggestion.id))
    received = sa.and_(Suggestion.status != Status.WITHDRAWN, Campaign.status != CampaignStatus.DRAFT)
    stages = [sa.true(), Suggestion.accepted_at.is_not(None), Suggestion.first_replied_at.is_not(None),
              adopted.exists(), _completed_outcome()]
    for index, condition in enumerate(stages):
        _insert(FUNNEL, _proposals(_keys(created, _body_of_proposal(), index)).where(received, condition))

    replied_year = start_of("year", Suggestion.first_replied_at)
    for measure, column in ((HANDLING_DAYS, Suggestion.handling_days),
                            (HANDLING_WORKING_DAYS, Suggestion.handling_working_days)):
        _insert(measure, _proposals(_keys(replied_year, _body_of_proposal(), column))
                .where(public, column.is_not(None)))

    good = sa.case((Rating.satisfaction.in_(GOOD_RATINGS), 1), else_=0)
    _insert(RATINGS, _proposals(_keys(start_of("year", Rating.created_at), Rating.body_id, good))
            .join(Rating, Rating.suggestion_id == Suggestion.id).where(public))

    is_adopted = sa.case((Reply.decision.in_(ADOPTED_DECISIONS), 1), else_=0)
    _insert(ADOPTION, _proposals(_keys(start_of("year", Reply.created_at), Reply.body_id, is_adopted))
            .join(latest, latest.c.suggestion_id == Suggestion.id).join(Reply, Reply.id == latest.c.reply_id)
            .where(public, Reply.decision != Decision.NOT_RECORDED))

    due_year = start_of_year(Suggestion.reply_due_on)
    replied = sa.case((Suggestion.status.in_(REPLIED_STATUSES), 1), else_=0)
    _insert(DUE, _proposals(_keys(due_year, _body_of_proposal(), replied))
            .where(public, Suggestion.reply_due_on < on, Suggestion.status.in_(REPLIED_STATUSES + AWAITING_REPLY)))
    _insert(OVERDUE, _proposals(_keys(due_year, _body_of_proposal(), 0))
            .where(public, Suggestion.reply_due_on < on, Suggestion.status.in_(AWAITING_REPLY)))

    _insert(CLUSTER_GROWTH, _proposals(_keys(created_month, Campaign.body_id, ClusterMember.cluster_id))
            .join(ClusterMember, ClusterMember.suggestion_id == Suggestion.id)
            .join(Cluster, Cluster.id == ClusterMember.cluster_id)
            .where(Cluster.size >= 2, public, Suggestion.created_at >= utcnow() - timedelta(days=366)))


def _insert_participants() -> None:
    """Distinct citizens cannot be added up from monthly counts: count them per campaign and year, per campaign,
    per year site-wide and over all years (month: ALL_YEARS), straight into the rollup. PostgreSQL does the four
    in one pass (GROUPING SETS); SQLite, which has none, in four."""
    year = beijing_year(Suggestion.created_at).label("year")
    authors = _proposals(sa.select(Suggestion.author_id.label("user_id"), Suggestion.campaign_id, year)).where(
        _public())
    supporters = (_proposals(sa.select(Vote.user_id.label("user_id"), Suggestion.campaign_id, year))
                  .join(Vote, Vote.suggestion_id == Suggestion.id)
                  .where(_public(), Vote.value == 1, Vote.held_at.is_(None)))
    people = sa.union(authors, supporters).subquery("people")
    columns = ["measure", "month", "body_id", "campaign_id", "category_id", "message_type", "bucket", "count"]
    no_number = sa.cast(sa.null(), sa.Integer)

    def select(measure, month, campaign_id):
        return sa.select(measure, month, no_number, campaign_id, no_number, sa.literal(""), sa.literal(0),
                         sa.func.count(sa.distinct(people.c.user_id)))

    if db.engine.dialect.name == "postgresql":
        by_year = sa.func.grouping(people.c.year) == 0
        query = select(sa.case((by_year, PARTICIPANTS), else_=PARTICIPANTS_ALL),
                       sa.case((by_year, first_of_january(people.c.year)), else_=sa.literal(ALL_YEARS, sa.Date)),
                       people.c.campaign_id).group_by(
            sa.text("GROUPING SETS ((people.campaign_id, people.year), (people.year), (people.campaign_id), ())"))
        db.session.execute(sa.insert(FigureCount).from_select(columns, query))
        return
    for by_campaign in (True, False):
        for by_year in (True, False):
            keys = [people.c.campaign_id] * by_campaign + [people.c.year] * by_year
            query = select(sa.literal(PARTICIPANTS if by_year else PARTICIPANTS_ALL),
                           first_of_january(people.c.year) if by_year else sa.literal(ALL_YEARS, sa.Date),
                           people.c.campaign_id if by_campaign else no_number)
            db.session.execute(sa.insert(FigureCount).from_select(columns, query.group_by(*keys) if keys else query))


def refreshed_at():
    """When the rollup was last rebuilt (None if never)."""
    return db.session.scalar(sa.select(FiguresRefresh.refreshed_at).order_by(FiguresRefresh.id.desc()).limit(1))


def _is_fresh(max_age_seconds: float) -> bool:
    last = refreshed_at()
    return last is not None and max_age_seconds > 0 and utcnow() - last <= timedelta(seconds=max_age_seconds)


def ensure_fresh() -> None:
    """Have the rollup rebuilt if it is older than ANALYTICS_MAX_AGE_SECONDS: for a page, by a job when a queue
    is configured (the page goes on with the figures it has); else here (a command, or the embedded default),
    unless rebuilds take longer than ANALYTICS_INLINE_REFRESH_SECONDS (then cron runs `flask analytics refresh`)
    or another one is running. Call it first thing in a view (it commits the session), then read the figures."""
    config = current_app.config
    max_age = config["ANALYTICS_MAX_AGE_SECONDS"]
    if _is_fresh(max_age):
        return
    if jobs.queue_configured() and has_request_context():
        db.session.rollback()
        jobs.enqueue(refresh_figures)
        return
    last_took = db.session.scalar(sa.select(FiguresRefresh.took_seconds).limit(1))
    if last_took is not None and last_took > config["ANALYTICS_INLINE_REFRESH_SECONDS"]:
        return
    refresh(wait=False, max_age_seconds=max_age)


@jobs.periodic(every="ANALYTICS_MAX_AGE_SECONDS")
@jobs.job(when_queue_down="later", once=True)
def refresh_figures() -> None:
    """Job: rebuild the rollup unless another rebuild is running or one finished within the maximum age."""
    refresh(wait=False, max_age_seconds=current_app.config["ANALYTICS_MAX_AGE_SECONDS"])
