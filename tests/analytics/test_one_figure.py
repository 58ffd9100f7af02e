"""Must-show: one figure read from the dashboard, the yearly report, the open-data export and the API is the same
number (Decidim's counters disagreed between pages: its issue #8845)."""
import json
import re
from datetime import UTC, datetime

from core.extensions import db
from suggestions import ratings, services
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def beijing(y, m, d, hour=10):
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def shown(html: str, figure: str) -> str:
    match = re.search(rf'data-figure="{figure}">([^<]*)<', html)
    assert match, figure
    return match.group(1)


def test_the_same_figures_on_the_dashboard_report_export_and_api(app, client, tmp_path):
    body = make_body(name="临川市交通运输局", level="municipal")
    staff = make_staff(body)
    campaign = make_campaign(body)
    spans = [((2025, 3, 2), (2025, 3, 9)), ((2025, 4, 1), (2025, 4, 20)), ((2025, 5, 6), (2025, 5, 8))]
    for i, (accepted, replied) in enumerate(spans):
        author = make_user()
        suggestion = make_suggestion(campaign, author, title=f"关于优化公交站点设置的第{i + 1}条建议")
        suggestion.created_at = beijing(*accepted, hour=9)
        services.accept_suggestion(staff, suggestion, beijing(*accepted))
        reply = services.reply_to_suggestion(staff, suggestion, decision="adopted" if i else "not_adopted",
                                             content="感谢您的建议，我局已研究并答复如下。", now=beijing(*replied))
        ratings.rate_reply(author, suggestion, "unsatisfied" if i == 2 else "satisfied", [])
        reply.rating.created_at = reply.created_at
    make_suggestion(campaign, title="咨询公交卡办理网点", message_type="question").created_at = beijing(2025, 6, 1)
    db.session.commit()
    # Four messages, handling days 7, 19 and 2 (mean 9.33), two of three ratings good, two of three adopted.

    dashboard = client.get("/analytics/").get_data(as_text=True)
    report_page = tmp_path / "report.html"
    result = app.test_cli_runner().invoke(args=["analytics", "report", "--year", "2025", "--out", str(report_page)])
    assert result.exit_code == 0, result.output
    report = report_page.read_text(encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["analytics", "export", "--out", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    exported = json.loads((tmp_path / "export" / "figures.json").read_text(encoding="utf-8"))["figures"]
    api = client.get("/api/v1/metrics").get_json()

    for html in (dashboard, report):
        assert shown(html, "messages") == "4" == str(exported["messages"]) == str(api["messages"])
        assert shown(html, "handling_days_mean") == "9.3" == f'{exported["handling_days"]["mean"]:.1f}' \
            == f'{api["handling_days"]["mean"]:.1f}'
        assert shown(html, "satisfaction") == "66.7%" == f'{100 * exported["satisfaction"]["value"]:.1f}%' \
            == f'{100 * api["satisfaction"]["value"]:.1f}%'
        assert shown(html, "adoption") == "66.7%" == f'{100 * api["adoption"]["value"]:.1f}%'
        assert shown(html, "suggestion_share") == "75.0%"
    assert exported["handling_days"] == api["handling_days"] == {"n": 3, "mean": 28 / 3, "median": 7.0, "p90": 19.0}
    assert exported["satisfaction"] == api["satisfaction"] == {"part": 2, "whole": 3, "value": 2 / 3}
