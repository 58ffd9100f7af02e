"""Odd URLs and parameters give a page or a 4xx, never a 500."""
import pytest

from tests.conftest import login
from tests.factories import PASSWORD, make_campaign, make_suggestion, make_user

URLS = ["/", "/campaigns/", "/campaigns/?page=-1", "/campaigns/?page=abc", "/campaigns/?page=99999",
        "/campaigns/?phase=%00&body=1e9&level=%FF&region=" + "长" * 500, "/campaigns/{c}?sort=bogus&page=0",
        "/campaigns/{c}?page=100000", "/campaigns/999999", "/suggestions/999999", "/suggestions/{s}",
        "/suggestions/new/999999", "/suggestions/new/{c}", "/suggestions/mine?page=x", "/suggestions/inbox",
        "/suggestions/inbox?state=../../etc", "/accounts/login?next=//evil.example", "/accounts/admin/bodies",
        "/no/such/page", "/static/../app.py", "/campaigns/?region=%00", "/campaigns/?category=a%00b",
        "/analytics/", "/analytics/?year=1e9&year_to=-3&body=abc&campaign={c}&level=%00&region=" + "长" * 500,
        "/analytics/?year=2030&year_to=2020", "/analytics/charts/handling_days.csv?region=%FF&year=99999",
        "/analytics/charts/..%2Fapp.py.csv", "/analytics/report?year=1900", "/analytics/report?body=999999"]


@pytest.mark.parametrize("logged_in", [False, True])
def test_odd_urls_never_500(client, logged_in):
    campaign = make_campaign()
    suggestion = make_suggestion(campaign)
    if logged_in:
        login(client, make_user())
    for url in URLS:
        response = client.get(url.format(c=campaign.id, s=suggestion.id))
        assert response.status_code < 500, url


@pytest.mark.parametrize("target", ["//evil.example/x", "/\t/evil.example", "/\n/evil.example",
                                    "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, target):
    user = make_user()
    response = client.post("/accounts/login", data={"username": user.username, "password": PASSWORD,
                                                    "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_nul_characters_are_refused_before_reaching_the_database(client):
    for data in ({"username": "bad\x00name", "password": "password123"},):
        response = client.post("/accounts/login", data=data)
        assert response.status_code == 400
        assert "包含无效字符" in response.get_data(as_text=True)
    assert client.get("/campaigns/?region=%00").status_code == 400


HUGE = "99999999999999999999"


def test_ids_and_pages_beyond_a_column_are_not_found_everywhere(client):
    """One converter and one page parser: no route needs its own guard."""
    campaign = make_campaign()
    suggestion = make_suggestion(campaign)
    login(client, make_user())
    for url in (f"/suggestions/{HUGE}", f"/campaigns/{HUGE}", f"/outcomes/{HUGE}", f"/suggestions/clusters/{HUGE}",
                f"/open-data/campaigns/{HUGE}/proposals.csv", f"/api/v1/proposals/{HUGE}", "/suggestions/2147483648"):
        assert client.get(url).status_code == 404, url
    for url in (f"/campaigns/{campaign.id}?page={HUGE}", f"/campaigns/?page={HUGE}", f"/outcomes/?body={HUGE}",
                f"/suggestions/clusters?campaign={HUGE}", f"/open-data/?campaign={HUGE}", f"/suggestions/mine?page={HUGE}"):
        assert client.get(url).status_code in (200, 404), url
    assert client.post(f"/suggestions/{HUGE}/vote", data={"value": "support"}).status_code == 404
    assert client.post(f"/suggestions/{suggestion.id}/vote", data={"value": "support"}).status_code == 303


def test_form_pages_take_form_fields_only(client):
    campaign = make_campaign()
    user = make_user()
    token = client.csrf_token()
    for url, body in (("/accounts/login", {"username": 5, "password": "password123"}),
                      ("/accounts/register", ["a", "b"]), (f"/suggestions/new/{campaign.id}", {"title": 12345})):
        response = client.post(url, json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400, url
        assert "只接受网页表单提交" in response.get_json()["error"]
    response = client.post("/accounts/login", data="[" * 100_000, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400
    login(client, user)  # the form itself still works
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": "建议青溪大道增设路灯", "body": "青溪大道晚上太暗，行人看不清路，建议增设路灯。", "category": "transport",
        "message_type": "suggestion"})
    assert response.status_code == 303


def test_the_api_refuses_json_nested_too_deeply(client):
    from tests.api.helpers import make_token

    secret = make_token(make_user())
    for body in ("[" * 100_000 + "]" * 100_000, '{"title":' * 50_000 + "1" + "}" * 50_000,
                 '{"title": ' + "[" * 30 + "]" * 30 + "}"):
        response = client.post("/api/v1/proposals", data=body, content_type="application/json", csrf=False,
                               headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_a_failed_read_does_not_talk_of_saving(app, client):
    def broken():
        raise RuntimeError("a defect in a page")

    app.add_url_rule("/broken-page", view_func=broken, methods=["GET", "POST"])
    page = client.get("/broken-page").get_data(as_text=True)
    assert "请稍后再试" in page and "未保存" not in page
    assert "未保存任何内容" in client.post("/broken-page").get_data(as_text=True)
