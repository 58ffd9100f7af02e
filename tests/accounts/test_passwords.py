"""The password policy (registration, change, reset), changing one's password, and resetting it by e-mail:
single-use expiring links, only their hash stored, no account enumeration, every session ended."""
import email
import email.policy
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from accounts import recovery, services
from accounts.models import PasswordResetToken, User
from accounts.password_policy import WeakPassword, check_password_policy
from core.audit import AuditLog
from core.errors import NotFound
from core.extensions import db
from core.mail import OutboxMessage
from core.models import utcnow
from tests.accounts.races import run_together
from tests.conftest import POSTGRES_URL, login
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "quiet-harbour-lantern"


@pytest.mark.parametrize("password,reason", [
    ("12345678", "at least 10"), ("1234567890", "common"), ("qwertyuiop123", "common"), ("Password2026!", "common"),
    ("woaini1314", "common"), ("5201314520", "common"), ("aaaaabbbbb", "different characters"),
    ("li_ming_2026", "username"), ("li_ming", "at least 10"), ("x" * 129, "at most 128"),
    ("ming.li.home.2026", "e-mail"),
])
def test_the_policy_refuses(app, password, reason):
    with pytest.raises(WeakPassword) as refused:
        check_password_policy(password, username="li_ming", email="ming.li.home@example.cn")
    with app.test_request_context(), force_locale("en"):
        assert reason in str(refused.value.message)


@pytest.mark.parametrize("password", ["lamp-post-river-7", "correct horse battery", "青溪河边的路灯终于亮了", "sleepless nights"])
def test_the_policy_accepts(password):
    check_password_policy(password, username="lee", email="lee@example.cn")


def test_registration_applies_the_policy(client):
    for password, message in (("12345678", "密码长度应为 10 至 128 个字符"), ("1234567890", "最常见的密码"),
                              ("chen_xiaoyu", "不能包含用户名"), ("chen_xiaoyu_1990", "不能包含用户名")):
        response = client.post("/accounts/register", data={"username": "chen_xiaoyu", "password": password,
                                                           "confirm": password})
        assert response.status_code == 422 and message in response.get_data(as_text=True), password
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_changing_the_password_ends_every_other_session(app, client):
    user = make_user("wu_min")
    db.session.commit()
    phone = login(app.test_client(), user)
    login(client, user)
    wrong = client.post("/accounts/password", data={"current_password": "not-my-password",
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    weak = client.post("/accounts/password", data={"current_password": PASSWORD, "password": "1234567890",
                                                   "confirm": "1234567890"})
    assert weak.status_code == 422 and "最常见的密码" in weak.get_data(as_text=True)
    assert phone.get("/suggestions/mine").status_code == 200  # refused attempts changed nothing

    changed = client.post("/accounts/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert changed.status_code == 303
    assert client.get("/suggestions/mine").status_code == 200  # this browser stays logged in
    assert phone.get("/suggestions/mine").status_code == 302  # the other one is logged out
    entry = db.session.scalar(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert (entry.action, entry.actor_id) == ("user.change_password", user.id)
    assert app.test_client().post("/accounts/login", data={"username": "wu_min", "password": PASSWORD}
                                  ).status_code == 422
    login(app.test_client(), user, NEW_PASSWORD)


def _request_reset(client, email):
    """Ask for a link; returns the answer and the page it leads to."""
    response = client.post("/accounts/reset", data={"email": email})
    return response, client.get(response.headers["Location"])


def _strip_address(page: str, email: str) -> str:
    return page.replace(email, "ADDRESS")


def test_the_reset_page_says_the_same_whether_or_not_the_address_exists(app, client):
    make_user("known_user").email = "known@example.cn"
    db.session.commit()
    (known_answer, known), (unknown_answer, unknown) = (_request_reset(client, "known@example.cn"),
                                                        _request_reset(client, "stranger@example.cn"))
    assert known_answer.status_code == unknown_answer.status_code == 303
    assert known_answer.headers["Location"] == unknown_answer.headers["Location"] == "/accounts/login"
    assert _strip_address(known.get_data(as_text=True), "known@example.cn") == \
        _strip_address(unknown.get_data(as_text=True), "stranger@example.cn")
    assert "如果有账号登记了" in known.get_data(as_text=True)
    assert [m.to_address for m in db.session.scalars(sa.select(OutboxMessage))] == ["known@example.cn"]


def test_reset_by_e_mail_end_to_end(app, client, smtp_server):
    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    user = make_user("zhao_min")
    user.email = "Zhao.Min@example.cn"
    db.session.commit()
    phone = login(app.test_client(), user)

    _request_reset(client, "zhao.min@EXAMPLE.cn")  # addresses match whatever their case
    result = app.test_cli_runner().invoke(args=["mail", "send-outbox"])
    assert "1 messages sent" in result.output
    (recipients, raw), = inbox.messages
    text = email.message_from_string(raw, policy=email.policy.default).get_content()
    assert recipients == ["Zhao.Min@example.cn"] and "zhao_min" in text
    link = re.search(r"http://\S+/accounts/reset/(\S+)", text)
    secret = link.group(1)
    # Only the hash is kept: not in the token table, and the delivered message's text is blanked.
    token = db.session.scalar(sa.select(PasswordResetToken))
    assert token.token_hash == recovery.hash_secret(secret) and secret not in token.token_hash
    assert db.session.scalar(sa.select(OutboxMessage.body)) == ""

    path = f"/accounts/reset/{secret}"
    form = client.get(path)
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    weak = client.post(path, data={"password": "zhao_min_2026", "confirm": "zhao_min_2026"})
    assert weak.status_code == 422 and "不能包含用户名" in weak.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/accounts/login"
    assert phone.get("/suggestions/mine").status_code == 302  # every session of the account has ended
    login(app.test_client(), user, NEW_PASSWORD)
    entry = db.session.scalar(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert (entry.action, entry.actor_id) == ("user.reset_password", user.id)

    # Single use: the same link does nothing a second time.
    again = client.post(path, data={"password": "another-long-phrase", "confirm": "another-long-phrase"})
    assert again.status_code == 404 and "链接无效" in again.get_data(as_text=True)
    login(app.test_client(), user, NEW_PASSWORD)


def test_a_reset_link_expires_and_a_new_one_voids_none_but_use_voids_all(app, client):
    user = make_user("sun_li")
    user.email = "sun@example.cn"
    db.session.commit()
    long_ago = utcnow() - timedelta(minutes=61)
    recovery.request_password_reset("sun@example.cn", site_url="http://x", max_age_minutes=60, now=long_ago)
    expired_secret = _latest_secret()
    first = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60).rsplit("/", 1)[1]
    second = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60).rsplit("/", 1)[1]
    db.session.commit()
    assert client.get(f"/accounts/reset/{expired_secret}").status_code == 404
    assert client.post(f"/accounts/reset/{expired_secret}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                       ).status_code == 404
    assert client.get(f"/accounts/reset/{first}").status_code == 200  # a newer link leaves the older one working
    assert client.post(f"/accounts/reset/{second}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                       ).status_code == 303
    assert client.get(f"/accounts/reset/{first}").status_code == 404  # using one voids the others
    assert client.get("/accounts/reset/" + "A" * 43).status_code == 404


def _latest_secret() -> str:
    body = db.session.scalar(sa.select(OutboxMessage.body).order_by(OutboxMessage.id.desc()).limit(1))
    return re.search(r"/accounts/reset/(\S+)", body).group(1)


def test_no_link_for_a_deactivated_account_and_at_most_three_an_hour(app):
    active, inactive = make_user(), make_user()
    active.email = inactive.email = "shared@example.cn"  # addresses are not unique: each account gets its link
    services.deactivate_user(None, inactive, "离职")
    for _ in range(5):
        recovery.request_password_reset("shared@example.cn", site_url="http://x", max_age_minutes=60)
    tokens = db.session.scalars(sa.select(PasswordResetToken.user_id)).all()
    assert tokens == [active.id] * recovery.MAX_LINKS_PER_HOUR
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == recovery.MAX_LINKS_PER_HOUR


def test_an_account_deactivated_after_the_link_was_sent_cannot_use_it(app, client):
    user = make_user()
    secret = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60).rsplit("/", 1)[1]
    services.deactivate_user(None, user, "冒充机构")
    db.session.commit()
    assert client.post(f"/accounts/reset/{secret}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                       ).status_code == 404
    assert not db.session.get(User, user.id).active


def test_a_reset_link_read_by_two_requests_before_either_wrote_sets_one_password(app, monkeypatch):
    """Two requests with one link both find it unused, then each sets a password (replayed here with the second
    request's stale read): the link is claimed by one UPDATE … WHERE used_at IS NULL before the password
    changes, so the second request is refused and the first password stays."""
    user = make_user("qian_lei")
    secret = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60).rsplit("/", 1)[1]
    db.session.commit()
    stale = recovery.find_reset_token(secret)  # the second request's read, before the first one wrote
    recovery.reset_password(secret, NEW_PASSWORD)
    db.session.commit()
    monkeypatch.setattr(recovery, "find_reset_token", lambda *_args, **_kwargs: stale)
    with pytest.raises(NotFound):
        recovery.reset_password(secret, "another-long-phrase")
    db.session.rollback()
    user = db.session.get(User, user.id)
    services.check_password(user, NEW_PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "user.reset_password")) == 1


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_two_concurrent_resets_with_one_link_set_one_password(app):
    """The same race with two real transactions (PostgreSQL): both have read the link before either claims it."""
    user = make_user("jiang_tao")
    secret = recovery.issue_reset_link(user, site_url="http://x", max_age_minutes=60).rsplit("/", 1)[1]
    db.session.commit()
    results = run_together(app, [lambda: recovery.reset_password(secret, NEW_PASSWORD),
                                 lambda: recovery.reset_password(secret, "another-long-phrase")],
                           after=(recovery, "find_reset_token"))
    assert sorted(type(r).__name__ for r in results) == ["NotFound", "User"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "user.reset_password")) == 1
