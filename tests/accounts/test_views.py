"""Registration, login, logout and the language switch through real requests."""
import os

import pytest
import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def count_users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_register_logs_in_and_hashes_with_argon2(client):
    response = client.post("/accounts/register", data={"username": "Li_Ming", "display_name": "李明",
                                                       "password": "secret-pass", "confirm": "secret-pass"})
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User))
    assert user.username == "li_ming" and user.display_name == "李明"
    assert user.password_hash.startswith("$argon2id$")
    assert "李明" in client.get("/").get_data(as_text=True)


def test_registering_on_the_way_to_a_form_comes_back_to_it_and_never_leaves_the_site(client):
    """What a newcomer met: 提出建议 sent them to log in, the login page's 注册 link dropped where they were going,
    and after registering they stood on the home page. The way back now follows them, a local path only."""
    login_page = client.get("/accounts/login?next=/suggestions/new/2").get_data(as_text=True)
    # both links: the page's own ("还没有账号？注册") and the header's, which a wide screen shows first
    assert login_page.count('href="/accounts/register?next=/suggestions/new/2"') == 2
    register_page = client.get("/accounts/register?next=/suggestions/new/2").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/suggestions/new/2"' in register_page
    assert register_page.count('href="/accounts/login?next=/suggestions/new/2"') == 2
    plain_login = client.get("/accounts/login").get_data(as_text=True)
    assert 'href="/accounts/register"' in plain_login and "next=/accounts" not in plain_login
    response = client.post("/accounts/register", data={
        "username": "zhou_min", "password": "secret-pass", "confirm": "secret-pass", "next": "/suggestions/new/2"})
    assert response.status_code == 303 and response.headers["Location"] == "/suggestions/new/2"
    client.post("/accounts/logout")
    response = client.post("/accounts/register", data={
        "username": "zhou_min2", "password": "secret-pass", "confirm": "secret-pass", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_duplicate_username_is_refused_in_chinese_and_writes_nothing(client):
    make_user("wang_fang")
    db.session.commit()
    response = client.post("/accounts/register", data={"username": "WANG_FANG", "password": "secret-pass",
                                                       "confirm": "secret-pass"})
    assert response.status_code == 422
    assert "用户名已被占用" in response.get_data(as_text=True)
    assert count_users() == 1


def test_wrong_password_is_refused(client):
    user = make_user()
    db.session.commit()
    response = client.post("/accounts/login", data={"username": user.username, "password": "wrong-password"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "用户名或密码错误" in page and "尚未保存" not in page  # logging in saves nothing to speak of


def test_logout_ends_every_session_of_the_user(app, client):
    user = make_user()
    other_device = app.test_client()
    login(client, user)
    login(other_device, user)
    assert client.get("/suggestions/mine").status_code == 200
    assert other_device.get("/suggestions/mine").status_code == 200
    client.post("/accounts/logout")
    # The other device's cookie carries the old session version and no longer logs anyone in.
    response = other_device.get("/suggestions/mine")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_language_switch_shows_english(client):
    assert "征集活动" in client.get("/campaigns/").get_data(as_text=True)
    client.post("/accounts/language", data={"language": "en", "next": "/campaigns/"})
    page = client.get("/campaigns/").get_data(as_text=True)
    assert "Campaigns" in page and "征集活动" not in page


def test_simplified_chinese_by_default_english_only_by_choice(client):
    assert 'lang="zh-Hans"' in client.get("/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    client.post("/accounts/language", data={"language": "zh_Hans", "next": "/"})
    assert 'lang="zh-Hans"' in client.get("/").get_data(as_text=True)


def _assert_login_rate_limited(tmp_path, storage_uri: str) -> None:
    from app import create_app
    from tests.conftest import CsrfClient, base_config
    app = create_app({**base_config(f"sqlite:///{tmp_path / 'rl.db'}"), "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": storage_uri, "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute"})
    app.test_client_class = CsrfClient
    with app.app_context():
        db.create_all()
        make_user("target_user")
        make_user("other_user")
        client = app.test_client()
        statuses = [client.post("/accounts/login", data={"username": "target_user", "password": "wrong-one"}
                                ).status_code for _ in range(4)]
        assert statuses == [422, 422, 422, 429]
        limited = client.post("/accounts/login", data={"username": "target_user", "password": PASSWORD})
        assert limited.status_code == 429 and "该账号的登录尝试次数过多" in limited.get_data(as_text=True)
        # Another account from the same address is not locked out.
        assert client.post("/accounts/login", data={"username": "other_user", "password": PASSWORD}
                           ).status_code == 303
        db.session.remove()
        db.engine.dispose()


def test_login_attempts_are_rate_limited_per_account(tmp_path):
    _assert_login_rate_limited(tmp_path, f"sqlite:///{tmp_path / 'ratelimits.db'}")


@pytest.mark.redis
def test_rate_limits_shared_through_real_redis(tmp_path):
    import redis
    connection = redis.Redis(host="127.0.0.1", port=6379, db=15)
    try:
        connection.flushdb()
    except redis.ConnectionError:
        if "redis" in os.environ.get("JIANYAN_TEST_REQUIRE", ""):
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    _assert_login_rate_limited(tmp_path, "redis://127.0.0.1:6379/15")
    assert connection.keys("*")  # the counters really live in Redis
    connection.flushdb()
