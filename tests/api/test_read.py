"""Public reads: only public records, stable paginated lists, JSON errors with clear messages."""
import pytest

from core.extensions import db
from suggestions import services
from tests.api.helpers import seed
from tests.factories import make_suggestion


@pytest.fixture
def data(app):
    seeded = seed()
    db.session.commit()
    return seeded


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_lists_show_public_records_only(client, data):
    assert set(ids(client.get("/api/v1/proposals"))) == {data.first.id, data.twin.id, data.other.id}
    campaigns = ids(client.get("/api/v1/campaigns"))
    assert data.campaign.id in campaigns and data.screened.id in campaigns and data.draft.id not in campaigns
    for url in (f"/api/v1/proposals/{data.hidden.id}", f"/api/v1/proposals/{data.pending.id}",
                f"/api/v1/campaigns/{data.draft.id}", f"/api/v1/campaigns/{data.draft.id}/clusters",
                "/api/v1/proposals/999999", "/api/v1/proposals/0", "/api/v1/proposals/99999999999999999999",
                "/api/v1/bodies/999999", "/api/v1/clusters/999999", "/api/v1/outcomes/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.is_json and response.get_json()["status"] == 404, url


def test_proposal_detail_has_replies_cluster_and_outcomes(client, data):
    proposal = client.get(f"/api/v1/proposals/{data.first.id}").get_json()
    assert proposal["status"] == "replied" and proposal["support_count"] == 1
    assert proposal["replies"][0]["decision"] == "adopted"
    assert proposal["replies"][0]["body"]["name"] == "青溪县交通运输局"
    assert proposal["replies"][0]["rating"]["satisfaction"] == "satisfied"
    assert proposal["outcome_ids"] == [data.outcome.id]
    cluster = client.get(f"/api/v1/clusters/{proposal['cluster_id']}").get_json()
    assert {m["id"] for m in cluster["members"]} == {data.first.id, data.twin.id}
    assert "护学岗" in cluster["keywords"]
    listed = client.get(f"/api/v1/campaigns/{data.campaign.id}/clusters").get_json()["items"]
    assert [c["id"] for c in listed] == [cluster["id"]] and listed[0]["keywords"] == cluster["keywords"]
    outcome = client.get(f"/api/v1/outcomes/{data.outcome.id}").get_json()
    assert outcome["stage"] == "issued" and outcome["progress"] == 40
    assert [p["id"] for p in outcome["proposals"]] == [data.first.id]
    assert outcome["milestones"][0]["happened_on"] == "2026-03-01"
    assert ids(client.get(f"/api/v1/outcomes?campaign_id={data.campaign.id}")) == [data.outcome.id]
    assert ids(client.get(f"/api/v1/outcomes?campaign_id={data.screened.id}")) == []
    body = client.get(f"/api/v1/bodies/{data.body.id}").get_json()
    assert body == {"id": data.body.id, "name": "青溪县交通运输局", "name_en": "", "kind": "department",
                    "level": "county", "region": "江南省临川市青溪县", "parent_id": None}


def test_filters(client, data):
    assert ids(client.get("/api/v1/proposals?status=replied")) == [data.first.id]
    assert set(ids(client.get(f"/api/v1/proposals?campaign_id={data.campaign.id}&category=transport"))) == {
        data.first.id, data.twin.id, data.other.id}
    assert ids(client.get("/api/v1/proposals?category=education")) == []
    assert ids(client.get(f"/api/v1/proposals?campaign_id={data.screened.id}")) == []
    assert ids(client.get("/api/v1/proposals?sort=supported"))[0] == data.first.id
    assert ids(client.get(f"/api/v1/campaigns?body_id={data.body.id}&phase=open")) == [data.screened.id,
                                                                                      data.campaign.id]
    assert ids(client.get("/api/v1/campaigns?phase=archived")) == []
    assert ids(client.get("/api/v1/bodies?level=county")) == [data.body.id]
    assert ids(client.get("/api/v1/bodies?level=national")) == []


def test_pagination_is_bounded_and_stable(client, data):
    for n in range(5):
        make_suggestion(data.campaign, data.supporter, title=f"关于第{n}路公交的建议", body="建议第路公交车增加班次，早晚高峰太挤了。")
    db.session.commit()
    everything = ids(client.get("/api/v1/proposals?per_page=100"))
    assert len(everything) == 8
    pages = [ids(client.get(f"/api/v1/proposals?per_page=3&page={n}")) for n in (1, 2, 3)]
    assert sum(pages, []) == everything  # newest first, ties broken by id: no gaps, no repeats
    page = client.get("/api/v1/proposals?per_page=3&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"]) == (2, 3, 8)
    assert ids(client.get("/api/v1/proposals?page=99")) == []
    for query in ("per_page=0", "per_page=101", "page=0", "page=-1", "page=abc", "page=", "page=10001",
                  "page=１", "campaign_id=1e3", "status=pending", "status=hidden", "sort=random", "category=",
                  "category=" + "x" * 33):
        response = client.get(f"/api/v1/proposals?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"], query


def test_error_messages_follow_accept_language(client, data):
    english = client.get("/api/v1/proposals?per_page=500", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.get_json() == {"error": "The parameter “per_page” must be a whole number from 1 to 100.",
                                  "status": 400}
    chinese = client.get("/api/v1/proposals?per_page=500", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert chinese.get_json()["error"] == "参数“per_page”必须是 1 到 100 之间的整数。"
    assert client.get("/api/v1/proposals?per_page=500").get_json()["error"].startswith("参数")  # default Chinese
    missing = client.get("/api/v1/proposals/999999", headers={"Accept-Language": "en"}).get_json()
    assert missing == {"error": "No public proposal has that number.", "status": 404}
    unknown_path = client.get("/api/v1/no/such/thing", headers={"Accept-Language": "en"})
    assert unknown_path.status_code == 404 and unknown_path.get_json()["error"] == "The page was not found."
    wrong_method = client.put("/api/v1/proposals", headers={"Accept-Language": "en"})
    assert wrong_method.status_code == 405 and wrong_method.is_json


def test_the_session_language_does_not_change_the_api(client, data):
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    response = client.get("/api/v1/proposals/999999")
    assert response.get_json()["error"] == "没有这个编号的公开建议。"


def test_withdrawn_proposals_disappear(client, data):
    services.withdraw_suggestion(data.supporter, data.other)
    db.session.commit()
    assert client.get(f"/api/v1/proposals/{data.other.id}").status_code == 404
    assert data.other.id not in ids(client.get("/api/v1/proposals"))


def test_metrics_are_the_analytics_headline_figures(client, data):
    from analytics.metrics import Scope, headline
    from analytics.rollup import ensure_fresh

    response = client.get(f"/api/v1/metrics?campaign_id={data.campaign.id}")
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()
    assert figures["scope"] == {"body_id": None, "level": None, "region": None, "edition": None,
                                "campaign_id": data.campaign.id, "year": None}
    ensure_fresh()
    expected = headline(Scope(campaign_id=data.campaign.id))
    assert {k: v for k, v in figures.items() if k not in ("scope", "as_of")} == {
        k: v for k, v in expected.items() if k != "as_of"}
    assert figures["suggestions"] == 3 and figures["adoption"] == {"part": 1, "whole": 1, "value": 1.0}
    whole_site = client.get("/api/v1/metrics").get_json()
    assert whole_site["messages"] >= figures["messages"]
    assert client.get(f"/api/v1/metrics?body_id={data.body.id}&level=county&year=2026").status_code == 200
    assert client.get("/api/v1/metrics?body_id=999999").status_code == 404
    assert client.get(f"/api/v1/metrics?campaign_id={data.draft.id}").status_code == 404
    assert client.get("/api/v1/metrics?year=1800").status_code == 400
    assert client.get("/api/v1/metrics?level=village").status_code == 400
