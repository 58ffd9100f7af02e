"""Citizens report proposals and official replies; enough distinct accounts hide a proposal until a moderator
decides, in the queue, to restore it or keep it hidden. Every step is audited; the author never learns who
reported."""
import re

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from moderation.models import Report
from suggestions import services
from suggestions.models import Reply, Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def actions() -> list[tuple[str, int | None]]:
    return list(db.session.execute(sa.select(AuditLog.action, AuditLog.actor_id).order_by(AuditLog.id)))


def report(client, user, suggestion_id: int, reason="abusive", note="", kind="suggestions", target_id=None):
    login(client, user)
    response = client.post(f"/moderation/report/{kind}/{target_id or suggestion_id}",
                           data={"reason": reason, "note": note})
    client.post("/accounts/logout")
    return response


@pytest.fixture
def world(app):
    body = make_body("青溪县城市管理局")
    campaign = make_campaign(body, title="青溪县市容环境建议征集")
    author = make_user("li_author", display_name="李作者")
    suggestion = make_suggestion(campaign, author, title="建议清理人民公园的小广告")
    moderator = make_user("mod_wang", role="moderator", display_name="王审核")
    reporters = [make_user(f"reporter{i}", display_name=f"举报人{i}") for i in range(4)]
    db.session.commit()
    return body, campaign, author, suggestion, moderator, reporters


def test_three_distinct_accounts_hide_a_proposal_until_a_moderator_restores_it(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    assert campaign.report_hide_threshold == 3  # the default
    assert report(client, reporters[0], suggestion.id, "abusive", "标题里有骂人的话").status_code == 303
    # The same account cannot report twice: it still counts once.
    login(client, reporters[0])
    response = client.post(f"/moderation/report/suggestions/{suggestion.id}", data={"reason": "abusive"})
    assert "您已经举报过" in text_of(client.get(response.headers["Location"]))
    client.post("/accounts/logout")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    report(client, reporters[1], suggestion.id, "abusive")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"  # two accounts: still public
    report(client, reporters[2], suggestion.id, "off_topic")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "hidden"
    assert app.test_client().get(f"/suggestions/{suggestion.id}").status_code == 404  # gone from public view
    hide_row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.hide"))
    assert hide_row.actor_id is None and hide_row.detail["automatic"] and hide_row.detail["reports"] == 3
    assert [a for a in actions() if a[0] == "moderation.report"] == [("moderation.report", r.id) for r in reporters[:3]]

    # The author sees the proposal is hidden, but not who reported it.
    login(client, author)
    page = text_of(client.get(f"/suggestions/{suggestion.id}"))
    assert "已屏蔽" in page and not any(r.display_name in page or r.username in page for r in reporters)
    client.post("/accounts/logout")

    # The moderator's queue says why: three reports, their reasons and note, hidden automatically.
    login(client, moderator)
    queue = text_of(client.get("/moderation/?tab=reported"))
    assert suggestion.title in queue and "3 个账号举报" in queue and "辱骂或人身攻击 ×2" in queue
    assert "与主题无关 ×1" in queue and "标题里有骂人的话" in queue and "举报达到规定数量后已自动屏蔽" in queue
    assert suggestion.title in text_of(client.get("/moderation/?tab=hidden"))
    response = client.post("/moderation/decide?tab=reported", data={"single": f"restore:suggestions-{suggestion.id}"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"
    assert set(db.session.scalars(sa.select(Report.resolution))) == {"dismissed"}
    assert actions()[-2:] == [("suggestion.unhide", moderator.id), ("moderation.dismiss_reports", moderator.id)]
    assert suggestion.title not in text_of(client.get("/moderation/?tab=reported"))
    # A new report after the decision counts from zero: one more does not hide it again.
    client.post("/accounts/logout")
    report(client, reporters[3], suggestion.id, "abusive")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"


def test_a_moderator_keeps_hidden_what_the_reports_hid(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    campaign.report_hide_threshold = 2
    db.session.commit()
    for user in reporters[:2]:
        report(client, user, suggestion.id, "advertising")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "hidden"
    login(client, moderator)
    assert "保持屏蔽" in text_of(client.get("/moderation/?tab=reported"))
    response = client.post("/moderation/decide?tab=reported", data={"single": f"hide:suggestions-{suggestion.id}"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "hidden"
    assert set(db.session.scalars(sa.select(Report.resolution))) == {"upheld"}
    assert actions()[-1] == ("moderation.uphold_reports", moderator.id)
    assert suggestion.title not in text_of(client.get("/moderation/?tab=reported"))
    assert suggestion.title in text_of(client.get("/moderation/?tab=hidden"))
    # Dismissing later: no open report is left, so the queue refuses and nothing changes.
    response = client.post("/moderation/decide?tab=hidden", data={"single": f"dismiss:suggestions-{suggestion.id}"})
    assert response.status_code == 303
    assert "没有待处理的举报" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "hidden"


def test_dismissing_reports_keeps_a_public_proposal_public(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    report(client, reporters[0], suggestion.id, "illegal")
    login(client, moderator)
    client.post("/moderation/decide?tab=reported", data={"single": f"dismiss:suggestions-{suggestion.id}"})
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"
    assert db.session.scalar(sa.select(Report.resolution)) == "dismissed"
    assert actions()[-1] == ("moderation.dismiss_reports", moderator.id)


def test_a_campaign_may_never_hide_automatically(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    campaign.report_hide_threshold = 0
    db.session.commit()
    for user in reporters:
        report(client, user, suggestion.id)
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 4


@pytest.mark.parametrize("case", ["author", "anonymous", "other_without_note", "no_reason", "hidden"])
def test_refused_reports_change_nothing(app, client, world, case):
    body, campaign, author, suggestion, moderator, reporters = world
    user, data, expected = reporters[0], {"reason": "abusive"}, 303
    if case == "author":
        user, message = author, "不能举报自己"
    elif case == "anonymous":
        user, expected, message = None, 302, ""
    elif case == "other_without_note":
        data, message = {"reason": "other"}, "请在说明中写明"
    elif case == "no_reason":
        data, message = {"note": "不好"}, "请选择举报理由"
    else:
        services.hide_suggestion(moderator, suggestion, "测试")
        db.session.commit()
        expected, message = 404, ""
    if user is not None:
        login(client, user)
    response = client.post(f"/moderation/report/suggestions/{suggestion.id}", data=data)
    assert response.status_code == expected
    if message:
        assert message in text_of(client.get(response.headers["Location"]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    assert not [a for a in actions() if a[0] == "moderation.report"]


def test_a_reported_reply_is_hidden_and_restored_by_a_moderator(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    staff = make_staff(body)
    reply = services.reply_to_suggestion(staff, suggestion, decision="explained",
                                         content="您好，联系人张三，电话13800000000，我局将尽快处理。")
    db.session.commit()
    page = client.get(f"/suggestions/{suggestion.id}")
    assert "举报这条答复" not in text_of(page)  # anonymous visitors see no report form
    login(client, author)
    assert "举报这条答复" in text_of(client.get(f"/suggestions/{suggestion.id}"))
    response = client.post(f"/moderation/report/replies/{reply.id}", data={"reason": "personal_data",
                                                                           "note": "答复里有工作人员的手机号"})
    assert response.status_code == 303
    assert "您已举报" in text_of(client.get(f"/suggestions/{suggestion.id}"))
    client.post("/accounts/logout")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "replied"  # replies are never hidden automatically

    login(client, moderator)
    queue = text_of(client.get("/moderation/?tab=reported"))
    assert "答复里有工作人员的手机号" in queue and "泄露个人信息 ×1" in queue
    client.post("/moderation/decide?tab=reported", data={"single": f"hide:replies-{reply.id}"})
    db.session.expire_all()
    assert db.session.get(Reply, reply.id).hidden_at is not None
    assert actions()[-2:] == [("reply.hide", moderator.id), ("moderation.uphold_reports", moderator.id)]
    public = text_of(app.test_client().get(f"/suggestions/{suggestion.id}"))
    assert "13800000000" not in public and "答复的内容已被审核员屏蔽" in public and "解释说明" in public
    api = app.test_client().get(f"/api/v1/proposals/{suggestion.id}").get_json()
    assert api["replies"][0]["content"] == "" and api["replies"][0]["decision"] == "explained"
    assert f"replies-{reply.id}" in client.get("/moderation/?tab=hidden").get_data(as_text=True)
    client.post("/moderation/decide?tab=hidden", data={"single": f"restore:replies-{reply.id}"})
    db.session.expire_all()
    assert db.session.get(Reply, reply.id).hidden_at is None
    assert actions()[-1] == ("reply.unhide", moderator.id)


# --- automatic hiding cannot be turned against a proposal (issue 12 review) -------------------------------------

def status_of(suggestion) -> str:
    db.session.expire_all()
    return db.session.get(Suggestion, suggestion.id).status


def test_reports_from_the_bodys_own_staff_do_not_count_toward_hiding(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    staff, manager = make_staff(body), make_staff(body, role="manager")
    db.session.commit()
    for user in (staff, manager, reporters[0], reporters[1]):
        assert report(client, user, suggestion.id, "off_topic").status_code == 303
    assert status_of(suggestion) == "published"  # four reports, two of them by the body's staff: two count
    # The staff's reports are recorded and audited all the same; the queue lists all four.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 4
    assert [a for a in actions() if a[0] == "moderation.report"][:2] == [("moderation.report", staff.id),
                                                                         ("moderation.report", manager.id)]
    login(client, moderator)
    assert "4 个账号举报" in text_of(client.get("/moderation/?tab=reported"))
    client.post("/accounts/logout")
    report(client, reporters[2], suggestion.id, "off_topic")  # the third citizen
    assert status_of(suggestion) == "hidden"
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.hide")).detail["reports"] == 3


@pytest.mark.parametrize("stage", ["accepted", "replied"])
def test_reports_never_hide_a_proposal_in_handling(app, client, world, stage):
    body, campaign, author, suggestion, moderator, reporters = world
    staff = make_staff(body)
    services.accept_suggestion(staff, suggestion)
    if stage == "replied":
        services.reply_to_suggestion(staff, suggestion, decision="under_study", content="您好，我局正在研究办理。")
    db.session.commit()
    for user in reporters[:3]:
        assert report(client, user, suggestion.id, "abusive").status_code == 303
    assert status_of(suggestion) == stage
    assert not [a for a in actions() if a[0] == "suggestion.hide"]
    login(client, moderator)  # the reports put it in the queue: moderators decide
    queue = text_of(client.get("/moderation/?tab=reported"))
    assert suggestion.title in queue and "3 个账号举报" in queue and "举报达到规定数量后已自动屏蔽" not in queue


@pytest.mark.parametrize("decision", ["restore", "dismiss"])
def test_after_a_moderator_kept_a_proposal_new_reports_only_flag_it_again(app, client, world, decision):
    body, campaign, author, suggestion, moderator, reporters = world
    more = [make_user(f"later{i}") for i in range(3)]
    db.session.commit()
    first = reporters[:3] if decision == "restore" else reporters[:1]
    for user in first:
        report(client, user, suggestion.id, "abusive")
    assert status_of(suggestion) == ("hidden" if decision == "restore" else "published")
    login(client, moderator)
    tab = "hidden" if decision == "restore" else "reported"
    client.post(f"/moderation/decide?tab={tab}", data={"single": f"{decision}:suggestions-{suggestion.id}"})
    client.post("/accounts/logout")
    assert status_of(suggestion) == "published"
    for user in more:  # as many new reports as hid it the first time
        assert report(client, user, suggestion.id, "abusive").status_code == 303
    assert status_of(suggestion) == "published"
    login(client, moderator)
    queue = text_of(client.get("/moderation/?tab=reported"))
    assert suggestion.title in queue and "3 个账号举报" in queue


@pytest.mark.app_config({"RATELIMIT_ENABLED": True, "REPORT_RATE_LIMIT": "2 per hour"})
def test_reports_are_limited_per_account(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    others = [make_suggestion(campaign, author, title=f"建议第{n}处公园增设垃圾桶") for n in range(3)]
    db.session.commit()
    login(client, reporters[0])
    answers = [client.post(f"/moderation/report/suggestions/{s.id}", data={"reason": "off_topic"})
               for s in others]
    assert [a.status_code for a in answers] == [303, 303, 429]
    refused = answers[2]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "您在短时间内提交的举报过多" in text_of(refused) and "1小时" in text_of(refused)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 2
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    english = client.post(f"/moderation/report/suggestions/{suggestion.id}", data={"reason": "off_topic"})
    assert english.status_code == 429 and "You have sent many reports in a short time" in text_of(english)
    client.post("/accounts/logout")
    assert report(client, reporters[1], others[2].id, "off_topic").status_code == 303  # another account's own count
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 3


def campaign_form(campaign, **fields) -> dict:
    return {"title": campaign.title, "categories": [c.id for c in campaign.categories],
            "opens_at": "2026-01-01T09:00", **fields}


def test_only_an_administrator_lets_fewer_than_three_reports_hide_a_proposal(app, client, world):
    body, campaign, author, suggestion, moderator, reporters = world
    manager, admin = make_staff(body, role="manager"), make_user("site_admin", role="admin")
    category = campaign.categories[0]
    db.session.commit()
    login(client, manager)
    for value in ("1", "2"):
        refused = client.post(f"/campaigns/{campaign.id}/edit", data=campaign_form(campaign, report_hide_threshold=value))
        assert refused.status_code == 422 and "只有管理员才能把自动屏蔽所需的举报数设为少于 3" in text_of(refused)
    new = client.post("/campaigns/new", data={"body_id": body.id, "title": "青溪县公园管理建议征集",
                                              "categories": [category.id], "opens_at": "2026-01-01T09:00",
                                              "report_hide_threshold": "1"})
    assert new.status_code == 422 and "少于 3" in text_of(new)
    db.session.expire_all()
    assert db.session.get(type(campaign), campaign.id).report_hide_threshold == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(type(campaign))) == 1
    # 3 and more, or 0 (never hide automatically), are the managers' to choose.
    for value in ("5", "0"):
        saved = client.post(f"/campaigns/{campaign.id}/edit", data=campaign_form(campaign, report_hide_threshold=value))
        assert saved.status_code == 303
    client.post("/accounts/logout")
    login(client, admin)
    assert client.post(f"/campaigns/{campaign.id}/edit",
                       data=campaign_form(campaign, report_hide_threshold="1")).status_code == 303
    client.post("/accounts/logout")
    # What an administrator set stays when a manager edits something else, but a manager cannot move it to 2.
    login(client, manager)
    assert client.post(f"/campaigns/{campaign.id}/edit", data=campaign_form(
        campaign, title="青溪县市容环境建议征集（延长）", report_hide_threshold="1")).status_code == 303
    assert client.post(f"/campaigns/{campaign.id}/edit",
                       data=campaign_form(campaign, report_hide_threshold="2")).status_code == 422
    db.session.expire_all()
    edited = db.session.get(type(campaign), campaign.id)
    assert (edited.title, edited.report_hide_threshold) == ("青溪县市容环境建议征集（延长）", 1)
    changes = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "campaign.update")
                                 .order_by(AuditLog.id)).all()  # the refused edits left no row
    assert [(row.actor_id, "report_hide_threshold" in row.detail["changed"]) for row in changes] == [
        (manager.id, True), (manager.id, True), (admin.id, True), (manager.id, False)]
