"""Campaign lifecycle services and the public list with its filters."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from campaigns import services
from campaigns.models import Campaign, Phase
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from suggestions import services as suggestion_services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user


def test_staff_create_open_close_archive_with_audit(app):
    body = make_body()
    staff = make_staff(body, role="manager")
    now = utcnow()
    campaign = services.create_campaign(
        staff, body, title="“十五五”规划建议征集", theme="共绘发展蓝图", description="欢迎建言。",
        categories=[make_category()], region_scope="江南省", opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=20), allow_oppose=False)
    assert campaign.phase(now) == Phase.DRAFT
    services.open_campaign(staff, campaign)
    assert campaign.phase(now) == Phase.OPEN
    services.close_campaign(staff, campaign, now)
    assert campaign.phase(now) == Phase.CLOSED and campaign.closes_at == now
    services.archive_campaign(staff, campaign)
    assert campaign.phase(now) == Phase.ARCHIVED
    with pytest.raises(Conflict):
        services.close_campaign(staff, campaign, now)


def test_reopening_needs_a_closing_time_ahead(app):
    body = make_body()
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body)
    now = utcnow()
    services.close_campaign(manager, campaign, now)
    with pytest.raises(Conflict):
        services.open_campaign(manager, campaign, now + timedelta(minutes=1))
    assert campaign.status == "closed"
    campaign.closes_at = now + timedelta(days=10)  # what editing the campaign does
    services.open_campaign(manager, campaign, now)
    assert campaign.accepts_submissions(now + timedelta(minutes=1))


def test_archived_campaigns_leave_the_default_list(client):
    make_campaign(title="已归档的旧征集", status="archived")
    assert "已归档的旧征集" not in client.get("/campaigns/").get_data(as_text=True)


def test_standing_campaign_never_closes(app):
    campaign = make_campaign(closes_in_days=None)
    assert campaign.accepts_submissions(utcnow() + timedelta(days=3650))


def test_closing_soon_phase(app):
    campaign = make_campaign(closes_in_days=3)
    assert campaign.phase(utcnow()) == Phase.CLOSING_SOON


def test_create_campaign_checks_input_and_rights(app):
    body = make_body()
    now = utcnow()
    fields = dict(title="停车难问题征集", theme="", description="", categories=[make_category()], region_scope="",
                  opens_at=now, closes_at=now - timedelta(days=1), allow_oppose=False)
    with pytest.raises(InvalidInput):
        services.create_campaign(make_staff(body, role="manager"), body, **fields)
    with pytest.raises(NotAllowed):
        services.create_campaign(make_staff(make_body(), role="manager"), body, **{**fields, "closes_at": None})
    with pytest.raises(NotAllowed):  # plain staff handle proposals but do not run campaigns
        services.create_campaign(make_staff(body), body, **{**fields, "closes_at": None})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_list_filters_by_phase_body_level_region_and_category(client):
    county = make_body("青溪县人民政府", level="county", region="江南省临川市青溪县")
    province = make_body("江南省人大常委会", level="provincial", region="江南省", kind="congress")
    education = make_category("education", "教育文体", "Education")
    make_campaign(county, title="青溪县道路交通安全建议征集")
    make_campaign(province, title="江南省“十五五”规划建议征集", categories=[education])
    make_campaign(county, title="青溪县老旧小区改造意见征集", status="closed")
    names = {"青溪县道路交通安全建议征集": "道路交通安全", "江南省“十五五”规划建议征集": "十五五",
             "青溪县老旧小区改造意见征集": "老旧小区"}
    titles = lambda html: {short for full, short in names.items() if full in html}  # noqa: E731

    assert titles(client.get("/campaigns/").get_data(as_text=True)) == {"道路交通安全", "十五五", "老旧小区"}
    assert titles(client.get("/campaigns/?phase=open").get_data(as_text=True)) == {"道路交通安全", "十五五"}
    assert titles(client.get("/campaigns/?phase=closed").get_data(as_text=True)) == {"老旧小区"}
    archived = make_campaign(county, title="青溪县河道管理意见征集", status="archived")
    names[archived.title] = "河道"
    assert "河道" not in titles(client.get("/campaigns/").get_data(as_text=True))  # retired from the list …
    assert titles(client.get("/campaigns/?phase=archived").get_data(as_text=True)) == {"河道"}  # … one choice away
    assert 'value="upcoming"' in client.get("/campaigns/").get_data(as_text=True)
    assert titles(client.get(f"/campaigns/?body={province.id}").get_data(as_text=True)) == {"十五五"}
    assert titles(client.get("/campaigns/?level=county").get_data(as_text=True)) == {"道路交通安全", "老旧小区"}
    assert titles(client.get("/campaigns/?region=江南省临川市").get_data(as_text=True)) == {"道路交通安全", "老旧小区"}
    assert titles(client.get("/campaigns/?category=education").get_data(as_text=True)) == {"十五五"}
    # Unknown filter values are ignored, never a 500.
    response = client.get("/campaigns/?phase=bogus&body=abc&level=x&category=%E2%80%AE")
    assert response.status_code == 200


def test_campaign_page_sorts_by_newest_and_most_supported(client):
    campaign = make_campaign()
    older = make_suggestion(campaign, title="建议增加公交班次以方便出行")
    newer = make_suggestion(campaign, title="建议在菜市场旁设置临时停车位")
    older.support_count = 7
    older.created_at = utcnow() - timedelta(days=2)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert page.index(newer.title) < page.index(older.title)
    page = client.get(f"/campaigns/{campaign.id}?sort=supported").get_data(as_text=True)
    assert page.index(older.title) < page.index(newer.title)


def test_staff_creates_campaign_through_the_form(client):
    body = make_body()
    staff = make_staff(body, role="manager")
    category = make_category()
    login(client, staff)
    response = client.post("/campaigns/new", data={
        "body_id": body.id, "title": "青溪县停车难问题建议征集", "categories": [category.id],
        "opens_at": "2026-01-01T09:00", "closes_at": "", "open_now": "y"})
    assert response.status_code == 303
    campaign = db.session.scalar(sa.select(Campaign))
    assert campaign.is_standing and campaign.status == "open"
    assert campaign.opens_at.hour == 1  # 09:00 Beijing time is 01:00 UTC


def test_draft_campaign_is_hidden_from_the_public(client):
    campaign = make_campaign(status="draft")
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404


def test_staff_edits_campaign_and_the_change_is_audited(client):
    from core.audit import AuditLog
    body = make_body()
    campaign = make_campaign(body)
    staff = make_staff(body, role="manager")
    login(client, staff)
    form = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert "编辑征集活动" in form, form[form.find("<main"):][:1500]
    assert campaign.title in form
    response = client.post(f"/campaigns/{campaign.id}/edit", data={
        "title": "青溪县道路交通安全建议征集（延期）", "categories": [c.id for c in campaign.categories],
        "opens_at": "2026-01-01T09:00", "closes_at": "2027-03-01T18:00", "allow_oppose": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert campaign.title.endswith("（延期）") and campaign.closes_at.hour == 10
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "campaign.update"))
    assert entry.actor_id == staff.id and "title" in entry.detail["changed"]


def test_other_body_staff_cannot_edit(client):
    campaign = make_campaign(make_body())
    login(client, make_staff(make_body(), role="manager"))
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 403
    response = client.post(f"/campaigns/{campaign.id}/edit", data={"title": "篡改", "categories": [1],
                                                                    "opens_at": "2026-01-01T09:00"})
    assert response.status_code == 403
    db.session.expire_all()
    assert campaign.title == "青溪县道路交通安全建议征集"


def test_long_lists_count_up_to_a_limit_and_deep_pages_keep_the_order(app, client):
    app.config.update(PAGE_SIZE=3, LIST_COUNT_LIMIT=7)
    campaign = make_campaign()
    author = make_user()
    made = [make_suggestion(campaign, author, title=f"关于第{i}号路口增设信号灯的建议") for i in range(10)]
    suggestion_services.hide_suggestion(make_user(role="moderator"), made[4], "测试")
    db.session.commit()
    newest_first = [s.id for s in reversed(made) if s.id != made[4].id]
    seen = []
    for number in range(1, 5):
        page = client.get(f"/campaigns/{campaign.id}?page={number}").get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'href="/suggestions/(\d+)"', page)]
        assert "(7+)" in page
    assert seen == newest_first  # 9 public proposals, in order, none twice, the hidden one nowhere
    last = client.get(f"/campaigns/{campaign.id}?page=3").get_data(as_text=True)
    assert 'rel="next"' not in last and 'rel="prev"' in last
    app.config["LIST_COUNT_LIMIT"] = 100
    assert "(9)" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
