"""Verified mobile numbers (后台实名): the code flow through the development SMS gateway (the sms_outbox table),
expiry, wrong tries, limits, one account per number, a number nobody else ever sees, and campaigns that refuse
unverified accounts' submissions and votes with a clear message."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts import phones
from accounts.models import PhoneCode, User, VerifiedPhone
from core.audit import AuditLog
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.models import utcnow
from core.sms import SmsMessage, gateway_from_config
from suggestions import services
from suggestions.models import Suggestion, Vote
from tests.accounts.races import run_together
from tests.api.helpers import api_post, make_token
from tests.conftest import POSTGRES_URL, login
from tests.factories import make_campaign, make_staff, make_suggestion, make_user

NUMBER, SHOWN, MASKED = "13812345678", "138 1234 5678", "138****5678"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def last_code(number: str = "+86" + NUMBER) -> str:
    """The code in the latest text message to ``number`` (what the citizen reads on the phone)."""
    text = db.session.scalar(sa.select(SmsMessage.text).where(SmsMessage.to_number == number)
                             .order_by(SmsMessage.id.desc()).limit(1))
    return re.search(r"\d{6}", text).group()


def rules(app) -> phones.CodeRules:
    return phones.CodeRules.from_config(app.config)


def verify(app, user, number: str = NUMBER):
    """Verify ``number`` for ``user`` through the services (for tests about what a verified number allows)."""
    phones.request_code(user, number, gateway=gateway_from_config(app.config), rules=rules(app))
    return phones.confirm_code(user, last_code("+86" + number[-11:]), rules=rules(app))


def test_the_code_flow_through_the_outbox(app, client):
    citizen = make_user()
    db.session.commit()
    login(client, citizen)
    assert "获取验证码" in text_of(client.get("/accounts/phone"))
    response = client.post("/accounts/phone", data={"phone": "138-1234-5678"})
    assert response.status_code == 303
    message = db.session.scalars(sa.select(SmsMessage)).one()
    assert message.to_number == "+8613812345678" and message.text.startswith("【建言】您的验证码为")
    code = last_code()
    stored = db.session.scalars(sa.select(PhoneCode)).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64  # only a keyed hash is kept
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    page = text_of(client.get(response.headers["Location"]))
    assert f"验证码已发送至 {MASKED}" in page and NUMBER not in page

    response = client.post("/accounts/phone/confirm", data={"code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/accounts/settings"
    assert db.session.get(VerifiedPhone, citizen.id).number == "+8613812345678"
    assert f"已验证：{SHOWN}" in text_of(client.get("/accounts/settings"))  # its owner sees it
    response = client.post("/accounts/phone/confirm", data={"code": code})  # single use
    assert response.status_code == 422 and "没有有效的验证码" in text_of(response)
    audit = db.session.execute(sa.select(AuditLog.action, AuditLog.detail).where(AuditLog.action.startswith("phone."))
                               .order_by(AuditLog.id)).all()
    assert [(action, detail["phone"]) for action, detail in audit] == [("phone.send_code", MASKED),
                                                                        ("phone.verify", MASKED)]


def test_a_code_expires_after_ten_minutes(app):
    citizen, t0 = make_user(), utcnow()
    phones.request_code(citizen, NUMBER, gateway=gateway_from_config(app.config), rules=rules(app), now=t0)
    with pytest.raises(Conflict):
        phones.confirm_code(citizen, last_code(), rules=rules(app), now=t0 + timedelta(minutes=10, seconds=1))
    assert phones.verified_phone(citizen) is None
    phones.confirm_code(citizen, last_code(), rules=rules(app), now=t0 + timedelta(minutes=9))
    assert phones.has_verified_phone(citizen)


def test_five_wrong_tries_void_the_code_and_each_is_counted(app, client):
    citizen = make_user()
    db.session.commit()
    login(client, citizen)
    client.post("/accounts/phone", data={"phone": NUMBER})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = client.post("/accounts/phone/confirm", data={"code": wrong})
        assert response.status_code == 303  # the try is recorded, then the page says how many are left
        assert f"验证码错误，还可尝试 {left} 次" in text_of(client.get(response.headers["Location"]))
    response = client.post("/accounts/phone/confirm", data={"code": wrong})
    assert "该验证码已作废" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    entry = db.session.scalars(sa.select(PhoneCode)).one()
    assert entry.attempts == 5 and entry.closed_at is not None
    response = client.post("/accounts/phone/confirm", data={"code": code})  # the right code, too late
    assert response.status_code == 422 and phones.verified_phone(citizen) is None
    response = client.post("/accounts/phone/confirm", data={"code": "12a456"})
    assert response.status_code == 422 and "验证码为 6 位数字" in text_of(response)


def test_one_account_per_number(app, client):
    first, second = make_user(), make_user()
    db.session.commit()
    login(client, second)
    client.post("/accounts/phone", data={"phone": NUMBER})  # a code before the first account verifies
    pending = last_code()
    verify(app, first)
    db.session.commit()
    response = client.post("/accounts/phone/confirm", data={"code": pending})
    assert response.status_code == 422 and "该号码已被其他账号验证" in text_of(response)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage))
    later = utcnow() + timedelta(minutes=2)  # past the minute between two codes
    phones.request_code(second, "+86 138 1234 5678", gateway=gateway_from_config(app.config), rules=rules(app),
                        now=later)  # answered as for any number (test_asking_a_code_for_a_taken_number_…) …
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == before  # … but nothing sent
    with pytest.raises(phones.WrongCode):
        phones.confirm_code(second, pending, rules=rules(app), now=later)
    assert phones.verified_phone(second) is None
    with pytest.raises(Conflict):  # and an account keeps its number: an administrator releases it
        phones.request_code(first, "13912345678", gateway=gateway_from_config(app.config), rules=rules(app))
    result = app.test_cli_runner().invoke(args=["accounts", "release-phone", first.username])
    assert MASKED in result.output and phones.verified_phone(first) is None
    later = utcnow() + timedelta(minutes=62)  # three codes went to the number within the hour
    phones.request_code(second, NUMBER, gateway=gateway_from_config(app.config), rules=rules(app), now=later)
    phones.confirm_code(second, last_code(), rules=rules(app), now=later)
    assert phones.verified_phone(second).number == "+8613812345678"


def test_codes_are_limited_per_number_per_account_and_in_time(app):
    gateway, limits = gateway_from_config(app.config), rules(app)
    t0 = utcnow()
    citizen = make_user()
    phones.request_code(citizen, NUMBER, gateway=gateway, rules=limits, now=t0)
    with pytest.raises(Conflict, match="60"):
        phones.request_code(citizen, NUMBER, gateway=gateway, rules=limits, now=t0 + timedelta(seconds=30))
    phones.request_code(citizen, NUMBER, gateway=gateway, rules=limits, now=t0 + timedelta(minutes=2))
    phones.request_code(make_user(), NUMBER, gateway=gateway, rules=limits, now=t0 + timedelta(minutes=3))
    with pytest.raises(Conflict):  # the fourth code to one number within the hour
        phones.request_code(make_user(), NUMBER, gateway=gateway, rules=limits, now=t0 + timedelta(minutes=4))
    for minute, number in zip((5, 7, 9), ("13900000001", "13900000002", "13900000003"), strict=True):
        phones.request_code(citizen, number, gateway=gateway, rules=limits, now=t0 + timedelta(minutes=minute))
    with pytest.raises(Conflict):  # the sixth code for one account within the hour
        phones.request_code(citizen, "13900000004", gateway=gateway, rules=limits, now=t0 + timedelta(minutes=11))
    # Only the latest code of an account can be typed: asking again closes the earlier one.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneCode).where(
        PhoneCode.user_id == citizen.id, PhoneCode.closed_at.is_(None))) == 1
    for refused in ("0571-88888888", "12345", "+1 415 555 0100", "1381234567"):  # landline, short, abroad, 10 digits
        with pytest.raises(InvalidInput):
            phones.request_code(make_user(), refused, gateway=gateway, rules=limits)


def test_a_campaign_requiring_a_phone_refuses_unverified_submissions_and_votes(app, client):
    body_campaign = make_campaign()
    proposal = make_suggestion(body_campaign, title="建议延长青溪图书馆开放时间")  # before the rule was set
    body_campaign.phone_to_submit = body_campaign.phone_to_vote = True
    citizen = make_user()
    db.session.commit()
    login(client, citizen)
    form = client.get(f"/suggestions/new/{body_campaign.id}")
    assert 'id="phone-needed"' in form.get_data(as_text=True)
    response = client.post(f"/suggestions/new/{body_campaign.id}", data={
        "title": "建议在青溪大道增设非机动车道", "body": "青溪大道车流量大，非机动车与机动车混行，建议增设隔离的非机动车道。",
        "category": "transport", "message_type": "suggestion"})
    assert response.status_code == 422 and "本次征集活动要求验证手机号码后方可提交建议" in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 1
    response = client.post(f"/suggestions/{proposal.id}/vote", data={"value": "support"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/accounts/phone?next=")
    assert "本次征集活动要求验证手机号码后方可支持或反对建议" in text_of(client.get(response.headers["Location"]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0
    secret = make_token(citizen)
    db.session.commit()
    answer = api_post(client, f"/api/v1/proposals/{proposal.id}/support", secret)
    assert answer.status_code == 403 and "验证手机号码" in answer.get_json()["error"]

    verify(app, citizen)
    db.session.commit()
    assert client.post(f"/suggestions/{proposal.id}/vote", data={"value": "support"}).status_code == 303
    assert db.session.get(Suggestion, proposal.id).support_count == 1
    response = client.post(f"/suggestions/new/{body_campaign.id}", data={
        "title": "建议在青溪大道增设非机动车道", "body": "青溪大道车流量大，非机动车与机动车混行，建议增设隔离的非机动车道。",
        "category": "transport", "message_type": "suggestion"})
    assert response.status_code == 303


def test_managers_set_the_requirement_and_the_number_stays_private(app, client):
    campaign = make_campaign()
    manager = make_staff(campaign.body, role="manager")
    author = make_user()
    verify(app, author)
    proposal = services.submit_suggestion(author, campaign, title="建议增设公交站台遮阳棚",
                                          body="夏天在青溪大道公交站等车非常晒，建议增设遮阳棚和座椅。",
                                          category=campaign.categories[0], message_type="suggestion")
    db.session.commit()
    login(client, manager)
    form = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form))
    for checkbox in ("allow_oppose", "screening", "phone_to_submit", "phone_to_vote"):
        fields.pop(checkbox, None)  # the regular expression read every checkbox's value, ticked or not
    fields.update(categories=str(campaign.categories[0].id), phone_to_vote="y", opens_at=fields["opens_at"][:16],
                  closes_at=fields["closes_at"][:16])
    response = client.post(f"/campaigns/{campaign.id}/edit", data=fields)
    assert response.status_code == 303, text_of(response)[:300]
    db.session.expire_all()
    assert campaign.phone_to_vote and not campaign.phone_to_submit
    assert "支持建议时需要" in text_of(client.get(f"/campaigns/{campaign.id}"))
    # Nobody but the author sees the number: not the handling body's staff, not the public, not the API.
    for page in (f"/suggestions/{proposal.id}", f"/campaigns/{campaign.id}", f"/api/v1/proposals/{proposal.id}",
                 "/suggestions/inbox", "/moderation/audit"):
        body = client.get(page).get_data(as_text=True)
        assert NUMBER not in body and SHOWN not in body and "+86" not in body


def test_administrators_release_a_number_without_seeing_it(app, client):
    citizen, admin = make_user(), make_user(role="admin")
    verify(app, citizen)
    db.session.commit()
    login(client, admin)
    page = client.get(f"/accounts/admin/users/{citizen.id}").get_data(as_text=True)
    assert 'id="phone-state"' in page and NUMBER not in page and SHOWN not in page and MASKED not in page
    response = client.post(f"/accounts/admin/users/{citizen.id}/release-phone")
    assert response.status_code == 303 and phones.verified_phone(citizen) is None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "phone.release"))
    assert (entry.actor_id, entry.target_id, entry.detail["phone"]) == (admin.id, citizen.id, MASKED)
    response = client.post(f"/accounts/admin/users/{citizen.id}/release-phone")  # nothing left to release
    assert response.status_code == 303 and "该账号没有已验证的手机号码" in text_of(client.get(response.headers["Location"]))


def wrong_code_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_wrong_try_is_counted_in_the_database_not_on_a_stale_read(app):
    """A confirm that read the code before four other wrong tries were counted (the update below is one the
    loaded copy does not see) makes the fifth wrong try, which voids the code: the count is one UPDATE …
    SET attempts = attempts + 1 WHERE … AND attempts < 5, never a value computed from what was read."""
    citizen = make_user()
    phones.request_code(citizen, NUMBER, gateway=gateway_from_config(app.config), rules=rules(app))
    stale = phones.pending_code(citizen)
    db.session.execute(sa.update(PhoneCode.__table__).where(PhoneCode.__table__.c.id == stale.id)
                       .values(attempts=4))  # Core: the session's copy still says 0
    with pytest.raises(phones.WrongCode):
        phones.confirm_code(citizen, wrong_code_for(last_code()), rules=rules(app))
    db.session.commit()
    db.session.expire_all()
    entry = db.session.get(PhoneCode, stale.id)
    assert entry.attempts == 5 and entry.closed_at is not None


def test_a_code_voided_meanwhile_cannot_verify_on_a_stale_read(app, monkeypatch):
    """The right code, typed in a request that read the code open just before other requests' wrong tries
    voided it, verifies nothing."""
    citizen = make_user()
    phones.request_code(citizen, NUMBER, gateway=gateway_from_config(app.config), rules=rules(app))
    stale = phones.pending_code(citizen)
    db.session.execute(sa.update(PhoneCode.__table__).where(PhoneCode.__table__.c.id == stale.id)
                       .values(attempts=5, closed_at=utcnow()))
    monkeypatch.setattr(phones, "pending_code", lambda *_args: stale)  # what the request read before
    with pytest.raises(Conflict):
        phones.confirm_code(citizen, last_code(), rules=rules(app))
    db.session.rollback()
    assert phones.verified_phone(citizen) is None


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_concurrent_wrong_tries_never_exceed_the_limit(app):
    """Eight wrong tries at once, all having read the code untried (PostgreSQL): five are counted, the fifth
    voids the code, and the other three find no code to try."""
    citizen = make_user()
    phones.request_code(citizen, NUMBER, gateway=gateway_from_config(app.config), rules=rules(app))
    wrong, user_id, limits = wrong_code_for(last_code()), citizen.id, rules(app)
    db.session.commit()
    results = run_together(app, [lambda: phones.confirm_code(db.session.get(User, user_id), wrong, rules=limits)
                                 for _ in range(8)], after=(phones, "pending_code"), commit_on=(phones.WrongCode,))
    assert sorted(type(r).__name__ for r in results) == ["Conflict"] * 3 + ["WrongCode"] * 5
    entry = db.session.scalars(sa.select(PhoneCode)).one()
    assert entry.attempts == 5 and entry.closed_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "phone.wrong_code")) == 5


def test_a_number_verified_meanwhile_by_another_account_is_refused_with_the_message(app, client, monkeypatch):
    """Two accounts hold codes for one number and type them at the same moment: both checks found the number
    free, and the second insert meets the unique constraint. The service answers ``PhoneTaken`` (the page its
    message), never an IntegrityError."""
    first, second = make_user(), make_user()
    gateway, limits = gateway_from_config(app.config), rules(app)
    phones.request_code(first, NUMBER, gateway=gateway, rules=limits)
    first_code = last_code()
    phones.request_code(second, NUMBER, gateway=gateway, rules=limits)
    second_code = last_code()
    phones.confirm_code(first, first_code, rules=limits)
    db.session.commit()
    monkeypatch.setattr(phones, "_taken_by_another", lambda *_args: False)  # the check ran before that commit
    with pytest.raises(phones.PhoneTaken):
        phones.confirm_code(second, second_code, rules=limits)
    db.session.rollback()
    assert phones.verified_phone(second) is None
    login(client, second)
    response = client.post("/accounts/phone/confirm", data={"code": second_code})
    assert response.status_code == 422 and "该号码已被其他账号验证" in text_of(response)


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_two_accounts_verifying_one_number_at_once(app):
    """The same race with two real transactions (PostgreSQL): one account gets the number, the other the
    message."""
    first, second = make_user(), make_user()
    gateway, limits = gateway_from_config(app.config), rules(app)
    phones.request_code(first, NUMBER, gateway=gateway, rules=limits)
    codes = {first.id: last_code()}
    phones.request_code(second, NUMBER, gateway=gateway, rules=limits)
    codes[second.id] = last_code()
    db.session.commit()
    results = run_together(app, [lambda uid=uid: phones.confirm_code(db.session.get(User, uid), codes[uid],
                                                                     rules=limits) for uid in codes],
                           after=(phones, "_taken_by_another"))
    assert sorted(type(r).__name__ for r in results) == ["PhoneTaken", "VerifiedPhone"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerifiedPhone)) == 1


def test_asking_a_code_for_a_taken_number_answers_as_for_any_other(app, client):
    """Nobody learns from the sending step whether a number is registered: a number another account verified
    gets the same answer and page as a free one (and counts against the same limits), but no text message and
    no code that could ever match; the attempt is audited. Only someone holding the right code (the phone's
    owner) is told that the number is taken."""
    owner, asker, other = make_user(), make_user(display_name="李华"), make_user(display_name="李华")
    verify(app, owner)
    db.session.commit()
    sent_before = db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage))

    def ask(user, number):
        browser = login(app.test_client(), user)
        response = browser.post("/accounts/phone", data={"phone": number})
        return browser, response, text_of(browser.get(response.headers["Location"]))

    browser, taken, taken_page = ask(asker, NUMBER)
    _, free, free_page = ask(other, "13987654321")
    assert taken.status_code == free.status_code == 303 and taken.headers["Location"] == free.headers["Location"]
    assert taken_page.replace(MASKED, "NUMBER") == free_page.replace("139****4321", "NUMBER")
    assert f"验证码已发送至 {MASKED}" in taken_page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == sent_before + 1  # the free one
    assert db.session.scalar(sa.select(SmsMessage.to_number).order_by(SmsMessage.id.desc()).limit(1)) \
        == "+8613987654321"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "phone.code_withheld"))
    assert (entry.actor_id, entry.detail["phone"]) == (asker.id, MASKED)
    # Whatever is typed is a wrong code, as for anyone guessing at a number they do not hold.
    for code in ("000000", "123456"):
        response = browser.post("/accounts/phone/confirm", data={"code": code})
        assert response.status_code == 303 and "验证码错误" in text_of(browser.get(response.headers["Location"]))
    assert phones.verified_phone(asker) is None
    # The limits count such a request like any other: a second code within the minute is refused.
    again = browser.post("/accounts/phone", data={"phone": NUMBER})
    assert again.status_code == 422 and "距上次发送验证码不足" in text_of(again)
