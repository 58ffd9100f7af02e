"""Each figure defined once (analytics.metrics) and checked against an independent count of the same rows."""
import re
import statistics
from datetime import UTC, date, datetime

import sqlalchemy as sa

from analytics import metrics, rollup
from analytics.metrics import Scope
from core.extensions import db
from suggestions import ratings, services
from suggestions.deadlines import beijing_date
from suggestions.models import Reply
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def beijing(y, m, d, hour=10):
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def test_handling_days_in_calendar_and_working_days(app):
    body = make_body()
    campaign = make_campaign(body)
    staff = make_staff(body)
    # (accepted, first reply): across National Day 2026, a plain week, and a same-day reply.
    spans = [(beijing(2026, 9, 29), beijing(2026, 10, 12)), (beijing(2026, 11, 2), beijing(2026, 11, 6)),
             (beijing(2026, 11, 16), beijing(2026, 11, 16, 17))]
    for i, (accepted, replied) in enumerate(spans):
        suggestion = make_suggestion(campaign, title=f"关于城区停车管理的第{i + 1}条建议")
        services.accept_suggestion(staff, suggestion, accepted)
        services.reply_to_suggestion(staff, suggestion, decision="adopted" if i else "not_adopted",
                                     content="感谢您的建议，经研究答复如下。", now=replied)
        if i == 1:  # a second reply must not change the handling time, which runs to the first
            suggestion.status = "accepted"
            services.reply_to_suggestion(staff, suggestion, decision="adopted", content="补充答复：该建议已经全部落实到位。",
                                         now=beijing(2026, 11, 27))
    calendar = [13, 4, 0]      # 29 Sep → 12 Oct, 2 → 6 Nov, same day
    working = [5, 4, 0]        # 30 Sep, 8, 9, 10 (make-up Saturday), 12 Oct; 3-6 Nov
    rollup.refresh()
    got = metrics.handling_days(Scope(year=2026))
    assert (got.n, got.mean, got.median) == (3, statistics.fmean(calendar), statistics.median(calendar))
    assert got.p90 == 13
    got = metrics.handling_days(Scope(year=2026), working=True)
    assert (got.mean, got.median) == (statistics.fmean(working), statistics.median(working))
    assert metrics.handling_days(Scope(year=2025)).n == 0 and metrics.handling_days(Scope(year=2025)).mean is None
    assert metrics.handling_days_by_year()[2026] == metrics.handling_days(Scope(year=2026))
    # Adoption by each proposal's latest reply: 2 of 3 (the second proposal's latest reply is "adopted").
    independent = db.session.execute(sa.text(
        "SELECT count(*), sum(CASE WHEN decision IN ('adopted', 'partly_adopted') THEN 1 ELSE 0 END) FROM replies "
        "WHERE id IN (SELECT max(id) FROM replies GROUP BY suggestion_id)")).one()
    assert metrics.adoption() == metrics.Ratio(int(independent[1]), independent[0]) == metrics.Ratio(2, 3)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reply)) == 4


def test_shares_rates_and_participants(app, client):
    body = make_body(name="青溪县民政局")
    campaign = make_campaign(body)
    staff = make_staff(body)
    authors = [make_user() for _ in range(3)]
    proposals = [make_suggestion(campaign, authors[0], title="建议增设社区食堂"),
                 make_suggestion(campaign, authors[1], title="咨询高龄补贴怎么申请", message_type="question"),
                 make_suggestion(campaign, authors[2], title="投诉养老院服务差", message_type="complaint")]
    services.vote(authors[1], proposals[0], 1)
    services.vote(make_user(), proposals[0], 1)
    rollup.refresh()
    assert metrics.suggestion_share() == metrics.Ratio(1, 3)
    assert metrics.distinct_participants(Scope(campaign_id=campaign.id)) == 4
    this_year = beijing_date(proposals[0].created_at).year
    assert metrics.distinct_participants() == metrics.distinct_participants(Scope(year=this_year)) == 4
    assert metrics.distinct_participants(Scope(campaign_id=campaign.id, year=this_year - 1)) == 0
    assert metrics.distinct_participants(Scope(body_id=body.id)) is None  # not counted by body
    assert metrics.distinct_participants(Scope(year=this_year), live=True) == 4
    for suggestion, satisfaction in zip(proposals[:2], ["satisfied", "unsatisfied"], strict=True):
        services.reply_to_suggestion(staff, suggestion, decision="explained", content="感谢您的来信，答复如下。")
        ratings.rate_reply(db.session.get(type(suggestion.author), suggestion.author_id), suggestion,
                           satisfaction, [])
    rollup.refresh()
    assert metrics.satisfaction(Scope(body_id=body.id)) == metrics.Ratio(1, 2)
    db.session.commit()
    # The public page shows the same figure the metric gives.
    page = client.get("/suggestions/timeliness").get_data(as_text=True)
    assert re.search(r"<td>青溪县民政局</td><td>2</td><td>50%</td>", page)
    # Reply rate: two replied, one awaiting past its deadline → 2 / 3.
    services.accept_suggestion(staff, proposals[2])
    proposals[2].reply_due_on = date(2026, 1, 5)
    db.session.commit()
    rollup.refresh(on=date(2030, 1, 1))
    assert metrics.reply_rate() == metrics.Ratio(2, 3)
    assert metrics.overdue_count() == 1
