"""The public dashboard, its CSV downloads and the yearly report (page and `flask analytics report`)."""
import csv
import io
import json
import os
import re
import statistics
from collections import defaultdict
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from analytics import rollup
from core.extensions import db
from suggestions import ratings, services
from suggestions.deadlines import beijing_date
from suggestions.models import Suggestion
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user

SHARED_DATA = os.environ.get("JIANYAN_SHARED_DATA", "/work/shared/data")
HISTORY_FILE = os.path.join(SHARED_DATA, "messages_with_replies.csv")


def beijing(y, m, d, hour=10):
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def beijing_day(stored):
    """A stored naive-UTC timestamp (a string from SQLite, a datetime from PostgreSQL) as a Beijing date."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return beijing_date(moment.replace(tzinfo=UTC))


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def handle(staff, suggestion, accepted, replied, decision="adopted"):
    services.accept_suggestion(staff, suggestion, accepted)
    return services.reply_to_suggestion(staff, suggestion, decision=decision,
                                        content="感谢您的建议，经研究答复如下。", now=replied)


@pytest.fixture
def two_years(app):
    """A county body's proposals over 2025 and 2026: handling time falls from 10 to 4 days."""
    body = make_body(name="青溪县交通运输局")
    staff = make_staff(body)
    campaign = make_campaign(body)
    other = make_category(code="education", name="教育文体", name_en="Education")
    for i, (accepted, replied) in enumerate([((2025, 3, 2), (2025, 3, 12)), ((2025, 6, 2), (2025, 6, 12)),
                                             ((2026, 3, 2), (2026, 3, 6)), ((2026, 5, 4), (2026, 5, 8))]):
        author = make_user()
        suggestion = make_suggestion(campaign, author, title=f"关于公交线路优化的第{i + 1}条建议")
        if i == 3:
            suggestion.category = other
        suggestion.created_at = beijing(*accepted, hour=9)
        reply = handle(staff, suggestion, beijing(*accepted), beijing(*replied),
                       decision="adopted" if i % 2 else "explained")
        ratings.rate_reply(author, suggestion, "satisfied" if i else "unsatisfied", [])
        reply.rating.created_at = reply.created_at
    make_suggestion(campaign, title="咨询老年卡办理地点", message_type="question").created_at = beijing(2026, 7, 1)
    db.session.commit()
    return body


def test_dashboard_shows_every_chart_with_tables_and_csv(client, two_years):
    page = client.get("/analytics/").get_data(as_text=True)
    for name in ("messages_per_year", "messages_per_month", "category_trend", "suggestion_share", "handling_days",
                 "reply_rate_by_level", "satisfaction", "funnel", "league", "hot_topics"):
        assert f'id="{name}"' in page
    assert "vendor/echarts/echarts.common.min.js" in page
    # The bodies' table takes the page's width and says which bodies it lists.
    assert 'class="chart-card chart-wide" id="league"' in page and "没有留言的机构不列出" in page
    assert re.search(r'data-figure="messages">5<', page)
    assert re.search(r'data-figure="handling_days_mean">7.0<', page)
    # Each rate shows the counts behind it (the headline and the funnel count different things).
    assert re.search(r'data-figure="reply_rate">[\d.]+%<span class="ratio">\d+ / \d+</span>', page)
    # The table under the handling-time chart and its CSV hold the same rows.
    rows = read_csv(client.get("/analytics/charts/handling_days.csv"))
    assert rows[1:] == [["2025", "10.0", "10.0", "10.0", "2"], ["2026", "4.0", "4.0", "4.0", "2"]]
    assert re.search(r"<th scope=\"row\">2025</th><td>10.0</td><td>10.0</td>", page)
    share = read_csv(client.get("/analytics/charts/suggestion_share.csv"))
    assert share[1:] == [["2025", "100.0", "2", "2"], ["2026", "66.7", "2", "3"]]
    # Satisfaction per year: 2025 one of two satisfied, 2026 both.
    assert read_csv(client.get("/analytics/charts/satisfaction.csv"))[1:] == [["2025", "50.0", "1", "2"],
                                                                               ["2026", "100.0", "2", "2"]]
    funnel = read_csv(client.get("/analytics/charts/funnel.csv"))
    assert [row[1] for row in funnel[1:]] == ["5", "4", "4", "2", "0"]
    # Filters narrow the figures; unknown values are explained and ignored, never a server error.
    page = client.get("/analytics/?year=2026").get_data(as_text=True)
    assert re.search(r'data-figure="messages">3<', page)
    response = client.get("/analytics/?year=abc&level=galaxy&body=99999&campaign=-1")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.count('class="flash flash-error"') == 4
    assert client.get("/analytics/charts/nothing.csv").status_code == 404


def test_yearly_report_page_and_file_say_what_changed(app, client, two_years, tmp_path):
    page = client.get("/analytics/report?year=2026").get_data(as_text=True)
    assert "平均办理时长由10.0天缩短至4.0天" in page
    out = tmp_path / "report.html"
    result = app.test_cli_runner().invoke(args=["analytics", "report", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "平均办理时长由10.0天缩短至4.0天" in html and "<svg" in html and "<script" not in html
    result = app.test_cli_runner().invoke(args=["analytics", "report", "--year", "2026", "--locale", "en",
                                                "--body", str(two_years.id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Mean handling time fell from 10.0 days to 4.0 days." in out.read_text(encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["analytics", "report", "--body", "99999", "--out", str(out)])
    assert result.exit_code != 0 and "No body 99999" in result.output


def test_report_of_an_empty_site_or_year_says_so(client, app):
    for url in ("/analytics/report", "/analytics/report?year=2023", "/analytics/report?year=2023&body=1"):
        response = client.get(url)
        assert response.status_code == 200 and "暂无可报告的留言" in response.get_data(as_text=True)


def test_refresh_backfills_handling_time_of_old_replies(app, two_years):
    suggestion = db.session.scalars(sa.select(Suggestion).where(Suggestion.first_replied_at.is_not(None))).first()
    expected = suggestion.handling_days
    suggestion.first_replied_at = suggestion.handling_days = suggestion.handling_working_days = None
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0 and "filled in for 1 replied proposals" in result.output
    db.session.refresh(suggestion)
    assert suggestion.handling_days == expected and suggestion.first_replied_at is not None


@pytest.mark.skipif(not os.path.exists(HISTORY_FILE), reason="the shared development data is not on this machine")
def test_imported_history_gives_the_same_yearly_handling_days_as_an_independent_count(app, client):
    """Must-show: after importing messages_with_replies.csv, the per-year mean and median handling days on the
    dashboard equal a computation in plain SQL and Python over the imported rows."""
    body = make_body(name="A市人民政府")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["analytics", "import-messages", HISTORY_FILE, "--body", str(body.id),
                                                "--no-index"])
    assert result.exit_code == 0, result.output
    # Independent: message time and first reply straight from the tables, days between Beijing dates.
    rows = db.session.execute(sa.text(
        "SELECT s.created_at, min(r.created_at) FROM suggestions s JOIN replies r ON r.suggestion_id = s.id "
        "WHERE s.source = 'messages_with_replies' GROUP BY s.id, s.created_at")).all()
    by_year = defaultdict(list)
    for created, replied in rows:
        created, replied = beijing_day(created), beijing_day(replied)
        if replied >= created:
            by_year[replied.year].append((replied - created).days)
    assert len(by_year) >= 5 and sum(map(len, by_year.values())) > 2000
    expected = [[str(year), f"{statistics.fmean(days):.1f}", f"{statistics.median(days):.1f}"]
                for year, days in sorted(by_year.items())]
    shown = [row[:3] for row in read_csv(client.get("/analytics/charts/handling_days.csv"))[1:]]
    assert shown == expected
    page = client.get("/analytics/").get_data(as_text=True)
    for year, mean, median in expected:
        assert f'<th scope="row">{year}</th><td>{mean}</td><td>{median}</td>' in page
    # Exact values, not only the rounded ones on the page.
    from analytics import metrics
    for year, spread in metrics.handling_days_by_year().items():
        assert spread.mean == pytest.approx(statistics.fmean(by_year[year]), abs=1e-9)
        assert spread.median == statistics.median(by_year[year])
    assert rollup.refreshed_at() is not None


def test_hot_topics_are_the_clusters_that_grew_most_in_the_latest_month(client, app):
    from suggestions.models import Cluster, ClusterMember

    campaign = make_campaign(make_body(name="临川市住房和城乡建设局"))
    small = [make_suggestion(campaign, title=f"建议老旧小区加装电梯第{i}条") for i in range(2)]
    large = [make_suggestion(campaign, title=f"建议规范电动自行车充电第{i}条") for i in range(3)]
    for members, words in ((small, "加装 电梯 老旧小区"), (large, "电动自行车 充电 消防")):
        cluster = Cluster(campaign_id=campaign.id, representative_id=members[0].id, size=len(members),
                          keywords=words)
        db.session.add(cluster)
        db.session.flush()
        db.session.add_all(ClusterMember(suggestion_id=s.id, cluster_id=cluster.id, kind="near_duplicate", score=0.8)
                           for s in members)
    db.session.commit()
    rows = read_csv(client.get("/analytics/charts/hot_topics.csv"))
    assert [row[:3] for row in rows[1:]] == [["电动自行车 充电 消防", "3", "3"], ["加装 电梯 老旧小区", "2", "2"]]


def test_pages_leave_slow_rebuilds_to_cron(app, client, two_years):
    from analytics.models import FiguresRefresh

    rollup.refresh()
    db.session.execute(sa.update(FiguresRefresh).values(took_seconds=60.0))  # as on a very large site
    make_suggestion(db.session.scalars(sa.select(Suggestion)).first().campaign, title="建议延长末班公交运营时间")
    db.session.commit()
    page = client.get("/analytics/").get_data(as_text=True)
    assert re.search(r'data-figure="messages">5<', page)  # as of the last rebuild, not rebuilt by the visitor
    assert app.test_cli_runner().invoke(args=["analytics", "refresh"]).exit_code == 0
    assert re.search(r'data-figure="messages">6<', client.get("/analytics/").get_data(as_text=True))


def test_the_category_chart_draws_the_six_largest_and_the_rest_as_one_band(client, app):
    """Twelve stacked colours cannot be told apart: the chart draws six categories and 'other categories', while
    the table and CSV keep every category and the band equals the sum of the others."""
    campaign = make_campaign(make_body(name="青溪县人民政府办公室"))
    for rank in range(9):  # category k has 9 - k proposals
        category = make_category(code=f"topic{rank}", name=f"类别{rank}", name_en=f"Topic {rank}")
        for _ in range(9 - rank):
            make_suggestion(campaign, title=f"关于第{rank}类事项的建议").category = category
    db.session.commit()
    rows = read_csv(client.get("/analytics/charts/category_trend.csv"))
    assert rows[0][1:] == [f"类别{k}" for k in range(9)]  # every category, and no sum column to count twice
    assert [int(v) for v in rows[1][1:]] == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    page = client.get("/analytics/").get_data(as_text=True)
    spec = json.loads(re.search(r'<script type="application/json" id="[^"]*category_trend[^"]*">(.*?)</script>',
                                page, re.S).group(1))
    assert spec["columns"][-1] == "其他类别" and spec["series"] == [1, 2, 3, 4, 5, 6, 10]
    assert spec["rows"][0][-1] == 3 + 2 + 1
    assert "其余类别合为一组" in page and "<th scope=\"col\">其他类别</th>" not in page
