"""Every rate limit through real requests, with the counters in the embedded default store (a SQLite file):
login per address (failures only) and per account (any address), registration, reset requests, proposals and
votes per account (pages and API counted together), API writes. A refused request is a 429 that says, in the
user's language, how long to wait, with Retry-After. tests/test_rate_limits_server.py shows the same limits
holding across gunicorn's workers, on SQLite and on Redis, and with Redis stopped."""
import pytest
import sqlalchemy as sa

from accounts import recovery
from accounts.models import User
from core.extensions import db
from suggestions.models import Suggestion, Vote
from tests.api.helpers import api_delete, api_post, make_token
from tests.conftest import login
from tests.factories import PASSWORD, make_campaign, make_suggestion, make_user

LIMITED = {"RATELIMIT_ENABLED": True}
PROPOSAL = {"title": "关于城南小学门口增设护学岗的建议", "body": "每天放学时城南小学门口车辆拥堵，建议增设护学岗。",
            "category": "transport", "message_type": "suggestion"}


def attempt_login(client, username, password="wrong-password", address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/accounts/login", data={"username": username, "password": password}, headers=headers)


def assert_refused(response, message: str, wait: str, longest: int) -> None:
    """A 429 whose page says ``message`` and how long to wait, with a Retry-After of at most ``longest`` s. The
    window started at the first counted request: on a slow machine under a minute may be left, and the page then
    says the seconds the Retry-After header gives."""
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= longest
    page = response.get_data(as_text=True)
    said = wait in page or (seconds < 60 and (f"{seconds}秒钟" in page or f"{seconds} second" in page))
    assert message in page and said, page


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.app_config({**LIMITED, "LOGIN_ADDRESS_RATE_LIMIT": "5 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "100/hour"})
def test_one_password_against_many_accounts_is_stopped_after_the_address_limit(app, client):
    make_user("li_ming")
    db.session.commit()
    # Successful logins from the same address (an office, a mobile network) do not count.
    for _ in range(3):
        login(app.test_client(), db.session.scalar(sa.select(User)))
    answers = [attempt_login(client, f"citizen_{n}", "123456789a").status_code for n in range(40)]
    assert answers == [422] * 5 + [429] * 35
    # From this address, even the right password waits now.
    assert_refused(attempt_login(client, "li_ming", PASSWORD), "来自您所在网络的登录失败次数过多", "1分钟", 60)


@pytest.mark.app_config({**LIMITED, "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute", "LOGIN_ADDRESS_RATE_LIMIT": "100/hour",
                         "TRUSTED_PROXIES": 1})
def test_guesses_at_one_account_are_limited_from_every_address_and_a_reset_starts_afresh(app, client):
    user = make_user("wang_fang")
    user.email = "wang.fang@example.cn"
    make_user("zhou_jie")
    db.session.commit()
    answers = [attempt_login(client, "wang_fang", address=f"198.51.100.{n}").status_code for n in range(1, 5)]
    assert answers == [422, 422, 422, 429]
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    refused = attempt_login(client, "WANG_FANG", PASSWORD, address="203.0.113.9")  # any spelling of the name
    assert_refused(refused, "Too many login attempts for this account", "1 minute", 60)
    assert "Forgot your password?" in refused.get_data(as_text=True)
    assert attempt_login(client, "zhou_jie", PASSWORD, address="198.51.100.1").status_code == 303  # others log in

    # The owner chooses a new password by e-mail: the count starts again and the new password works at once.
    recovery.request_password_reset("wang.fang@example.cn", site_url="http://jianyan.test", max_age_minutes=60)
    db.session.commit()
    secret = _latest_reset_secret(app)
    assert client.post(f"/accounts/reset/{secret}", data={"password": "a-brand-new-pass", "confirm":
                                                          "a-brand-new-pass"}).status_code == 303
    assert attempt_login(app.test_client(), "wang_fang", "a-brand-new-pass", address="192.0.2.1").status_code == 303


def _latest_reset_secret(app) -> str:
    from core.mail import OutboxMessage
    text = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    return text.split("/accounts/reset/")[1].split()[0]


@pytest.mark.app_config({**LIMITED, "LOGIN_ADDRESS_RATE_LIMIT": "2 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "100/hour"})
def test_forwarded_for_is_ignored_unless_proxies_are_trusted(client):
    answers = [attempt_login(client, "anyone", address=f"198.51.100.{n}").status_code for n in range(1, 4)]
    assert answers == [422, 422, 429]  # made-up addresses do not buy fresh allowances


@pytest.mark.app_config({**LIMITED, "REGISTER_RATE_LIMIT": "2 per hour"})
def test_registration_is_limited_per_address(client):
    def register(name):
        return client.post("/accounts/register", data={"username": name, "password": "secret-pass-12",
                                                       "confirm": "secret-pass-12"})
    assert register("first_one").status_code == 303
    client.post("/accounts/logout")
    assert register("x").status_code == 422  # a refused form counts too: every attempt does
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    assert_refused(register("third_one"), "Too many accounts have been registered from your network", "1 hour",
                   3600)
    assert count(User) == 1


@pytest.mark.app_config({**LIMITED, "PASSWORD_RATE_LIMIT": "2 per hour"})
def test_reset_requests_are_limited_per_address(client):
    answers = [client.post("/accounts/reset", data={"email": f"someone{n}@example.cn"}).status_code
               for n in range(3)]
    assert answers == [303, 303, 429]
    assert_refused(client.post("/accounts/reset", data={"email": "x@example.cn"}), "密码相关的请求过多", "1小时", 3600)


@pytest.mark.app_config({**LIMITED, "SUBMIT_RATE_LIMIT": "2 per hour", "SUBMIT_ADDRESS_RATE_LIMIT": "100/hour"})
def test_proposals_per_account_count_the_form_and_the_api_together(app, client):
    campaign = make_campaign()
    author, other = make_user(), make_user()
    secret = make_token(author)
    db.session.commit()
    login(client, author)
    url = f"/suggestions/new/{campaign.id}"
    assert client.post(url, data={**PROPOSAL, "title": ""}).status_code == 422  # sent back: does not count
    assert client.post(url, data=PROPOSAL).status_code == 303
    created = api_post(app.test_client(), "/api/v1/proposals", secret,
                       json={"campaign_id": campaign.id, **PROPOSAL, "title": "建议青溪大道增设路灯"})
    assert created.status_code == 201
    assert_refused(client.post(url, data={**PROPOSAL, "title": "第三条建议：增设人行横道"}), "您在短时间内提交的建议过多",
                   "1小时", 3600)
    assert_refused(client.get(url), "您在短时间内提交的建议过多", "1小时", 3600)  # before typing in vain
    refused = api_post(app.test_client(), "/api/v1/proposals", secret, language="en",
                       json={"campaign_id": campaign.id, **PROPOSAL, "title": "第四条建议：增设护栏"})
    assert refused.status_code == 429 and 0 < refused.get_json()["retry_after"] <= 3600
    assert refused.get_json()["error"] == ("You have submitted many proposals in a short time. "
                                           "Please try again in 1 hour.")
    assert refused.headers["Retry-After"] == str(refused.get_json()["retry_after"])
    assert count(Suggestion) == 2
    login(app.test_client(), other).post(url, data=PROPOSAL)  # another account has its own allowance
    assert count(Suggestion) == 3


@pytest.mark.app_config({**LIMITED, "SUBMIT_RATE_LIMIT": "2 per hour", "SUBMIT_ADDRESS_RATE_LIMIT": "2 per hour"})
def test_opening_a_closed_campaigns_form_is_not_a_submission(app, client):
    """The form of a closed campaign sends the visitor back to the campaign (303): a GET, never a submission."""
    closed, open_ = make_campaign(status="closed"), make_campaign(title="青溪县公共交通建议征集")
    author = make_user()
    db.session.commit()
    login(client, author)
    for _ in range(3):
        response = client.get(f"/suggestions/new/{closed.id}")
        assert response.status_code == 303 and f"/campaigns/{closed.id}" in response.headers["Location"]
    url = f"/suggestions/new/{open_.id}"
    assert client.get(url).status_code == 200
    assert [client.post(url, data={**PROPOSAL, "title": f"第{n}条：建议增设公交站台"}).status_code
            for n in range(3)] == [303, 303, 429]  # the allowance is the proposals saved, all of it
    assert count(Suggestion) == 2


@pytest.mark.app_config({**LIMITED, "SUBMIT_RATE_LIMIT": "100/hour", "SUBMIT_ADDRESS_RATE_LIMIT": "2 per hour"})
def test_proposals_per_address(app, client):
    campaign = make_campaign()
    authors = [make_user() for _ in range(3)]
    db.session.commit()
    answers = [login(app.test_client(), author).post(f"/suggestions/new/{campaign.id}", data=PROPOSAL).status_code
               for author in authors]
    assert answers == [303, 303, 429]
    assert count(Suggestion) == 2


@pytest.mark.app_config({**LIMITED, "VOTE_RATE_LIMIT": "3 per minute"})
def test_votes_per_account_count_the_pages_and_the_api_together(app, client):
    campaign = make_campaign()
    first, second = make_suggestion(campaign), make_suggestion(campaign, title="建议青溪大道增设路灯")
    voter = make_user()
    secret = make_token(voter)
    db.session.commit()
    login(client, voter)
    assert client.post(f"/suggestions/{first.id}/vote", data={"value": "support"}).status_code == 303
    assert api_post(app.test_client(), f"/api/v1/proposals/{second.id}/support", secret).status_code == 200
    assert api_delete(app.test_client(), f"/api/v1/proposals/{second.id}/vote", secret).status_code == 200
    assert_refused(client.post(f"/suggestions/{second.id}/vote", data={"value": "support"}),
                   "您在短时间内投票次数过多", "1分钟", 60)
    assert api_post(app.test_client(), f"/api/v1/proposals/{second.id}/support", secret).status_code == 429
    assert count(Vote) == 1


@pytest.mark.app_config({**LIMITED, "LOGIN_ACCOUNT_RATE_LIMIT": "1 per minute"})
def test_the_wait_is_said_in_the_language_of_the_page(client):
    attempt_login(client, "chen_li")
    assert_refused(attempt_login(client, "chen_li"), "该账号的登录尝试次数过多", "1分钟", 60)
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    assert_refused(attempt_login(client, "chen_li"), "Please try again in 1 minute", "1 minute", 60)


@pytest.mark.app_config({**LIMITED, "LOGIN_ACCOUNT_RATE_LIMIT": "2 per minute",
                         "RATELIMIT_STORAGE_URI": "sqlite:////proc/version/ratelimits.db"})
def test_a_store_that_fails_leaves_each_process_counting_on_its_own(client):
    """The counters' file cannot be written (here: it would live under a file): no 500, and this process keeps
    the limit in its memory until the store answers again (tests/test_rate_limits_server.py stops Redis)."""
    answers = [attempt_login(client, "sun_li").status_code for _ in range(3)]
    assert answers == [422, 422, 429]


@pytest.mark.app_config({**LIMITED, "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute", "LOGIN_ADDRESS_RATE_LIMIT": "100/hour"})
def test_names_no_account_can_have_share_one_count_and_never_fail(client):
    odd = ["", " ", "ab", "名" * 100_000, "x" * 33, "li ming", "\u3000", "li-ming!"]
    answers = [attempt_login(client, name).status_code for name in odd]
    assert answers == [422, 422, 422, 429, 429, 429, 429, 429]  # one count for all of them, never a 500
    assert attempt_login(client, "ＬＩ＿ＭＩＮＧ").status_code == 422  # a possible name (full width) counts apart


def test_the_wait_is_rounded_up_to_whole_seconds_minutes_or_hours(app):
    from core.ratelimit import wait_text
    with app.test_request_context("/"):
        assert [wait_text(s) for s in (1, 59, 60, 61, 599, 3600, 3601, 86400)] == [
            "1秒钟", "59秒钟", "1分钟", "2分钟", "10分钟", "1小时", "2小时", "1天"]


@pytest.mark.app_config({**LIMITED, "PASSWORD_RATE_LIMIT": "2 per hour"})
def test_an_ipv6_host_is_limited_by_its_slash_64(client):
    """One home or phone usually owns a whole IPv6 /64 and may pick any address in it: per-address limits count
    the /64, so changing the last 64 bits buys no fresh allowance; another /64 has its own count, and IPv4
    addresses (also written IPv4-mapped) are counted one by one."""
    def ask(address):
        return client.post("/accounts/reset", data={"email": "someone@example.cn"},
                           environ_base={"REMOTE_ADDR": address}).status_code
    assert [ask("2001:db8:1:2::1"), ask("2001:db8:1:2:ffff:ffff:ffff:fffe")] == [303, 303]
    assert ask("2001:db8:1:2:abcd:1234:5678:9abc") == 429  # the same /64, whatever the interface id
    assert ask("2001:DB8:1:2:0:0:0:7") == 429  # however it is spelt
    assert ask("2001:db8:1:3::1") == 303  # the next /64 is another network
    assert [ask("192.0.2.1"), ask("192.0.2.1"), ask("::ffff:192.0.2.1")] == [303, 303, 429]
    assert ask("192.0.2.2") == 303  # IPv4 stays per address


def test_the_address_key_of_each_kind_of_address():
    from core.network import rate_limit_address
    assert rate_limit_address("2001:db8:1:2:abcd::9") == rate_limit_address("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert rate_limit_address("203.0.113.7") == "203.0.113.7"
    assert rate_limit_address("::ffff:203.0.113.7") == "203.0.113.7"
    assert rate_limit_address("fe80::1%eth0") == "fe80::/64"
    assert rate_limit_address(None) == rate_limit_address("") == rate_limit_address("not an address") == "unknown"


def _confirm_code(client, address="192.0.2.10"):
    return client.post("/accounts/phone/confirm", data={"code": "000000"}, environ_base={"REMOTE_ADDR": address})


@pytest.mark.app_config({**LIMITED, "PHONE_CONFIRM_RATE_LIMIT": "3 per hour",
                         "PHONE_CONFIRM_ADDRESS_RATE_LIMIT": "100/hour"})
def test_codes_typed_back_are_limited_per_account(app, client):
    """Every code typed back counts, a code or none pending, from any address."""
    assert _confirm_code(app.test_client()).status_code == 302  # anonymous: sent to log in, no account to count
    login(client, make_user())
    answers = [_confirm_code(client, f"192.0.2.{n}").status_code for n in range(1, 4)]
    assert 429 not in answers
    assert_refused(_confirm_code(client, "198.51.100.7"), "您在短时间内输入验证码的次数过多", "1小时", 3600)
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    assert_refused(_confirm_code(client), "You have typed many verification codes", "1 hour", 3600)
    assert _confirm_code(login(app.test_client(), make_user())).status_code != 429  # another account


@pytest.mark.app_config({**LIMITED, "PHONE_CONFIRM_RATE_LIMIT": "100/hour",
                         "PHONE_CONFIRM_ADDRESS_RATE_LIMIT": "3 per hour"})
def test_codes_typed_back_are_limited_per_address(app, client):
    """Many accounts typing codes from one address (or one IPv6 /64) share one count."""
    browsers = [login(app.test_client(), make_user()) for _ in range(4)]
    answers = [_confirm_code(browser, f"2001:db8:7:7::{n}").status_code for n, browser in enumerate(browsers)]
    assert answers[:3] == [422] * 3 and answers[3] == 429
    assert_refused(_confirm_code(browsers[0], "2001:db8:7:7::99"), "来自您所在网络的验证码输入次数过多", "1小时",
                   3600)
    assert _confirm_code(browsers[0], "2001:db8:7:8::1").status_code == 422  # another network
