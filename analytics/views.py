"""The public figures: the dashboard (charts with table views and CSV downloads) and the yearly report."""
import csv
import functools
import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import load_only

from accounts.models import BODY_LEVEL_LABELS, Body
from analytics import charts, metrics, report, rollup
from analytics.exports import csv_value
from analytics.metrics import Scope
from campaigns.models import Campaign
from core.extensions import db
from editions.models import Edition
from editions.services import edition_by_code

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def scope_from_args(args) -> tuple[Scope, list[str]]:
    """The filters of a request as a Scope, and a message for each value that was not understood (and ignored)."""
    problems = []

    def number(name, low=1, high=10**9):
        raw = args.get(name, "").strip()
        if not raw:
            return None
        if raw.isdigit() and low <= int(raw) <= high:
            return int(raw)
        problems.append(_("“%(value)s” is not a valid value for %(field)s; that filter is ignored.",
                          value=raw[:40], field=name))
        return None

    body_id, campaign_id = number("body"), number("campaign")
    year, year_to = number("year", 1990, 2100), number("year_to", 1990, 2100)
    if year is None and year_to is not None:
        year = year_to
    if year is not None and year_to is not None and year_to < year:
        problems.append(_("The period ends before it starts; the end year is ignored."))
        year_to = None
    level = args.get("level", "").strip() or None
    if level is not None and level not in BODY_LEVEL_LABELS:
        problems.append(_("“%(value)s” is not a valid value for %(field)s; that filter is ignored.",
                          value=level[:40], field="level"))
        level = None
    region = args.get("region", "").strip()[:80] or None
    divisions = None
    if edition_code := args.get("edition", "").strip()[:12]:
        edition = edition_by_code(edition_code)
        if edition is None:
            problems.append(_("There is no such edition; that filter is ignored."))
        else:
            divisions = edition.prefix
    if body_id is not None and db.session.get(Body, body_id) is None:
        problems.append(_("There is no such body; that filter is ignored."))
        body_id = None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or campaign.status == "draft":
            problems.append(_("There is no such campaign; that filter is ignored."))
            campaign_id = None
    return Scope(body_id=body_id, level=level, region=region, divisions=divisions, campaign_id=campaign_id,
                 year=year, year_to=year_to), problems


FILTER_LIST_LIMIT = 500
"""A platform with more bodies than this (16,000 on a national one) lists in the filters only the national and
provincial bodies and their regions, or, within an edition, that edition's; the chosen body always stays listed."""


def _filter_bodies(scope: Scope) -> list[Body]:
    query = sa.select(Body).options(load_only(Body.name, Body.name_en, Body.level, Body.region))
    if scope.divisions is not None:
        query = query.where(Body.region_code.startswith(scope.divisions, autoescape=True))
    many = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(Body.id).limit(FILTER_LIST_LIMIT + 1).subquery())) > FILTER_LIST_LIMIT
    if many:
        query = query.where(sa.or_(Body.level.in_(("national", "provincial")), Body.id == scope.body_id))
    return list(db.session.scalars(query.order_by(Body.level, Body.name).limit(FILTER_LIST_LIMIT)))


def _filter_choices(scope: Scope = metrics.ALL) -> dict:
    bodies = _filter_bodies(scope)
    listed = sa.select(Campaign).where(Campaign.status != "draft").order_by(Campaign.id.desc())
    if scope.divisions is not None:  # within an edition, the campaigns of its bodies
        listed = listed.join(Body, Body.id == Campaign.body_id).where(
            Body.region_code.startswith(scope.divisions, autoescape=True))
    campaigns = list(db.session.scalars(listed.limit(FILTER_LIST_LIMIT)))
    if scope.campaign_id is not None and scope.campaign_id not in {c.id for c in campaigns}:
        campaigns.append(db.session.get(Campaign, scope.campaign_id))
    return {"bodies": bodies, "campaigns": campaigns,
            "regions": sorted({b.region for b in bodies} | ({scope.region} if scope.region else set())),
            "levels": BODY_LEVEL_LABELS,
            "editions": db.session.scalars(sa.select(Edition).order_by(Edition.code)).all(),
            "years": _years(scope.divisions, rollup.refreshed_at())}


@functools.lru_cache(maxsize=64)
def _years_kept(database: str, divisions: str | None, as_of) -> list[int]:  # noqa: ARG001 (keys of the cache)
    return sorted(metrics.messages_by(Scope(divisions=divisions), key="year"), reverse=True)


def _years(divisions: str | None, as_of) -> list[int]:
    """The years with messages (of an edition, or the whole site), newest first: the same until the rollup is
    rebuilt, so kept per rebuild."""
    if as_of is None:
        return sorted(metrics.messages_by(Scope(divisions=divisions), key="year"), reverse=True)
    return _years_kept(current_app.config["SQLALCHEMY_DATABASE_URI"], divisions, as_of)


def _fresh_scope() -> Scope:
    """Bring the figures up to date, then read the request's filters (explaining those that are ignored)."""
    rollup.ensure_fresh()
    scope, problems = scope_from_args(request.args)
    for problem in problems:
        flash(problem, "error")
    return scope


@functools.lru_cache(maxsize=128)
def _figures_kept(database: str, as_of, scope: Scope, locale: str) -> tuple[dict, list]:  # noqa: ARG001 (keys)
    return metrics.headline(scope), charts.build_all(scope, locale)


def _figures(scope: Scope, locale: str, as_of) -> tuple[dict, list]:
    """The headline and the charts of a scope. They read only the rollup, so they stay the same until it is
    rebuilt: each serving process keeps the latest 128 of them per rebuild (``as_of``), and a dashboard of an
    edition or a body costs its filters and its template, not thirty queries, between rebuilds.
    The charts hold plain values (names, masked keywords): a body renamed or a cluster regrouped since shows as it
    was until the next rebuild (5 minutes on a small site; cron on a large one), as the counts do."""
    if as_of is None:
        return metrics.headline(scope), charts.build_all(scope, locale)
    return _figures_kept(current_app.config["SQLALCHEMY_DATABASE_URI"], as_of, scope, locale)


@bp.get("/")
def dashboard():
    """Public dashboard: the headline figures and every chart of the chosen scope."""
    scope = _fresh_scope()
    locale = str(get_locale())
    as_of = rollup.refreshed_at()
    headline, built = _figures(scope, locale, as_of)
    return render_template("analytics/dashboard.html", scope=scope, headline=headline, charts=built,
                           choices=_filter_choices(scope), args={k: v for k, v in request.args.items() if v},
                           as_of=as_of)


@bp.get("/charts/<name>.csv")
def chart_csv(name: str):
    """One chart's table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese)."""
    if name not in charts.CHARTS:
        abort(404)
    rollup.ensure_fresh()
    scope, _problems = scope_from_args(request.args)
    chart = charts.build(name, scope, str(get_locale()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(column) for column in chart.columns])
    writer.writerows([[csv_value(value) for value in row] for row in chart.rows])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}.csv"})


@bp.get("/report")
def yearly_report():
    """The printable yearly report of a year (default: the latest with messages), optionally for one body."""
    scope = _fresh_scope()
    edition = edition_by_code(request.args.get("edition", "")[:12]) if scope.divisions is not None else None
    data = report.build(scope.year, body_id=scope.body_id, locale=str(get_locale()), edition=edition)
    return render_template("analytics/report_page.html", report=data, choices=_filter_choices(scope),
                           args={k: v for k, v in request.args.items() if v})
