"""One definition per figure (docs/metrics.md). Query functions, no Flask: every page, report, export and API
call reads its figures from here, so no two pages can disagree (Decidim's counters did: its issue #8845)."""
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from accounts.models import Body
from campaigns.models import Campaign
from core.extensions import db
from core.workdays import working_days_between
from suggestions.deadlines import AWAITING_REPLY, beijing_date, today
from suggestions.models import (
    PUBLIC_STATUSES,
    Decision,
    MessageType,
    Rating,
    Reply,
    Satisfaction,
    Status,
    Suggestion,
    Vote,
)

GOOD_RATINGS = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
ADOPTED_DECISIONS = (Decision.ADOPTED, Decision.PARTLY_ADOPTED)
REPLIED_STATUSES = (Status.REPLIED, Status.CLOSED)


@dataclass(frozen=True)
class Ratio:
    """A share: ``part`` of ``whole`` (``value`` is None when ``whole`` is 0)."""
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> str:
        return "–" if self.value is None else f"{100 * self.value:.0f}%"


@dataclass(frozen=True)
class Spread:
    """Mean, median and 90th percentile of a list of numbers (None when empty)."""
    n: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        if not values:
            return cls(0, None, None, None)
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, max(0, int(round(0.9 * len(ordered) + 0.5)) - 1))]
        return cls(len(values), statistics.fmean(values), statistics.median(values), p90)


def _year_range(year: int):
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _scope(query, *, body_id: int | None, campaign_id: int | None, year: int | None, column=None):
    """Restrict a proposal query to a handling body, a campaign, and a year of ``column`` (created_at)."""
    if body_id is not None:
        query = query.where(sa.func.coalesce(Suggestion.handling_body_id, Campaign.body_id) == body_id)
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    if year is not None:
        start, end = _year_range(year)
        column = Suggestion.created_at if column is None else column
        query = query.where(column >= start, column < end)
    return query


def _scope_on(query, body_column, date_column, *, body_id, campaign_id, year):
    """Restrict a query joined to the proposal by the body and date of its own rows (a reply, a rating)."""
    if body_id is not None:
        query = query.where(body_column == body_id)
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    if year is not None:
        start, end = _year_range(year)
        query = query.where(date_column >= start, date_column < end)
    return query


def _proposals(*columns):
    return sa.select(*columns).select_from(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)


def message_count(*, body_id=None, campaign_id=None, year=None, message_type: str | None = None) -> int:
    """Public messages (proposals of every type), by when they were written."""
    query = _proposals(sa.func.count()).where(Suggestion.status.in_(PUBLIC_STATUSES))
    if message_type is not None:
        query = query.where(Suggestion.message_type == message_type)
    return db.session.scalar(_scope(query, body_id=body_id, campaign_id=campaign_id, year=year)) or 0


def suggestion_share(*, body_id=None, campaign_id=None, year=None) -> Ratio:
    """Suggestions (建议) among all public messages."""
    return Ratio(message_count(body_id=body_id, campaign_id=campaign_id, year=year,
                               message_type=MessageType.SUGGESTION),
                 message_count(body_id=body_id, campaign_id=campaign_id, year=year))


def _first_replies():
    return (sa.select(Reply.suggestion_id, sa.func.min(Reply.created_at).label("first_reply_at"))
            .group_by(Reply.suggestion_id).subquery())


def handling_days(*, body_id=None, campaign_id=None, year=None, working: bool = False) -> Spread:
    """Days from acceptance (受理) to the first official reply, for proposals replied to in ``year``; calendar
    days between the two Beijing dates, or working days when ``working``."""
    first = _first_replies()
    query = (_proposals(Suggestion.accepted_at, first.c.first_reply_at)
             .join(first, first.c.suggestion_id == Suggestion.id).where(Suggestion.accepted_at.is_not(None)))
    rows = db.session.execute(_scope(query, body_id=body_id, campaign_id=campaign_id, year=year,
                                     column=first.c.first_reply_at)).all()
    days = []
    for accepted_at, replied_at in rows:
        start, end = beijing_date(_aware(accepted_at)), beijing_date(_aware(replied_at))
        days.append(working_days_between(start, end) if working else (end - start).days)
    return Spread.of(days)


def _aware(moment):
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def reply_rate(*, body_id=None, campaign_id=None, year=None, on: date | None = None) -> Ratio:
    """Of the proposals whose reply was due (a deadline on or before ``on``, in ``year`` if given), the share
    answered: replied proposals over replied plus still-awaiting ones past their deadline."""
    on = on or today()
    due = _proposals(Suggestion.id).where(Suggestion.reply_due_on.is_not(None), Suggestion.reply_due_on <= on)
    due = _scope(due, body_id=body_id, campaign_id=campaign_id, year=None)
    if year is not None:
        due = due.where(Suggestion.reply_due_on >= date(year, 1, 1), Suggestion.reply_due_on < date(year + 1, 1, 1))
    replied = db.session.scalar(sa.select(sa.func.count()).select_from(
        due.where(Suggestion.status.in_(REPLIED_STATUSES)).subquery())) or 0
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(
        due.where(Suggestion.status.in_(AWAITING_REPLY)).subquery())) or 0
    return Ratio(replied, replied + waiting)


def satisfaction(*, body_id=None, campaign_id=None, year=None) -> Ratio:
    """(Satisfied + basically satisfied) / rated, over the authors' ratings of replies (by the replying body)."""
    query = (sa.select(sa.func.count(), sa.func.sum(sa.case((Rating.satisfaction.in_(GOOD_RATINGS), 1), else_=0)))
             .select_from(Rating).join(Suggestion, Suggestion.id == Rating.suggestion_id))
    query = _scope_on(query, Rating.body_id, Rating.created_at, body_id=body_id, campaign_id=campaign_id, year=year)
    rated, good = db.session.execute(query).one()
    return Ratio(int(good or 0), int(rated or 0))


def adoption(*, body_id=None, campaign_id=None, year=None) -> Ratio:
    """(Adopted + partly adopted) / replied, by each proposal's latest reply (and the body that gave it)."""
    latest = sa.select(Reply.suggestion_id, sa.func.max(Reply.id).label("reply_id")).group_by(Reply.suggestion_id)
    latest = latest.subquery()
    query = (sa.select(sa.func.count(), sa.func.sum(sa.case((Reply.decision.in_(ADOPTED_DECISIONS), 1), else_=0)))
             .select_from(latest).join(Reply, Reply.id == latest.c.reply_id)
             .join(Suggestion, Suggestion.id == latest.c.suggestion_id)
             .where(Suggestion.status.in_(PUBLIC_STATUSES)))
    query = _scope_on(query, Reply.body_id, Reply.created_at, body_id=body_id, campaign_id=campaign_id, year=year)
    replied, adopted = db.session.execute(query).one()
    return Ratio(int(adopted or 0), int(replied or 0))


def by_body(metric, **scope) -> list[tuple[Body, Ratio]]:
    """``metric`` for every body where it has a denominator, best first."""
    rows = [(body, metric(body_id=body.id, **scope)) for body in db.session.scalars(sa.select(Body).order_by(Body.id))]
    rows = [(body, ratio) for body, ratio in rows if ratio.whole]
    return sorted(rows, key=lambda row: (-row[1].value, -row[1].whole, row[0].id))


def distinct_participants(*, campaign_id=None, year=None) -> int:
    """Citizens who wrote or supported a public proposal (each counted once)."""
    authors = _scope(_proposals(Suggestion.author_id.label("user_id")).where(Suggestion.status.in_(PUBLIC_STATUSES)),
                     body_id=None, campaign_id=campaign_id, year=year)
    supporters = _scope(_proposals(Vote.user_id.label("user_id")).join(Vote, Vote.suggestion_id == Suggestion.id)
                        .where(Suggestion.status.in_(PUBLIC_STATUSES), Vote.value == 1),
                        body_id=None, campaign_id=campaign_id, year=year)
    union = sa.union(authors, supporters).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(union)) or 0
