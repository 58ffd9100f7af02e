"""Odd URLs and parameters give a page or a 4xx, never a 500."""
import pytest

from tests.conftest import login
from tests.factories import make_campaign, make_suggestion, make_user

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
    response = client.post("/accounts/login", data={"username": user.username, "password": "password123",
                                                    "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_nul_characters_are_refused_before_reaching_the_database(client):
    for data in ({"username": "bad\x00name", "password": "password123"},):
        response = client.post("/accounts/login", data=data)
        assert response.status_code == 400
        assert "包含无效字符" in response.get_data(as_text=True)
    assert client.get("/campaigns/?region=%00").status_code == 400
