"""Search, typing hints and the API within a local edition (issue 16): an edition's scope finds its own public
proposals only; another edition's, and anybody's hidden or unscreened ones, never show through it."""
import re

import pytest

from accounts import regions
from core.extensions import db
from editions import services
from search.backend import SearchQuery
from search.indexing import drain, get_backend
from suggestions import services as suggestion_services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_suggestion, make_user

TEXT = "校车超载严重，建议交警在上学时段加强检查，保障学生安全。"


@pytest.fixture
def two_editions(app):
    """长沙 and 株洲 editions, each with a campaign and a public proposal about school buses; 长沙 also has one
    hidden by a moderator and one waiting for screening, with the same words."""
    regions.load_divisions()
    for code, name in (("430100", "长沙市建言平台"), ("430200", "株洲市建言平台")):
        services.create_edition(None, code=code, name=name, short_name=name[:2])
    changsha = make_campaign(make_body(name="长沙市教育局", level="municipal", region="湖南省长沙市"),
                             title="长沙市校车安全建议征集")
    zhuzhou = make_campaign(make_body(name="株洲市教育局", level="municipal", region="湖南省株洲市"),
                            title="株洲市校车安全建议征集")
    proposals = {"changsha": make_suggestion(changsha, title="长沙校车超载问题", body=TEXT),
                 "zhuzhou": make_suggestion(zhuzhou, title="株洲校车超载问题", body=TEXT),
                 "hidden": make_suggestion(changsha, title="长沙校车超载问题（被隐藏）", body=TEXT)}
    suggestion_services.hide_suggestion(make_user(role="moderator"), proposals["hidden"], "含有他人电话号码")
    changsha.screening = True
    proposals["pending"] = make_suggestion(changsha, title="长沙校车超载问题（待审核）", body=TEXT)
    db.session.commit()
    assert (proposals["hidden"].status, proposals["pending"].status) == ("hidden", "pending")
    drain(get_backend())
    return proposals


def _found(**filters) -> set[int]:
    return {hit.id for hit in get_backend().search(SearchQuery(text="校车超载", filters=filters)).hits}


def test_search_within_an_edition_finds_its_public_proposals_only(two_editions, client):
    ids = {key: p.id for key, p in two_editions.items()}
    changsha_campaigns = tuple(str(i) for i in services.edition_campaign_ids(services.edition_by_code("430100")))
    assert _found(campaign_id=changsha_campaigns) == {ids["changsha"]}
    assert _found() == {ids["changsha"], ids["zhuzhou"]}  # hidden and pending never reach the index
    assert _found(campaign_id=()) == set()  # an edition without campaigns finds nothing
    for code, own, other in (("430100", "changsha", "zhuzhou"), ("430200", "zhuzhou", "changsha")):
        page = client.get("/search/", query_string={"q": "校车超载", "edition": code}).get_data(as_text=True)
        shown = {int(n) for n in re.findall(r'href="/suggestions/(\d+)"', page)}
        assert ids[own] in shown and not shown & {ids[other], ids["hidden"], ids["pending"]}
    # A campaign filter outside the chosen edition finds nothing rather than leaving the edition.
    zhuzhou_campaign = two_editions["zhuzhou"].campaign_id
    page = client.get("/search/", query_string={"q": "校车超载", "edition": "430100", "campaign": zhuzhou_campaign})
    assert f'href="/suggestions/{ids["zhuzhou"]}"' not in page.get_data(as_text=True)


def test_typing_hints_never_cross_editions_or_show_hidden_proposals(two_editions, client):
    ids = {key: p.id for key, p in two_editions.items()}
    login(client, make_user())
    for own, other in (("changsha", "zhuzhou"), ("zhuzhou", "changsha")):
        data = client.get("/suggestions/similar", headers={"X-Requested-With": "fetch"}, query_string={
            "campaign": two_editions[own].campaign_id, "title": "校车超载问题", "body": TEXT}).get_json()
        shown = {hit["id"] for hit in data["similar"]}
        assert ids[own] in shown and not shown & {ids[other], ids["hidden"], ids["pending"]}


def test_the_api_takes_the_edition_as_a_parameter(two_editions, client):
    ids = {key: p.id for key, p in two_editions.items()}
    listed = client.get("/api/v1/proposals?edition=430200").get_json()
    assert {p["id"] for p in listed["items"]} == {ids["zhuzhou"]}
    campaigns = client.get("/api/v1/campaigns?edition=430100").get_json()
    assert [c["title"] for c in campaigns["items"]] == ["长沙市校车安全建议征集"]
    figures = client.get("/api/v1/metrics?edition=430100").get_json()
    assert figures["scope"]["edition"] == "430100"
    assert client.get("/api/v1/proposals?edition=999999").status_code == 404
    assert client.get("/api/v1/metrics?edition=999999").status_code == 404


def test_an_edition_s_proposal_list_holds_its_public_proposals_only(two_editions, client):
    ids = {key: p.id for key, p in two_editions.items()}
    for code, own in (("430100", "changsha"), ("430200", "zhuzhou")):
        for sort in ("newest", "supported", "nonsense"):
            page = client.get(f"/r/{code}/proposals", query_string={"sort": sort, "page": "1"})
            shown = {int(n) for n in re.findall(r'href="/suggestions/(\d+)"', page.get_data(as_text=True))}
            assert page.status_code == 200 and shown == {ids[own]}
    assert client.get("/r/430100/proposals?page=99").status_code == 200  # past the end: an empty page, no 500
    assert client.get("/r/999999/proposals").status_code == 404


def test_open_data_of_an_edition_holds_its_public_proposals_and_its_figures(two_editions, client, tmp_path):
    import json

    from analytics import exports

    ids = {key: p.id for key, p in two_editions.items()}
    names = [f"{name}.{fmt}" for name in exports.DATASETS for fmt in exports.FORMATS] + ["data-dictionary.json"]
    for name in names:  # every file: nothing of 株洲, nothing hidden or unscreened
        response = client.get(f"/open-data/editions/430100/{name}", buffered=True)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and not any(m in text for m in ("株洲", "被隐藏", "待审核")), name
    rows = json.loads(client.get("/open-data/editions/430100/proposals.json", buffered=True).get_data(as_text=True))
    assert {row["id"] for row in rows} == {ids["changsha"]}
    response = client.get("/open-data/editions/430100/figures.json")
    assert response.headers["Content-Disposition"] == 'attachment; filename="edition-430100-figures.json"'
    figures = response.get_json()
    assert figures["scope"] == {"edition": "430100"}
    assert figures["figures"]["messages"] == 1
    assert client.get("/open-data/editions/999999/proposals.json").status_code == 404
    page = client.get("/open-data/?edition=430200").get_data(as_text=True)
    assert "/open-data/editions/430200/proposals.csv" in page
    written = exports.write_export(str(tmp_path), edition=services.edition_by_code("430200"))
    assert written["proposals.csv, proposals.json"] == 1
    assert json.loads((tmp_path / "proposals.json").read_text(encoding="utf-8"))[0]["id"] == ids["zhuzhou"]
