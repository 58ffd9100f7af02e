"""Regions as data and the body picker (issue 16): China's divisions with their codes, bodies placed in them, and
finding one body among many by name, pinyin initials, whole pinyin or region, with and without JavaScript."""
import re

import sqlalchemy as sa

from accounts import regions
from accounts.models import Region
from core.extensions import db
from suggestions import services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def test_the_divisions_load_once_with_codes_levels_parents_and_full_names(app):
    added = regions.load_divisions()
    assert added == len(regions.read_divisions()) > 3000
    assert regions.load_divisions() == 0  # loading again adds nothing and moves nothing
    levels = dict(db.session.execute(sa.select(Region.level, sa.func.count()).group_by(Region.level)).all())
    assert levels["province"] == 34 and levels["city"] > 300 and levels["county"] > 2800
    liuyang = db.session.get(Region, "430181")
    assert (liuyang.name, liuyang.level, liuyang.path) == ("浏阳市", "county", "湖南省长沙市浏阳市")
    assert liuyang.parent_code == "430100" and db.session.get(Region, "430100").parent_code == "430000"
    assert liuyang.name_en == "Liuyang City" and liuyang.spelled == "liuyangshi lys"
    # A municipality's districts sit directly under it: there is no city level between.
    assert db.session.get(Region, "110108").path == "北京市海淀区"
    assert regions.region_by_path("湖南省長沙市").code == "430100"  # Traditional input finds the same division


def test_a_body_is_placed_in_the_division_its_region_names_and_spelled_for_the_picker(app):
    regions.load_divisions()
    body = make_body(name="长沙市教育局", level="municipal", region="湖南省长沙市")
    assert body.region_code == "430100"
    assert body.spelled == "changshashijiaoyuju cssjyj"
    body.name = "长沙市教育委员会"
    db.session.flush()
    assert body.spelled.endswith(" cssjywyh")  # renamed: spelled again
    loose = make_body(name="某地自定义机构", region="某地")
    assert loose.region_code is None  # a region the data does not know stays free text


def _directory():
    regions.load_divisions()
    return {name: make_body(name=name, level=level, region=region) for name, level, region in [
        ("长沙市教育局", "municipal", "湖南省长沙市"),
        ("浏阳市教育局", "county", "湖南省长沙市浏阳市"),
        ("浏阳市住房和城乡建设局", "county", "湖南省长沙市浏阳市"),
        ("宁乡市教育局", "county", "湖南省长沙市宁乡市"),
        ("株洲市教育局", "municipal", "湖南省株洲市"),
        ("北京市海淀区教育委员会", "county", "北京市海淀区"),
    ]}


def test_the_picker_finds_a_body_by_name_initials_whole_pinyin_or_region(app):
    bodies = _directory()
    names = lambda query, **kw: [b.name for b in regions.find_bodies(query, **kw)]  # noqa: E731
    assert names("浏阳") == ["浏阳市教育局", "浏阳市住房和城乡建设局"]  # the name's start first, shorter first
    assert names("lysjyj") == ["浏阳市教育局"]  # pinyin initials
    assert names("LYS") == ["浏阳市教育局", "浏阳市住房和城乡建设局"]  # capitals as typed on a phone
    assert names("zhufang") == ["浏阳市住房和城乡建设局"]  # whole pinyin
    assert names("长沙 教育") == ["长沙市教育局", "浏阳市教育局", "宁乡市教育局"]  # region and name, both needed
    assert names("海澱") == ["北京市海淀区教育委员会"]  # Traditional characters
    assert names("教育局", exclude=bodies["长沙市教育局"].id, limit=2) == ["浏阳市教育局", "宁乡市教育局"]
    assert names("") == [] and names("   ") == []
    assert names("%") == [] and names("_") == []  # LIKE's wildcards are searched for, not obeyed


def test_the_picker_answers_staff_only(app, client):
    bodies = _directory()
    assert client.get("/accounts/bodies/find?q=浏阳").status_code in (302, 401)
    login(client, make_user())
    assert client.get("/accounts/bodies/find?q=浏阳").status_code == 403  # a citizen
    client.post("/accounts/logout")
    login(client, make_staff(bodies["长沙市教育局"]))
    response = client.get(f"/accounts/bodies/find?q=lys&exclude={bodies['浏阳市教育局'].id}")
    assert response.status_code == 200
    assert [b["name"] for b in response.get_json()["bodies"]] == ["浏阳市住房和城乡建设局"]
    assert response.get_json()["bodies"][0]["region"] == "湖南省长沙市浏阳市"


def test_the_transfer_list_offers_neighbours_and_the_picker_s_matches_never_every_body(app, client):
    bodies = _directory()
    for n in range(60):  # more bodies than the list ever shows
        make_body(name=f"株洲市测试局{n}", level="municipal", region="湖南省株洲市")
    home = bodies["浏阳市教育局"]
    suggestion = make_suggestion(make_campaign(home))
    staff = make_staff(home)
    services.accept_suggestion(staff, suggestion)
    db.session.commit()
    login(client, staff)

    def offered(query: str = "") -> list[str]:
        page = client.get(f"/suggestions/{suggestion.id}" + (f"?body_q={query}" if query else ""))
        select = re.search(r'<select name="to_body"[^>]*>(.*?)</select>', page.get_data(as_text=True), re.S)
        return re.findall(r'<option value="\d+">([^<]*)</option>', select.group(1))
    near = offered()
    assert len(near) == 40 and home.name not in near
    assert near[0] == "浏阳市住房和城乡建设局"  # the same region first
    assert set(offered("宁乡")) == {"宁乡市教育局"}  # the search works without JavaScript
    assert offered("nxs") == ["宁乡市教育局"]
    page = client.get(f"/suggestions/{suggestion.id}?body_q=nxs").get_data(as_text=True)
    assert "找到 1 个机构。" in page
    response = client.post(f"/suggestions/{suggestion.id}/transfer",
                           data={"to_body": bodies["宁乡市教育局"].id, "reason": "属宁乡市教育局职责"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(suggestion), suggestion.id).handling_body_id == bodies["宁乡市教育局"].id


def test_the_demo_bodies_sit_in_the_demo_s_fictional_province(app):
    from demo.catalogue import DIVISIONS

    regions.load_divisions()
    regions.load_divisions(DIVISIONS)
    assert db.session.get(Region, "990122").path == "江南省临川市青溪县"
    body = make_body(name="青溪县测试机构", region="江南省临川市青溪县")
    assert body.region_code == "990122"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.code.like("99%"))) == 5


def test_the_acceptance_form_offers_the_campaign_body_and_its_neighbours_never_every_body(app, client):
    bodies = _directory()
    for n in range(60):
        make_body(name=f"株洲市测试局{n}", level="municipal", region="湖南省株洲市")
    home = bodies["浏阳市教育局"]
    suggestion = make_suggestion(make_campaign(home))
    db.session.commit()
    login(client, make_staff(home))
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    lead = re.search(r'<select name="lead_body"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option value="(\d+)" ?(selected)?>([^<]*)</option>', lead)
    assert options[0] == (str(home.id), "selected", "浏阳市教育局")  # the campaign's own body, chosen
    assert "浏阳市住房和城乡建设局" in [name for _, _, name in options] and len(options) == 40
    co_bodies = re.findall(r'name="co_bodies" value="(\d+)"', page)
    assert len(co_bodies) == 40 and str(bodies["浏阳市住房和城乡建设局"].id) in co_bodies
