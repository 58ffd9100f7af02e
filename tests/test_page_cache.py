"""Anonymous pages are served from a short-lived cache; nobody's page reaches anybody else: logged-in visitors and
pending messages bypass it, and each visitor gets their own CSRF token in a cached page."""
import re
import time

import pytest
import redis

from app import create_app
from core.extensions import db
from tests.conftest import CsrfClient, base_config, login
from tests.factories import make_campaign, make_suggestion, make_user


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_anonymous_readers_share_one_render_each_with_their_own_token(app, client):
    app.config["PAGE_CACHE_SECONDS"] = 60
    campaign = make_campaign()
    make_suggestion(campaign, title="建议在城南小学门口增设护学岗")
    db.session.commit()
    first = client.get(f"/campaigns/{campaign.id}")
    assert first.headers["X-Page-Cache"] == "miss" and "城南小学" in first.get_data(as_text=True)
    other = app.test_client()
    second = other.get(f"/campaigns/{campaign.id}")
    assert second.headers["X-Page-Cache"] == "hit"
    mine, theirs = token_of(first.get_data(as_text=True)), token_of(second.get_data(as_text=True))
    assert mine != theirs and "\x00" not in second.get_data(as_text=True)
    switched = other.post("/accounts/language", data={"csrf_token": theirs, "language": "en", "next": "/"})
    assert switched.status_code == 303  # the token in the cached copy is this visitor's own
    english = other.get(f"/campaigns/{campaign.id}")
    assert english.headers["X-Page-Cache"] == "miss" and 'lang="en"' in english.get_data(as_text=True)


def test_logged_in_visitors_and_pending_messages_bypass_the_cache(app, client):
    app.config["PAGE_CACHE_SECONDS"] = 60
    campaign = make_campaign()
    user = make_user(display_name="陈晓雨")
    db.session.commit()
    assert client.get("/").headers["X-Page-Cache"] == "miss"
    login(client, user)
    page = client.get("/")
    assert "X-Page-Cache" not in page.headers and "陈晓雨" in page.get_data(as_text=True)
    assert client.post("/accounts/logout").status_code == 303
    after = client.get("/")  # shows "you have logged out": not taken from, nor put in, the cache
    assert "X-Page-Cache" not in after.headers and "您已退出登录" in after.get_data(as_text=True)
    assert "您已退出登录" not in app.test_client().get("/").get_data(as_text=True)
    assert campaign.title in app.test_client().get("/").get_data(as_text=True)


def test_a_cached_page_lives_its_seconds_then_shows_what_changed(app, client):
    app.config["PAGE_CACHE_SECONDS"] = 1
    campaign = make_campaign()
    db.session.commit()
    assert "城南小学" not in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    make_suggestion(campaign, title="建议在城南小学门口增设护学岗")
    db.session.commit()
    assert "城南小学" not in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)  # up to a second old
    time.sleep(1.1)
    assert "城南小学" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
def test_workers_share_the_cache_through_redis(app, tmp_path):
    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    app.config.update(PAGE_CACHE_SECONDS=60, PAGE_CACHE_URL=url)
    campaign = make_campaign()
    db.session.commit()
    app.test_client_class = CsrfClient
    assert app.test_client().get(f"/campaigns/{campaign.id}").headers["X-Page-Cache"] == "miss"
    second_worker = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]), "PAGE_CACHE_SECONDS": 60,
                                "PAGE_CACHE_URL": url})
    assert second_worker.test_client().get(f"/campaigns/{campaign.id}").headers["X-Page-Cache"] == "hit"
    stopped = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]), "PAGE_CACHE_SECONDS": 60,
                          "PAGE_CACHE_URL": "redis://127.0.0.1:1/0"})  # nothing listens there
    assert stopped.test_client().get(f"/campaigns/{campaign.id}").status_code == 200
    redis.Redis.from_url(url).flushdb()


def test_an_edition_s_own_host_name_has_its_own_cached_home_page(app, client):
    """Issue 16: "/" on an edition's host name is the edition's home; the cache keeps one per host."""
    from accounts import regions
    from demo.catalogue import DIVISIONS
    from editions.services import create_edition

    app.config["PAGE_CACHE_SECONDS"] = 60
    regions.load_divisions(DIVISIONS)
    create_edition(None, code="990100", name="临川市人民建议征集平台", short_name="临川", host="linchuan.example.cn")
    db.session.commit()
    national = client.get("/")
    own = client.get("/", headers={"Host": "linchuan.example.cn"})
    assert national.headers["X-Page-Cache"] == own.headers["X-Page-Cache"] == "miss"
    assert "edition-band" in own.get_data(as_text=True) and "edition-band" not in national.get_data(as_text=True)
    again = client.get("/", headers={"Host": "linchuan.example.cn"})
    assert again.headers["X-Page-Cache"] == "hit" and "edition-band" in again.get_data(as_text=True)
    assert client.get("/r/990100/").headers["X-Page-Cache"] == "miss"  # an edition's pages are cached too
    assert client.get("/r/990100/").headers["X-Page-Cache"] == "hit"
