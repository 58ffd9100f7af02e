"""One definition per figure (docs/metrics.md). Query functions, no Flask: every page, report, export and API
call reads its figures from here, so no two pages can disagree (Decidim's counters did: its issue #8845).

The figures are read from the rollup that ``analytics.rollup.refresh`` builds (counts per month, body,
campaign, category, type and value), so they are as of its last refresh; callers run ``rollup.ensure_fresh()``
first.
"""
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_app_context

from accounts.models import Body
from analytics import rollup
from analytics.models import FigureCount
from campaigns.models import Campaign, Category
from core.extensions import db
from suggestions.models import PUBLIC_STATUSES, Cluster, MessageType, Suggestion, Vote

STAGES = rollup.STAGES
SHARES = {"reply_rate": rollup.DUE, "satisfaction": rollup.RATINGS, "adoption": rollup.ADOPTION}
"""The figures that are shares, by name, and the measure each is read from (bucket 1 is the part)."""


@dataclass(frozen=True)
class Scope:
    """Which proposals a figure covers: a body (the handling body, or the campaign's while none is assigned),
    a body level or region, a campaign, and a year or a range of years (inclusive)."""
    body_id: int | None = None
    level: str | None = None
    region: str | None = None
    divisions: str | None = None
    """An edition's scope: the bodies whose division code starts with this prefix (43: 湖南省; 4301: 长沙市)."""
    campaign_id: int | None = None
    year: int | None = None
    year_to: int | None = None

    @property
    def years(self) -> tuple[int, int] | None:
        if self.year is None:
            return None
        return self.year, self.year_to if self.year_to is not None else self.year


ALL = Scope()


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

    def as_dict(self) -> dict:
        return {"part": self.part, "whole": self.whole, "value": self.value}


@dataclass(frozen=True)
class Spread:
    """Mean, median and 90th percentile (nearest rank) of a list of numbers (None when empty)."""
    n: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        return cls.of_counts(dict(sorted({v: values.count(v) for v in set(values)}.items())))

    @classmethod
    def of_counts(cls, counts: dict[int, int]) -> "Spread":
        """The spread of a histogram {value: how many}."""
        n = sum(counts.values())
        if not n:
            return cls(0, None, None, None)
        ordered = sorted(counts.items())

        def nth(k: int) -> float:  # the k-th smallest value, from 0
            seen = 0
            for value, count in ordered:
                seen += count
                if k < seen:
                    return value
            raise IndexError(k)

        median = nth(n // 2) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2
        p90 = nth(min(n - 1, max(0, -(-9 * n // 10) - 1)))
        mean = sum(value * count for value, count in ordered) / n
        return cls(n, mean, median, p90)

    def as_dict(self) -> dict:
        return asdict(self)


# --- reading the rollup ------------------------------------------------------------------------------------------

def _counts(measure: str, scope: Scope, *group_by, message_type: str | None = None):
    """Rows of (*group_by, count) of one measure within ``scope``."""
    query = _scoped(sa.select(*group_by, sa.func.sum(FigureCount.count)), measure, scope, group_by)
    if message_type is not None:
        query = query.where(FigureCount.message_type == message_type)
    return db.session.execute(query.group_by(*group_by) if group_by else query).all()


def _scoped(query: sa.Select, measure: str, scope: Scope, group_by=()) -> sa.Select:
    """``query`` over the rollup rows of one measure within ``scope``."""
    query = query.where(FigureCount.measure == measure)
    if scope.divisions is not None:  # an edition: its bodies that have figures, read once per request
        query = query.where(FigureCount.body_id.in_(_bodies_with_figures(scope.divisions)))
    if scope.level is not None or scope.region is not None or any(_uses_body(c) for c in group_by):
        query = query.join(Body, Body.id == FigureCount.body_id)
        if scope.level is not None:
            query = query.where(Body.level == scope.level)
        if scope.region is not None:
            query = query.where(Body.region == scope.region)
    if scope.body_id is not None:
        query = query.where(FigureCount.body_id == scope.body_id)
    if scope.campaign_id is not None:
        query = query.where(FigureCount.campaign_id == scope.campaign_id)
    if scope.years is not None:
        first, last = scope.years
        query = query.where(FigureCount.month >= date(first, 1, 1), FigureCount.month < date(last + 1, 1, 1))
    return query


def _bodies_with_figures(divisions: str) -> list[int]:
    """The ids of the bodies in the divisions (an edition's prefix) that have rows in the rollup: ten in a
    province's 500 bodies, say, so that each figure reads their rows by index (body_id, measure) instead of
    joining every row of a measure with the bodies. Kept for the request (a dashboard asks some thirty times)."""
    cache = g.setdefault("bodies_with_figures", {}) if has_app_context() else {}
    if divisions not in cache:
        has_rows = sa.select(FigureCount.id).where(FigureCount.body_id == Body.id).exists()
        cache[divisions] = list(db.session.scalars(
            sa.select(Body.id).where(Body.region_code.startswith(divisions, autoescape=True), has_rows)))
    return cache[divisions]


def _uses_body(column) -> bool:
    return getattr(column, "table", None) is Body.__table__


YEAR = sa.extract("year", FigureCount.month)


def _total(measure: str, scope: Scope, **kwargs) -> int:
    return int(_counts(measure, scope, **kwargs)[0][0] or 0)


def _ratio(measure: str, scope: Scope) -> Ratio:
    counts = dict(_counts(measure, scope, FigureCount.bucket))
    return Ratio(int(counts.get(1, 0)), int(sum(counts.values())))


def _ratio_by(measure: str, scope: Scope, key) -> dict:
    """{key value: Ratio} of a measure whose bucket 1 is the part."""
    parts, wholes = defaultdict(int), defaultdict(int)
    for value, bucket, count in _counts(measure, scope, key, FigureCount.bucket):
        wholes[_plain(value)] += int(count)
        if bucket == 1:
            parts[_plain(value)] += int(count)
    return {value: Ratio(parts[value], whole) for value, whole in sorted(wholes.items())}


def _plain(value):
    """Years come back as float (SQLite) or Decimal (PostgreSQL): make them int."""
    return int(value) if isinstance(value, (float, Decimal)) else value


# --- the figures ------------------------------------------------------------------------------------------------

def message_count(scope: Scope = ALL, message_type: str | None = None) -> int:
    """Public messages (proposals of every type, or of one), by the month they were written."""
    return _total(rollup.MESSAGES, scope, message_type=message_type)


def messages_by(scope: Scope = ALL, *, key: str = "year") -> dict:
    """Public messages per ``key``: "year", "month" (a date), "category" (an id) or "type"."""
    column = {"year": YEAR, "month": FigureCount.month, "category": FigureCount.category_id,
              "type": FigureCount.message_type}[key]
    measure = rollup.MESSAGES_BY_CATEGORY if key == "category" else rollup.MESSAGES
    return {_plain(value): int(count) for value, count in sorted(_counts(measure, scope, column))}


def messages_by_year_and_category(scope: Scope = ALL) -> dict[int, dict[int, int]]:
    """{year: {category id: public messages}}: the category trend."""
    table: dict[int, dict[int, int]] = defaultdict(dict)
    for year, category_id, count in _counts(rollup.MESSAGES_BY_CATEGORY, scope, YEAR, FigureCount.category_id):
        table[int(year)][category_id] = int(count)
    return dict(sorted(table.items()))


def suggestion_share(scope: Scope = ALL) -> Ratio:
    """Suggestions (建议) among all public messages."""
    return Ratio(message_count(scope, MessageType.SUGGESTION), message_count(scope))


def suggestion_share_by_year(scope: Scope = ALL) -> dict[int, Ratio]:
    wholes, parts = defaultdict(int), defaultdict(int)
    for year, message_type, count in _counts(rollup.MESSAGES, scope, YEAR, FigureCount.message_type):
        wholes[int(year)] += int(count)
        if message_type == MessageType.SUGGESTION:
            parts[int(year)] += int(count)
    return {year: Ratio(parts[year], whole) for year, whole in sorted(wholes.items())}


def _handling_measure(working: bool) -> str:
    return rollup.HANDLING_WORKING_DAYS if working else rollup.HANDLING_DAYS


def handling_days(scope: Scope = ALL, *, working: bool = False) -> Spread:
    """Days from acceptance (受理) to the first official reply, for proposals first replied to within the scope's
    years: calendar days between the two Beijing dates, or working days when ``working``."""
    rows = _counts(_handling_measure(working), scope, FigureCount.bucket)
    return Spread.of_counts({int(days): int(count) for days, count in rows})


def handling_days_by_year(scope: Scope = ALL, *, working: bool = False) -> dict[int, Spread]:
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for year, days, count in _counts(_handling_measure(working), scope, YEAR, FigureCount.bucket):
        histograms[int(year)][int(days)] = int(count)
    return {year: Spread.of_counts(counts) for year, counts in sorted(histograms.items())}


def reply_rate(scope: Scope = ALL) -> Ratio:
    """Of the proposals whose reply deadline had passed on the refresh date (in the scope's years, by the
    deadline), the share replied to: replied / (replied + still awaiting a reply)."""
    return _ratio(rollup.DUE, scope)


def reply_rate_by_level(scope: Scope = ALL) -> dict[str, Ratio]:
    return _ratio_by(rollup.DUE, scope, Body.level)


def satisfaction(scope: Scope = ALL) -> Ratio:
    """(Satisfied + basically satisfied) / rated, over the authors' ratings of replies (by the replying body
    and the rating's date)."""
    return _ratio(rollup.RATINGS, scope)


def satisfaction_by_year(scope: Scope = ALL) -> dict[int, Ratio]:
    return _ratio_by(rollup.RATINGS, scope, YEAR)


def adoption(scope: Scope = ALL) -> Ratio:
    """(Adopted + partly adopted) / replied, by each proposal's latest reply (its body and date); imported
    replies without a recorded decision are left out."""
    return _ratio(rollup.ADOPTION, scope)


def overdue_count(scope: Scope = ALL) -> int:
    """Proposals awaiting a reply past their deadline on the refresh date."""
    return _total(rollup.OVERDUE, scope)


def funnel(scope: Scope = ALL) -> list[tuple[str, int]]:
    """Proposals received (by the year written) that reached each stage: submitted → accepted → replied →
    adopted → a completed policy outcome."""
    counts = dict(_counts(rollup.FUNNEL, scope, FigureCount.bucket))
    return [(stage, int(counts.get(index, 0))) for index, stage in enumerate(STAGES)]


def by_body(metric: str, scope: Scope = ALL) -> list[tuple[Body, Ratio]]:
    """A share ("reply_rate", "satisfaction" or "adoption") for every body where it has a denominator,
    best first."""
    ratios = _ratio_by(SHARES[metric], scope, FigureCount.body_id)
    bodies = {body.id: body for body in db.session.scalars(sa.select(Body).where(Body.id.in_(list(ratios))))}
    rows = [(bodies[body_id], ratio) for body_id, ratio in ratios.items() if ratio.whole and body_id in bodies]
    return sorted(rows, key=lambda row: (-row[1].value, -row[1].whole, row[0].id))


def by_campaign(metric: str, scope: Scope = ALL) -> list[tuple[Campaign, Ratio]]:
    """The same per campaign, in campaign order."""
    ratios = _ratio_by(SHARES[metric], scope, FigureCount.campaign_id)
    campaigns = db.session.scalars(sa.select(Campaign).where(Campaign.id.in_(list(ratios))).order_by(Campaign.id))
    return [(campaign, ratios[campaign.id]) for campaign in campaigns if ratios[campaign.id].whole]


def league(scope: Scope = ALL) -> list[dict]:
    """Per body: messages, mean handling days, reply rate, satisfaction and adoption (one grouped query each)."""
    messages = dict(_counts(rollup.MESSAGES, scope, FigureCount.body_id))
    handling: dict[int, dict[int, int]] = defaultdict(dict)
    for body_id, days, count in _counts(rollup.HANDLING_DAYS, scope, FigureCount.body_id, FigureCount.bucket):
        handling[body_id][int(days)] = int(count)
    rates = {name: _ratio_by(measure, scope, FigureCount.body_id) for name, measure in SHARES.items()}
    body_ids = set(messages) | set(handling)
    bodies = db.session.scalars(sa.select(Body).where(Body.id.in_(list(body_ids))).order_by(Body.id))
    rows = [{"body": body, "messages": int(messages.get(body.id, 0)),
             "handling_days": Spread.of_counts(handling.get(body.id, {})),
             **{name: ratios.get(body.id, Ratio(0, 0)) for name, ratios in rates.items()}} for body in bodies]
    return sorted(rows, key=lambda row: (-row["messages"], row["body"].id))


def growing_clusters(scope: Scope = ALL, *, month: date | None = None, limit: int = 10) -> list[tuple[Cluster, int]]:
    """The clusters that gained the most members in ``month`` (default: the latest month with any; the rollup
    keeps the last 12 months)."""
    if month is None:
        month = db.session.scalar(_scoped(sa.select(sa.func.max(FigureCount.month)), rollup.CLUSTER_GROWTH, scope))
        if month is None:
            return []
    gained = sa.func.sum(FigureCount.count)
    rows = db.session.execute(_scoped(sa.select(FigureCount.bucket, gained), rollup.CLUSTER_GROWTH, scope)
                              .where(FigureCount.month == month).group_by(FigureCount.bucket)
                              .order_by(gained.desc(), FigureCount.bucket).limit(limit)).all()
    clusters = {c.id: c for c in db.session.scalars(sa.select(Cluster).where(
        Cluster.id.in_([cluster_id for cluster_id, _count in rows])))}
    return [(clusters[cluster_id], int(count)) for cluster_id, count in rows if cluster_id in clusters]


def category_names(locale: str) -> dict[int, str]:
    return {c.id: c.display_name(locale) for c in db.session.scalars(sa.select(Category))}


def distinct_participants(scope: Scope = ALL, *, live: bool = False) -> int | None:
    """Citizens who wrote or supported a public proposal, each counted once, by the year the proposals were
    written; within a campaign or site-wide. The rollup holds single years and all years; for a range of several
    years, or a scope by body, level or region, the figure is None unless counted ``live`` (slow on a large site;
    bodies are not counted even then)."""
    by_body = scope.body_id is not None or scope.level is not None or scope.region is not None \
        or scope.divisions is not None
    if live:
        return _participants_live(scope)
    if by_body or (scope.years is not None and scope.years[0] != scope.years[1]):
        return None
    query = sa.select(sa.func.sum(FigureCount.count)).where(
        FigureCount.measure == (rollup.PARTICIPANTS if scope.years else rollup.PARTICIPANTS_ALL),
        FigureCount.campaign_id == scope.campaign_id if scope.campaign_id is not None
        else FigureCount.campaign_id.is_(None))
    if scope.years is not None:
        query = query.where(FigureCount.month == date(scope.year, 1, 1))
    else:
        query = query.where(FigureCount.month == rollup.ALL_YEARS)
    return int(db.session.scalar(query) or 0)


def _participants_live(scope: Scope) -> int:
    def scoped(query):
        query = query.where(Suggestion.status.in_(PUBLIC_STATUSES))
        if scope.campaign_id is not None:
            query = query.where(Suggestion.campaign_id == scope.campaign_id)
        if scope.years is None:
            return query
        first, last = scope.years
        beijing = timedelta(hours=8)
        return query.where(Suggestion.created_at >= datetime(first, 1, 1, tzinfo=UTC) - beijing,
                           Suggestion.created_at < datetime(last + 1, 1, 1, tzinfo=UTC) - beijing)

    authors = scoped(sa.select(Suggestion.author_id.label("user_id")))
    supporters = scoped(sa.select(Vote.user_id.label("user_id")).join(Suggestion, Suggestion.id == Vote.suggestion_id)
                        .where(Vote.value == 1, Vote.held_at.is_(None)))
    union = sa.union(authors, supporters).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(union)) or 0


def headline(scope: Scope = ALL) -> dict:
    """The headline figures of a scope as plain JSON values: what the dashboard, the report, the exports and
    the API all show."""
    refreshed = rollup.refreshed_at()
    share = suggestion_share(scope)
    return {"messages": share.whole, "suggestions": share.part, "suggestion_share": share.value,
            "handling_days": handling_days(scope).as_dict(),
            "handling_working_days": handling_days(scope, working=True).as_dict(),
            "reply_rate": reply_rate(scope).as_dict(), "satisfaction": satisfaction(scope).as_dict(),
            "adoption": adoption(scope).as_dict(), "overdue": overdue_count(scope),
            "participants": distinct_participants(scope),
            "as_of": refreshed.isoformat() if refreshed else None}
