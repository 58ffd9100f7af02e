"""The yearly report, in the style of People's Daily's report on its message board: the year's figures beside
the previous year's, the trends across years, and sentences that say what changed ("平均办理时长由X天缩短至Y天")."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from accounts.models import Body
from analytics import charts, metrics, rollup
from analytics.metrics import Scope
from core.extensions import db


@dataclass
class Report:
    year: int | None
    body: Body | None
    figures: dict
    previous: dict | None
    sentences: list[str]
    trends: list[charts.Chart]
    categories: charts.Chart
    league: charts.Chart
    as_of: datetime | None = None
    edition: object | None = None  # editions.models.Edition: the report of a local edition


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def sentences(year: int, now: dict, before: dict | None, category_change: tuple[str, str] | None) -> list[str]:
    """What changed from the previous year, in words."""
    said = [_("In %(year)s the board received %(messages)s messages, of which %(suggestions)s were suggestions "
              "(%(share)s).", year=year, messages=now["messages"], suggestions=now["suggestions"],
              share=_pct(now["suggestion_share"]))]
    mean_now = now["handling_days"]["mean"]
    mean_before = before["handling_days"]["mean"] if before else None
    if mean_now is not None and mean_before is not None:
        if round(mean_now, 1) < round(mean_before, 1):
            said.append(_("Mean handling time fell from %(before)s days to %(after)s days.",
                          before=_days(mean_before), after=_days(mean_now)))
        elif round(mean_now, 1) > round(mean_before, 1):
            said.append(_("Mean handling time rose from %(before)s days to %(after)s days.",
                          before=_days(mean_before), after=_days(mean_now)))
        else:
            said.append(_("Mean handling time stayed at %(days)s days.", days=_days(mean_now)))
    elif mean_now is not None:
        said.append(_("Mean handling time was %(days)s days (median %(median)s days).", days=_days(mean_now),
                      median=_days(now["handling_days"]["median"])))
    share_before = before["suggestion_share"] if before else None
    if now["suggestion_share"] is not None and share_before is not None and before["messages"]:
        verb = _("rose") if now["suggestion_share"] > share_before else _("fell")
        said.append(_("The share of suggestions among all messages %(verb)s from %(before)s to %(after)s.",
                      verb=verb, before=_pct(share_before), after=_pct(now["suggestion_share"])))
    if now["reply_rate"]["value"] is not None:
        said.append(_("%(rate)s of the messages whose reply was due were answered.",
                      rate=_pct(now["reply_rate"]["value"])))
    if now["satisfaction"]["value"] is not None:
        said.append(_("%(rate)s of the rated replies left their authors satisfied or basically satisfied.",
                      rate=_pct(now["satisfaction"]["value"])))
    if category_change is not None:
        said.append(_("%(category)s grew fastest among the categories; %(other)s shrank most.",
                      category=category_change[0], other=category_change[1]))
    return said


def _category_change(scope_now: Scope, scope_before: Scope, locale: str) -> tuple[str, str] | None:
    now = metrics.messages_by(scope_now, key="category")
    before = metrics.messages_by(scope_before, key="category")
    if not now or not before:
        return None
    total_now, total_before = sum(now.values()), sum(before.values())
    change = {c: now.get(c, 0) / total_now - before.get(c, 0) / total_before for c in set(now) | set(before)}
    names = metrics.category_names(locale)
    grew, shrank = max(change, key=lambda c: (change[c], -c)), min(change, key=lambda c: (change[c], c))
    if change[grew] <= 0 or change[shrank] >= 0:
        return None
    return names.get(grew, str(grew)), names.get(shrank, str(shrank))


def build(year: int | None, *, body_id: int | None = None, locale: str = "zh_Hans", edition=None) -> Report:
    """The report of ``year`` (default: the latest year with messages) for the whole site, one body, or one local
    edition (its bodies: the same figures within its region)."""
    body = db.session.get(Body, body_id) if body_id is not None else None
    within = {"body_id": body_id, "divisions": edition.prefix if edition is not None else None}
    years = sorted(metrics.messages_by(Scope(**within), key="year"))
    if year is None:
        year = years[-1] if years else None
    if year is None or not years:
        empty = charts.Chart("none", "", "table", [])
        return Report(None, body, metrics.headline(Scope(**within)), None, [], [], empty, empty,
                      rollup.refreshed_at(), edition)
    scope, scope_before = Scope(**within, year=year), Scope(**within, year=year - 1)
    figures = metrics.headline(scope)
    previous = metrics.headline(scope_before)
    if not previous["messages"] and not previous["handling_days"]["n"]:
        previous = None
    all_years = Scope(**within, year=min(years[0], year), year_to=max(years[-1], year))
    trends = [charts.handling_days(all_years, locale), charts.suggestion_share(all_years, locale),
              charts.satisfaction(all_years, locale)]
    return Report(year, body, figures, previous,
                  sentences(year, figures, previous, _category_change(scope, scope_before, locale)),
                  trends, charts.category_trend(Scope(**within, year=year - 1, year_to=year), locale),
                  charts.league(scope, locale), rollup.refreshed_at(), edition)
