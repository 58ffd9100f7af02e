"""The dashboard's charts as tables: each chart is a header and rows built from ``analytics.metrics``, drawn by
static/js/charts.js (ECharts), shown as an HTML table and downloadable as CSV, so all three show one set of
numbers."""
from dataclasses import dataclass, field

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from accounts.models import BODY_LEVEL_LABELS
from analytics import metrics
from analytics.metrics import Ratio, Scope, Spread
from core.privacy import mask_personal_data

DRAWN_CATEGORIES = 6  # stacked bands a reader can tell apart by colour; the rest are drawn as one
STAGE_LABELS = {"submitted": _l("Submitted"), "accepted": _l("Accepted"), "replied": _l("Replied"),
                "adopted": _l("Adopted"), "completed": _l("Policy completed")}


@dataclass
class Chart:
    """One chart: ``columns`` head the table (the first is the category axis), ``rows`` hold plain values;
    ``series`` are the column indexes drawn; ``kind`` is bar, line, stacked, hbar or table."""
    name: str
    title: str
    kind: str
    columns: list
    rows: list[list] = field(default_factory=list)
    series: list[int] = field(default_factory=lambda: [1])
    percent: bool = False
    note: str = ""
    drawn_only: tuple[str, list] | None = None  # (name, a value per row): a band drawn, not in the table or CSV

    def spec(self) -> dict:
        """What charts.js needs."""
        columns, rows, series = [str(c) for c in self.columns], [[str(row[0]), *row[1:]] for row in self.rows], \
            self.series
        if self.drawn_only:
            name, values = self.drawn_only
            columns, rows = [*columns, str(name)], [[*row, value] for row, value in zip(rows, values, strict=True)]
            series = [*series, len(columns) - 1]
        return {"kind": self.kind, "columns": columns, "series": series, "percent": self.percent, "rows": rows}


def _percent(ratio: Ratio) -> float | None:
    return None if ratio.value is None else round(100 * ratio.value, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def messages_per_year(scope: Scope, locale: str) -> Chart:
    rows = [[year, count] for year, count in metrics.messages_by(scope, key="year").items()]
    return Chart("messages_per_year", _l("Messages per year"), "bar", [_l("Year"), _l("Messages")], rows)


def messages_per_month(scope: Scope, locale: str) -> Chart:
    rows = [[format_date(month, "yyyy-MM"), count] for month, count in metrics.messages_by(scope, key="month").items()]
    return Chart("messages_per_month", _l("Messages per month"), "line", [_l("Month"), _l("Messages")], rows)


def category_trend(scope: Scope, locale: str) -> Chart:
    table = metrics.messages_by_year_and_category(scope)
    names = metrics.category_names(locale)
    totals: dict[int, int] = {}
    for counts in table.values():
        for category_id, count in counts.items():
            totals[category_id] = totals.get(category_id, 0) + count
    categories = sorted(totals, key=lambda c: (-totals[c], c))
    columns = [_l("Year"), *[names.get(c, str(c)) for c in categories]]
    rows = [[year, *[counts.get(c, 0) for c in categories]] for year, counts in table.items()]
    if len(categories) <= DRAWN_CATEGORIES + 1:
        return Chart("category_trend", _l("Categories per year"), "stacked", columns, rows,
                     series=list(range(1, len(categories) + 1)))
    # More stacked colours than the eye tells apart: the largest are drawn, the rest as one band; the table
    # (and its CSV) keeps every category and no sum of them, so a row adds up.
    return Chart("category_trend", _l("Categories per year"), "stacked", columns, rows,
                 series=list(range(1, DRAWN_CATEGORIES + 1)),
                 drawn_only=(_l("Other categories"), [sum(row[1 + DRAWN_CATEGORIES:]) for row in rows]),
                 note=_l("The chart draws the %(n)d largest categories and the others as one band; the table lists "
                         "every category.", n=DRAWN_CATEGORIES))


def suggestion_share(scope: Scope, locale: str) -> Chart:
    rows = [[year, _percent(ratio), ratio.part, ratio.whole]
            for year, ratio in metrics.suggestion_share_by_year(scope).items()]
    return Chart("suggestion_share", _l("Share of suggestions among all messages"), "line",
                 [_l("Year"), _l("Share of suggestions (%)"), _l("Suggestions"), _l("Messages")], rows, percent=True)


def handling_days(scope: Scope, locale: str) -> Chart:
    rows = []
    for year, calendar in metrics.handling_days_by_year(scope).items():
        rows.append([year, _round(calendar.mean), _round(calendar.median), _round(calendar.p90), calendar.n])
    return Chart("handling_days", _l("Handling time per year (days from acceptance to first reply)"), "line",
                 [_l("Year"), _l("Mean"), _l("Median"), _l("90th percentile"), _l("Replies")], rows, series=[1, 2])


def reply_rate_by_level(scope: Scope, locale: str) -> Chart:
    ratios = metrics.reply_rate_by_level(scope)
    order = list(BODY_LEVEL_LABELS)
    rows = [[BODY_LEVEL_LABELS.get(level, level), _percent(ratio), ratio.part, ratio.whole]
            for level, ratio in sorted(ratios.items(), key=lambda item: order.index(item[0])
                                       if item[0] in order else len(order))]
    return Chart("reply_rate_by_level", _l("Reply rate by level of body"), "bar",
                 [_l("Level"), _l("Reply rate (%)"), _l("Replied"), _l("Due")], rows, percent=True)


def satisfaction(scope: Scope, locale: str) -> Chart:
    rows = [[year, _percent(ratio), ratio.part, ratio.whole]
            for year, ratio in metrics.satisfaction_by_year(scope).items()]
    return Chart("satisfaction", _l("Satisfaction with replies per year"), "line",
                 [_l("Year"), _l("Satisfied (%)"), _l("Satisfied or basically satisfied"), _l("Ratings")], rows,
                 percent=True)


def funnel(scope: Scope, locale: str) -> Chart:
    rows = [[STAGE_LABELS[stage], count] for stage, count in metrics.funnel(scope)]
    return Chart("funnel", _l("From proposal to policy"), "hbar", [_l("Stage"), _l("Proposals")], rows)


def league(scope: Scope, locale: str) -> Chart:
    rows = []
    for row in metrics.league(scope):
        spread: Spread = row["handling_days"]
        rows.append([row["body"].display_name(locale),
                     row["messages"], _round(spread.mean), _percent(row["reply_rate"]),
                     _percent(row["satisfaction"]), _percent(row["adoption"])])
    return Chart("league", _l("Bodies compared"), "table",
                 [_l("Body"), _l("Messages"), _l("Mean handling days"), _l("Reply rate (%)"), _l("Satisfied (%)"),
                  _l("Adopted (%)")], rows,
                 note=_l("Bodies that received or handled messages in this selection, the busiest first; bodies "
                         "without any are not listed."))


def hot_topics(scope: Scope, locale: str) -> Chart:
    rows = [[mask_personal_data(cluster.keywords) or f"#{cluster.id}", count, cluster.size, cluster.id]
            for cluster, count in metrics.growing_clusters(scope)]
    return Chart("hot_topics", _l("Fastest-growing topics in the latest month"), "hbar",
                 [_l("Topic (keywords)"), _l("New proposals"), _l("Proposals in all"), _l("Cluster")], rows,
                 note=_l("Clusters of similar proposals that gained the most new proposals in the latest month."))


CHARTS = {builder.__name__: builder for builder in (
    messages_per_year, messages_per_month, category_trend, suggestion_share, handling_days, reply_rate_by_level,
    satisfaction, funnel, league, hot_topics)}


def build(name: str, scope: Scope, locale: str) -> Chart:
    return CHARTS[name](scope, locale)


def build_all(scope: Scope, locale: str) -> list[Chart]:
    return [builder(scope, locale) for builder in CHARTS.values()]
