"""Local editions (issue 16): an edition is a region's portal; its pages and figures cover its region's bodies
only, with the national definitions; editions never overlap, so the national figures are the editions' plus the
bodies outside any, each counted once; only administrators open one, and it is audit-logged."""
import re

import pytest
import sqlalchemy as sa

from accounts import regions
from accounts.models import Body, Role
from analytics import metrics, rollup
from core.audit import AuditLog
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from editions import services
from editions.models import Edition
from suggestions import services as suggestion_services
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


@pytest.fixture
def divisions(app):
    regions.load_divisions()


def _edition(code: str, name: str, **kwargs) -> Edition:
    return services.create_edition(None, code=code, name=name, short_name=name[:2], **kwargs)


def test_only_administrators_open_an_edition_and_it_is_audited(divisions):
    with pytest.raises(NotAllowed):
        services.create_edition(make_user(), code="430100", name="长沙市建言平台", short_name="长沙")
    with pytest.raises(NotAllowed):
        services.create_edition(make_user(role=Role.STAFF), code="430100", name="长沙市建言平台", short_name="长沙")
    admin = make_user(role=Role.ADMIN)
    edition = services.create_edition(admin, code="430100", name="长沙市建言平台", short_name="长沙",
                                      colour="#2E6B3A", host="ChangSha.Example.cn")
    assert (edition.prefix, edition.colour, edition.host) == ("4301", "#2e6b3a", "changsha.example.cn")
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "edition.create"))
    assert entry.actor_id == admin.id and entry.target_id == edition.id and entry.detail["code"] == "430100"


@pytest.mark.parametrize("case", ["unknown_region", "bad_colour", "bad_host", "inside", "around", "same_host"])
def test_bad_editions_are_refused_with_a_message_and_write_nothing(divisions, case):
    _edition("430100", "长沙市建言平台", host="changsha.example.cn")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Edition))
    kwargs = {"code": "320000", "name": "江苏建言", "short_name": "江苏"}
    error = {"unknown_region": InvalidInput, "bad_colour": InvalidInput, "bad_host": InvalidInput,
             "inside": Conflict, "around": Conflict, "same_host": Conflict}[case]
    kwargs |= {"unknown_region": {"code": "999999"}, "bad_colour": {"colour": "red"},
               "bad_host": {"host": "not a host"}, "inside": {"code": "430181"},  # 浏阳市, inside 长沙市
               "around": {"code": "430000"}, "same_host": {"host": "changsha.example.cn"}}[case]
    with pytest.raises(error) as raised:
        services.create_edition(None, **kwargs)
    assert str(raised.value.message)  # a message in the user's language, not a traceback
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Edition)) == before


def _two_editions_with_work():
    """Two editions (长沙市, 株洲市), a body in each and one outside (a national ministry), each with proposals in
    several states."""
    changsha, zhuzhou = _edition("430100", "长沙市建言平台"), _edition("430200", "株洲市建言平台")
    bodies = {"changsha": make_body(name="浏阳市教育局", region="湖南省长沙市浏阳市"),
              "changsha2": make_body(name="长沙市交通运输局", level="municipal", region="湖南省长沙市"),
              "zhuzhou": make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市"),
              "national": make_body(name="教育部", level="national", region="全国")}
    for n, body in enumerate(bodies.values()):
        campaign = make_campaign(body, title=f"{body.name}建议征集")
        staff = make_staff(body)
        for k in range(n + 2):
            proposal = make_suggestion(campaign, title=f"{body.name}第{k + 1}条关于校车安全的建议")
            if k % 2 == 0:
                suggestion_services.accept_suggestion(staff, proposal)
                suggestion_services.reply_to_suggestion(staff, proposal, decision="adopted",
                                                        content="感谢您的建议，已研究采纳。")
    db.session.commit()
    rollup.refresh()
    return changsha, zhuzhou, bodies


def test_an_edition_s_figures_are_its_bodies_and_the_nation_s_are_the_editions_plus_the_rest(divisions):
    changsha, zhuzhou, bodies = _two_editions_with_work()
    headline = lambda scope=metrics.ALL: metrics.headline(scope)  # noqa: E731
    per_body = {key: headline(metrics.Scope(body_id=b.id)) for key, b in bodies.items()}
    by_edition = {e.code: headline(services.scope_of(e)) for e in (changsha, zhuzhou)}
    for figure in ("messages", "suggestions"):
        assert by_edition["430100"][figure] == per_body["changsha"][figure] + per_body["changsha2"][figure] > 0
        assert by_edition["430200"][figure] == per_body["zhuzhou"][figure] > 0
        assert headline()[figure] == sum(e[figure] for e in by_edition.values()) + per_body["national"][figure]
    for ratio in ("reply_rate", "adoption"):
        for part in ("part", "whole"):
            assert by_edition["430100"][ratio][part] == per_body["changsha"][ratio][part] + \
                per_body["changsha2"][ratio][part]
            assert headline()[ratio][part] == sum(e[ratio][part] for e in by_edition.values()) + \
                per_body["national"][ratio][part]


def test_an_edition_s_home_shows_its_own_campaigns_figures_and_colours(divisions, client):
    changsha, _zhuzhou, _bodies = _two_editions_with_work()
    province = make_body(name="湖南省人民政府", level="provincial", region="湖南省")
    make_campaign(province, title="长沙市地铁线网规划意见征集").region_scope = "湖南省长沙市"  # the province's, about 长沙
    make_campaign(province, title="全省营商环境意见征集")  # about the whole province: no one city's
    db.session.commit()
    page = client.get("/r/430100/").get_data(as_text=True)
    assert "长沙市地铁线网规划意见征集" in page and "全省营商环境意见征集" not in page
    assert "长沙市地铁线网规划意见征集" not in client.get("/r/430200/").get_data(as_text=True)
    assert "长沙市建言平台" in page and "浏阳市教育局建议征集" in page and "长沙市交通运输局建议征集" in page
    assert "株洲市教育局建议征集" not in page and "教育部建议征集" not in page  # another edition's, the nation's
    figures = metrics.headline(services.scope_of(changsha))
    assert f'data-figure="messages">{figures["messages"]}<' in page
    css = client.get("/r/430100/edition.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and changsha.colour in css.get_data(as_text=True)
    assert client.get("/r/999999/").status_code == 404
    listing = client.get("/r/").get_data(as_text=True)
    assert "长沙市建言平台" in listing and "株洲市建言平台" in listing
    assert f'data-figure="national-messages">{metrics.headline()["messages"]}<' in listing
    home = client.get("/").get_data(as_text=True)
    assert "/r/430100/" in home and "/r/430200/" in home  # the national site lists its editions
    dashboard = client.get("/analytics/?edition=430200").get_data(as_text=True)
    assert f'data-figure="messages">{metrics.headline(metrics.Scope(divisions="4302"))["messages"]}<' in dashboard
    report = client.get("/analytics/report?edition=430100").get_data(as_text=True)
    assert "长沙市建言平台" in report  # the yearly report of the edition, with its bodies' figures
    assert f'data-figure="messages">{figures["messages"]}<' in report
    refused = client.get("/analytics/?edition=nonsense")
    assert refused.status_code == 200 and "没有这个地方版" in refused.get_data(as_text=True)


def test_an_edition_on_its_own_host_name_serves_its_home_page_at_the_root(divisions, client):
    _edition("430200", "株洲市建言平台", host="zhuzhou.example.cn")
    make_campaign(make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市"), title="株洲市教育建议征集")
    db.session.commit()
    own = client.get("/", headers={"Host": "zhuzhou.example.cn"}).get_data(as_text=True)
    assert "株洲市建言平台" in own and "株洲市教育建议征集" in own
    national = client.get("/").get_data(as_text=True)
    assert 'class="edition-band"' not in national  # the national site's home, not cached as the edition's


def test_a_draft_campaign_stays_off_its_edition_s_home(divisions, client):
    _edition("430200", "株洲市建言平台")
    body = make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市")
    make_campaign(body, title="株洲市内部草稿征集", status="draft")
    db.session.commit()
    assert "株洲市内部草稿征集" not in client.get("/r/430200/").get_data(as_text=True)


def test_an_operator_runs_the_edition_s_bodies_and_nothing_outside(divisions, client):
    from tests.conftest import login

    changsha, zhuzhou = _edition("430100", "长沙市建言平台"), _edition("430200", "株洲市建言平台")
    operator = make_user()
    services.add_operator(None, changsha, operator)
    assert operator.role == Role.STAFF  # a citizen made operator becomes staff
    inside = make_body(name="浏阳市教育局", region="湖南省长沙市浏阳市")
    outside = make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市")
    db.session.commit()
    login(client, operator)
    assert client.get("/r/430100/manage").status_code == 200
    assert client.get("/r/430200/manage").status_code == 403
    assert "管理本地方版" in client.get("/r/430100/").get_data(as_text=True)
    assert "管理本地方版" not in client.get("/r/430200/").get_data(as_text=True)
    assert client.get(f"/accounts/bodies/{inside.id}/staff").status_code == 200
    assert client.get(f"/accounts/bodies/{outside.id}/staff").status_code == 403
    found = client.get("/accounts/bodies/find?q=教育局").get_json()["bodies"]  # the picker works for operators
    assert {b["name"] for b in found} == {"浏阳市教育局", "株洲市教育局"}
    page = client.get("/r/430100/manage?q=lys").get_data(as_text=True)  # the list searches within the edition
    assert "浏阳市教育局" in page and "株洲市教育局" not in page
    # A body outside the region is refused on its field, and nothing is written.
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Body))
    response = client.post("/r/430100/bodies", data={"body-name": "株洲市数据局", "body-kind": "department",
                                                     "body-level": "municipal", "body-region": "湖南省株洲市"})
    assert response.status_code == 422 and "这个地区不在本地方版内" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Body)) == before
    response = client.post("/r/430100/bodies", data={"body-name": "浏阳市数据局", "body-kind": "department",
                                                     "body-level": "county", "body-region": "湖南省长沙市浏阳市"})
    assert response.status_code == 303
    created = db.session.scalar(sa.select(Body).where(Body.name == "浏阳市数据局"))
    assert created.region_code == "430181"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "body.create")
                              .order_by(AuditLog.id.desc()).limit(1))
    assert entry.actor_id == operator.id and entry.target_id == created.id
    assert client.get("/r/430100/bodies").status_code == 303  # the form's address reloaded: back to the page
    # Only administrators name operators.
    assert client.post("/r/430100/operators", data={"operator-username": operator.username}).status_code == 403
    assert len(services.operators_of(zhuzhou)) == 0


def test_administrators_add_and_remove_operators_on_the_page_with_messages(divisions, client):
    from tests.conftest import login

    changsha = _edition("430100", "长沙市建言平台")
    admin, person = make_user(role=Role.ADMIN), make_user()
    db.session.commit()
    login(client, admin)
    response = client.post("/r/430100/operators", data={"operator-username": "nobody-here"})
    assert response.status_code == 422 and "没有这个用户名的账号" in response.get_data(as_text=True)
    assert client.post("/r/430100/operators", data={"operator-username": person.username}).status_code == 303
    assert services.operators_of(changsha) == [person]
    again = client.post("/r/430100/operators", data={"operator-username": person.username})
    assert again.status_code == 422  # already an operator: said, not a 500
    assert client.post(f"/r/430100/operators/{person.id}/remove").status_code == 303
    # On an edition's page an administrator's new body must lie in the edition too.
    response = client.post("/r/430100/bodies", data={"body-name": "株洲市数据局", "body-kind": "department",
                                                     "body-level": "municipal", "body-region": "湖南省株洲市"})
    assert response.status_code == 422 and "这个地区不在本地方版内" in response.get_data(as_text=True)
    page = client.get("/r/430100/manage").get_data(as_text=True)  # a new body defaults to the edition's level
    assert re.search(r'<option selected value="municipal">|<option value="municipal" selected>', page)
    assert 'value="national"' not in page
    assert services.operators_of(changsha) == []
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.action.like("edition.%"))).all()
    assert actions.count("edition.add_operator") == 1 and actions.count("edition.remove_operator") == 1


def test_a_national_platform_s_dashboard_lists_a_readable_number_of_bodies_in_its_filters(divisions, client):
    """With thousands of bodies the filter lists hold the national and provincial ones (and the chosen one);
    within an edition, the edition's own: never a select of 16,000 options."""
    from analytics.views import FILTER_LIST_LIMIT

    _edition("430200", "株洲市建言平台")
    province = make_body(name="湖南省教育厅", level="provincial", region="湖南省")
    chosen = make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市")
    db.session.execute(sa.insert(Body), [
        {"name": f"长沙县测试局{n}", "name_en": "", "kind": "department", "level": "county",
         "region": "湖南省长沙市长沙县", "region_code": "430121", "spelled": f"test{n}", "contact_email": ""}
        for n in range(FILTER_LIST_LIMIT + 1)])
    db.session.commit()
    national = client.get("/analytics/").get_data(as_text=True)
    assert f'value="{province.id}"' in national and "长沙县测试局1<" not in national
    assert f'value="{chosen.id}"' not in national
    assert f'value="{chosen.id}" selected' in client.get(f"/analytics/?body={chosen.id}").get_data(as_text=True)
    within = client.get("/analytics/?edition=430200").get_data(as_text=True)
    assert f'value="{chosen.id}"' in within and f'value="{province.id}"' not in within


def test_a_proposal_goes_up_the_hierarchy_and_across_editions_keeping_its_history_and_deadline(divisions, client):
    """A county problem raised with a city body in one edition is handed to a body of another edition, then up to
    the province: the deadline stays, the history shows both transfers, and the figures follow the handling body."""
    from suggestions import handling
    from suggestions.models import Transfer

    changsha, zhuzhou = _edition("430100", "长沙市建言平台"), _edition("430200", "株洲市建言平台")
    city = make_body(name="长沙市交通运输局", level="municipal", region="湖南省长沙市")
    county = make_body(name="醴陵市交通运输局", region="湖南省株洲市醴陵市")
    province = make_body(name="湖南省交通运输厅", level="provincial", region="湖南省")
    proposal = make_suggestion(make_campaign(city), title="醴陵市某路段校车安全隐患")
    staff = make_staff(city)
    suggestion_services.accept_suggestion(staff, proposal)
    due = proposal.reply_due_on
    handling.transfer(staff, proposal, county.id, "属醴陵市交通运输局职责")
    handling.transfer(make_staff(county), proposal, province.id, "涉及省道，由省交通运输厅办理")
    db.session.commit()
    rollup.refresh()
    assert proposal.reply_due_on == due and proposal.handling_body_id == province.id
    moves = db.session.scalars(sa.select(Transfer).where(Transfer.suggestion_id == proposal.id)
                               .order_by(Transfer.id)).all()
    assert [(m.from_body_id, m.to_body_id) for m in moves] == [(city.id, county.id), (county.id, province.id)]
    page = client.get(f"/suggestions/{proposal.id}").get_data(as_text=True)
    assert "属醴陵市交通运输局职责" in page and "涉及省道，由省交通运输厅办理" in page
    # The figures count it where it is handled now: the province, outside both editions, once.
    assert metrics.headline(services.scope_of(changsha))["messages"] == 0
    assert metrics.headline(services.scope_of(zhuzhou))["messages"] == 0
    assert metrics.headline(metrics.Scope(body_id=province.id))["messages"] == metrics.headline()["messages"] == 1


def test_an_edition_s_logo_is_an_svg_or_png_served_sandboxed_and_bad_files_are_refused(divisions, client, app):
    from demo.catalogue import edition_logo

    changsha = _edition("430100", "长沙市建言平台")
    folder = app.config["EDITION_LOGO_DIR"]
    for filename, data in (("logo.gif", b"GIF89a"), ("logo.svg", b"not an image"),
                           ("logo.png", b"<svg></svg>"), ("logo.svg", b"<svg>" + b" " * 300_000)):
        with pytest.raises(InvalidInput):
            services.set_logo(None, changsha, filename, data, folder)
    assert changsha.logo == "" and client.get("/r/430100/logo").status_code == 404
    with pytest.raises(NotAllowed):
        services.set_logo(make_user(role=Role.STAFF), changsha, "logo.svg", edition_logo("长", "#1f4e79"), folder)
    services.set_logo(None, changsha, "Logo.SVG", edition_logo("长", "#1f4e79"), folder)
    db.session.commit()
    response = client.get("/r/430100/logo")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert '<img src="/r/430100/logo"' in client.get("/r/430100/").get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "edition.set_logo")) is not None


def test_a_transferred_proposal_waits_in_the_receiving_body_s_inbox_not_the_sender_s(divisions, client):
    """Found by a newcomer: after a transfer to another body, its staff saw nothing to reply to."""
    from suggestions import handling
    from tests.conftest import login

    city = make_body(name="长沙市交通运输局", level="municipal", region="湖南省长沙市")
    county = make_body(name="醴陵市交通运输局", region="湖南省株洲市醴陵市")
    proposal = make_suggestion(make_campaign(city), title="醴陵市某路段校车安全隐患")
    sender, receiver = make_staff(city), make_staff(county)
    suggestion_services.accept_suggestion(sender, proposal)
    handling.transfer(sender, proposal, county.id, "属醴陵市交通运输局职责")
    db.session.commit()
    login(client, receiver)
    assert "醴陵市某路段校车安全隐患" in client.get("/suggestions/inbox?state=reply").get_data(as_text=True)
    client.post("/accounts/logout")
    login(client, sender)
    assert "醴陵市某路段校车安全隐患" not in client.get("/suggestions/inbox?state=reply").get_data(as_text=True)
