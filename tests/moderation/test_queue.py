"""The moderation queue: who sees which tabs and items, bulk decisions (all of them or none), and the audit-log
viewer's scope and filters."""
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from moderation import services as moderation_services
from moderation import words
from suggestions import services
from suggestions.models import Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def statuses(ids) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Suggestion, i).status for i in ids]


def audit_rows(page) -> str:
    """The text of the audit log's rows only (the filters' choices name every action too)."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    found = re.search(r'<table[^>]*id="audit".*?</table>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))


@pytest.fixture
def screened(app):
    """A screened campaign of one body with three pending proposals, and one of another body."""
    body, other_body = make_body("临川市教育局"), make_body("临川市卫生健康委员会")
    campaign = make_campaign(body, title="临川市义务教育建议征集", screening=True)
    pending = [make_suggestion(campaign, title=f"关于第{n}中学课后服务的建议") for n in ("一", "二", "三")]
    elsewhere = make_suggestion(make_campaign(other_body, title="卫生健康建议征集", screening=True),
                                title="关于社区医院夜间门诊的建议")
    staff = make_staff(body)
    db.session.commit()
    return body, staff, pending, elsewhere


def test_staff_publish_several_pending_proposals_at_once(app, client, screened):
    body, staff, pending, elsewhere = screened
    login(client, staff)
    page = text_of(client.get("/moderation/"))
    assert all(s.title in page for s in pending) and elsewhere.title not in page  # their own campaigns only
    assert "先审后发 (3)" in page and "被举报" not in page  # no "reported" or "hidden" tab for staff
    before = audit_count()
    response = client.post("/moderation/decide?tab=screening", data={
        "items": [f"suggestions-{pending[0].id}", f"suggestions-{pending[2].id}"], "action": "publish"})
    assert response.status_code == 303
    assert "已完成：对 2 项执行“发布”" in text_of(client.get(response.headers["Location"]))
    assert statuses(s.id for s in pending) == ["published", "pending", "published"]
    rows = db.session.execute(sa.select(AuditLog.action, AuditLog.actor_id, AuditLog.target_id)
                              .where(AuditLog.id > before).order_by(AuditLog.id)).all()
    assert rows == [("suggestion.publish", staff.id, pending[0].id), ("suggestion.publish", staff.id, pending[2].id)]
    # Bulk rejection with one reason code.
    client.post("/moderation/decide?tab=screening", data={"items": [f"suggestions-{pending[1].id}"],
                                                          "action": "reject", "reject_reason": "off_topic"})
    assert statuses([pending[1].id]) == ["rejected"]
    assert db.session.get(Suggestion, pending[1].id).reject_reason == "off_topic"


def current_tab(response) -> str:
    """The queue tab marked as open, with its count."""
    found = re.search(r'<a href="[^"]*" aria-current="page">(.*?)</a>', response.get_data(as_text=True), re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_queue_opens_on_the_first_tab_with_items(app, client):
    body = make_body("临川市市场监督管理局")
    make_campaign(body, title="临川市食品安全建议征集", screening=True)  # screened, nothing waiting
    reported = make_suggestion(make_campaign(body, title="临川市消费环境建议征集"), title="建议整治商场虚假促销")
    moderation_services.report(make_user(), reported, "off_topic")
    moderator, staff = make_user(role="moderator"), make_staff(body)
    db.session.commit()
    login(client, moderator)
    response = client.get("/moderation/")
    assert current_tab(response) == "被举报 (1)" and reported.title in text_of(response)
    assert "先审后发 (0)" in text_of(response)  # every tab says how many items it holds
    # An explicit choice stays, even for an empty tab.
    response = client.get("/moderation/?tab=screening")
    assert current_tab(response) == "先审后发 (0)" and "暂无待办事项" in text_of(response)
    assert current_tab(client.get("/moderation/?page=1")) == "被举报 (1)"
    client.post("/accounts/logout")
    # Staff (screening and held tabs only): a held submission opens the held tab; nothing at all, the first tab.
    login(client, staff)
    assert current_tab(client.get("/moderation/")) == "先审后发 (0)"
    admin = make_user(role="admin")
    words.add_words(admin, "advertising", "代开发票")
    held = make_suggestion(make_campaign(body, title="临川市营商环境建议征集"), title="有人在门口喊代开发票")
    db.session.commit()
    assert held.status == "pending"
    response = client.get("/moderation/")
    assert current_tab(response) == "敏感词待审 (1)" and held.title in text_of(response)


def test_a_bulk_decision_is_all_or_nothing(app, client, screened):
    body, staff, pending, elsewhere = screened
    moderator = make_user(role="moderator")
    services.publish_suggestion(staff, pending[1])
    db.session.commit()
    login(client, moderator)
    before = audit_count()
    response = client.post("/moderation/decide?tab=screening", data={
        "items": [f"suggestions-{s.id}" for s in pending], "action": "publish"})
    assert response.status_code == 303
    message = text_of(client.get(response.headers["Location"]))
    assert f"建议 #{pending[1].id}：" in message  # names the item that could not take the action
    assert statuses(s.id for s in pending) == ["pending", "published", "pending"]  # the first was not published
    assert audit_count() == before
    # A moderator may publish the other body's proposal; a body's staff may not (403, nothing changes).
    client.post("/moderation/decide", data={"items": [f"suggestions-{elsewhere.id}"], "action": "publish"})
    assert statuses([elsewhere.id]) == ["published"]
    client.post("/accounts/logout")
    login(client, staff)
    response = client.post("/moderation/decide", data={
        "items": [f"suggestions-{pending[0].id}", f"suggestions-{elsewhere.id}"], "action": "hide"})
    assert response.status_code == 403
    assert statuses([pending[0].id, elsewhere.id]) == ["pending", "published"]


@pytest.mark.parametrize("data,message", [
    ({"items": ["suggestions-999999"], "action": "publish"}, "不存在"),
    ({"items": ["bodies-1"], "action": "publish"}, "不存在"),
    ({"items": [], "action": "publish"}, "请至少选择一项"),
    ({"items": ["suggestions-1"], "action": "explode"}, "请选择操作"),
    ({"single": "publish:replies-1"}, "不存在"),
    ({"items": [f"suggestions-{n}" for n in range(1, 102)], "action": "publish"}, "每次最多处理 100 项")])
def test_bad_decisions_are_refused_with_a_message(app, client, screened, data, message):
    moderator = make_user(role="moderator")
    db.session.commit()
    login(client, moderator)
    before = audit_count()
    response = client.post("/moderation/decide?tab=screening", data=data)
    assert response.status_code == 303 and message in text_of(client.get(response.headers["Location"]))
    assert audit_count() == before


def test_citizens_have_no_queue_and_reading_it_writes_nothing(app, client, screened):
    login(client, make_user())
    assert client.get("/moderation/").status_code == 403
    assert client.post("/moderation/decide", data={"single": "publish:suggestions-1"}).status_code == 403
    client.post("/accounts/logout")
    moderator = make_user(role="moderator")
    words.seed_default_words()
    db.session.commit()
    login(client, moderator)
    before = audit_count()
    for tab in ("screening", "held", "reported", "hidden", "nonsense"):
        assert client.get(f"/moderation/?tab={tab}&page=99999999999").status_code == 200
    assert audit_count() == before


# --- the audit-log viewer ------------------------------------------------------------------------------------

@pytest.fixture
def two_bodies(app):
    """Actions in two bodies' campaigns: a manager of the first, staff of the first, an administrator."""
    first, second = make_body("江南省交通运输厅"), make_body("江南省生态环境厅")
    manager, staff = make_staff(first, "first_manager", role="manager"), make_staff(first, "first_staff")
    admin = make_user("audit_admin", role="admin")
    mine = make_suggestion(make_campaign(first), title="建议优化高速公路服务区设置")
    theirs = make_suggestion(make_campaign(second), title="建议加强饮用水源地保护")
    moderation_services.hide(make_user("audit_mod", role="moderator"), theirs, "测试")
    services.accept_suggestion(staff, mine)
    db.session.commit()
    return first, second, manager, staff, admin, mine, theirs


def test_a_body_manager_reads_only_the_rows_of_their_bodies(app, client, two_bodies):
    first, second, manager, staff, admin, mine, theirs = two_bodies
    login(client, manager)
    page = audit_rows(client.get("/moderation/audit"))
    assert f"建议 #{mine.id}" in page and "受理建议" in page
    assert f"建议 #{theirs.id}" not in page and "屏蔽建议" not in page
    # Asking for the other body's proposal by number finds nothing.
    assert "没有符合条件的记录" in text_of(client.get(f"/moderation/audit?target_type=suggestions&target_id={theirs.id}"))
    client.post("/accounts/logout")
    login(client, staff)  # staff who do not manage the body have no audit log
    assert client.get("/moderation/audit").status_code == 403
    client.post("/accounts/logout")
    login(client, admin)
    page = audit_rows(client.get("/moderation/audit"))
    assert f"建议 #{mine.id}" in page and f"建议 #{theirs.id}" in page and "audit_mod" in page


def test_the_audit_log_filters_and_pages(app, client, two_bodies):
    first, second, manager, staff, admin, mine, theirs = two_bodies
    campaign = mine.campaign
    for n in range(25):
        make_suggestion(campaign, title=f"第{n}条关于公路养护的建议")
    old = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.accept"))
    old.created_at = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    db.session.commit()
    login(client, admin)
    response = client.get("/moderation/audit?action=suggestion.submit")
    page = audit_rows(response)
    assert "提交建议" in page and "受理建议" not in page and "第 1 页，共 2 页" in text_of(response)
    second_page = text_of(client.get("/moderation/audit?action=suggestion.submit&page=2"))
    assert "第 2 页，共 2 页" in second_page
    prefixed = audit_rows(client.get(f"/moderation/audit?action=suggestion.&target_type=suggestions&target_id={mine.id}"))
    assert "受理建议" in prefixed and "提交建议" in prefixed  # a prefix, one proposal
    by_actor = audit_rows(client.get("/moderation/audit?actor=FIRST_STAFF"))  # user names fold case
    assert "受理建议" in by_actor and "提交建议" not in by_actor
    dated = audit_rows(client.get("/moderation/audit?since=2025-03-01&until=2025-03-01"))
    assert "受理建议" in dated and "提交建议" not in dated
    assert "没有符合条件的记录" in text_of(client.get("/moderation/audit?since=2025-03-02&until=2025-03-02"))
    unknown = text_of(client.get("/moderation/audit?actor=nobody_here"))
    assert "没有这个用户名的用户" in unknown and "没有符合条件的记录" in unknown
    odd = client.get("/moderation/audit?since=9999-12-31&until=0001-01-01&target_id=99999999999&page=x")
    assert odd.status_code == 200 and "请选择 2000 年至 2100 年之间的日期" in text_of(odd)


def test_the_audit_log_shows_login_names_to_administrators_only(app, client, two_bodies):
    first, second, manager, staff, admin, mine, theirs = two_bodies
    services.reject_suggestion(staff, make_suggestion(mine.campaign, title="建议在服务区增设充电桩"), "duplicate")
    anonymous = make_user("zhang_login_name")  # no display name: others see a pseudonym
    named = make_user("wang_login_name", display_name="王小明")
    published = make_suggestion(make_campaign(first), title="建议规范收费站车道指示")
    moderation_services.report(anonymous, published, "abusive")
    moderation_services.report(named, published, "off_topic")
    db.session.commit()
    login(client, manager)
    page = client.get("/moderation/audit").get_data(as_text=True)
    assert "举报内容" in audit_rows(page) and "不予发布" in audit_rows(page)
    assert anonymous.public_name in page and "王小明" in page and staff.public_name in page
    for user in (anonymous, named, staff, manager, admin):
        assert user.username not in page
    # No filter by login name for them: no field, and a name in the address neither filters nor says whether an
    # account of that name exists.
    assert 'name="actor"' not in page
    answers = [text_of(client.get(f"/moderation/audit?actor={name}")) for name in ("zhang_login_name", "nobody_here")]
    assert answers[0] == answers[1] and "没有这个用户名的用户" not in answers[1]
    rows = audit_rows(client.get("/moderation/audit?actor=zhang_login_name"))
    assert "举报内容" in rows and "不予发布" in rows
    # Filtering by action, object and date stays.
    by_action = audit_rows(client.get("/moderation/audit?action=moderation.report"))
    assert "举报内容" in by_action and "不予发布" not in by_action
    client.post("/accounts/logout")
    login(client, admin)
    page = client.get("/moderation/audit?actor=zhang_login_name").get_data(as_text=True)
    assert 'name="actor"' in page and "zhang_login_name" in page and anonymous.public_name in page
    assert "举报内容" in audit_rows(page) and "不予发布" not in audit_rows(page)


def test_the_queue_masks_personal_data_and_shows_public_names(app, client, screened):
    body, staff, pending, elsewhere = screened
    author = make_user("zhao_login_name")  # no display name
    held = make_suggestion(pending[0].campaign, author, title="学校门口拥堵，请回电13812345678",
                           body="我叫赵小龙，电话13812345678，家住锦绣路88号3栋2单元501室，建议学校门口增设红绿灯。")
    reported = make_suggestion(make_campaign(body, title="临川市校园安全建议征集"), make_user("qian_login_name"),
                               title="建议增加校车班次")
    moderation_services.report(make_user(), reported, "personal_data", "作者把别人的手机13900001111写进去了")
    moderator = make_user(role="moderator")
    db.session.commit()
    for user, tab in ((staff, "screening"), (moderator, "screening"), (moderator, "reported")):
        login(client, user)
        page = client.get(f"/moderation/?tab={tab}").get_data(as_text=True)
        assert "13812345678" not in page and "13900001111" not in page and "赵小龙" not in page
        assert "zhao_login_name" not in page and "qian_login_name" not in page
        if tab == "screening":
            assert "138****5678" in page and "赵**" in page and "3栋2单元501室" not in page
            assert author.public_name in page
        else:
            assert "139****1111" in page and reported.author.public_name in page
        client.post("/accounts/logout")
    # The proposal's own page still shows the text as written to the campaign body's staff.
    login(client, staff)
    assert "13812345678" in client.get(f"/suggestions/{held.id}").get_data(as_text=True)


def test_a_single_decision_takes_the_reason_given_for_its_own_item(app, client, screened):
    body, staff, pending, elsewhere = screened
    login(client, staff)
    page = client.get("/moderation/?tab=screening").get_data(as_text=True)
    assert all(f'name="reject_reason-suggestions-{s.id}"' in page for s in pending)
    # A browser sends every field of the form: the bulk select (its first option) and each item's own reason.
    form = {"reject_reason": "off_topic", "reason": "", **{f"reject_reason-suggestions-{s.id}": "" for s in pending},
            f"reject_reason-suggestions-{pending[0].id}": "duplicate"}
    response = client.post("/moderation/decide?tab=screening",
                           data={**form, "single": f"reject:suggestions-{pending[0].id}"})
    assert response.status_code == 303
    assert statuses([pending[0].id]) == ["rejected"]
    assert db.session.get(Suggestion, pending[0].id).reject_reason == "duplicate"
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.reject"))
    assert (row.actor_id, row.target_id, row.detail["reason"]) == (staff.id, pending[0].id, "duplicate")
    # An item whose own reason was left empty is not rejected with the bulk form's reason.
    before = audit_count()
    response = client.post("/moderation/decide?tab=screening",
                           data={**form, "single": f"reject:suggestions-{pending[1].id}"})
    assert "请选择不予发布的理由" in text_of(client.get(response.headers["Location"]))
    assert statuses([pending[1].id]) == ["pending"] and audit_count() == before
    client.post("/accounts/logout")

    # Hiding one item records the reason typed for it, not the bulk form's.
    shown = make_suggestion(make_campaign(body), title="建议延长图书馆开放时间")
    moderation_services.report(make_user(), shown, "advertising")
    moderator = make_user(role="moderator")
    db.session.commit()
    login(client, moderator)
    assert f'name="reason-suggestions-{shown.id}"' in client.get("/moderation/?tab=reported").get_data(as_text=True)
    client.post("/moderation/decide?tab=reported", data={
        "single": f"hide:suggestions-{shown.id}", "action": "hide", "reason": "批量理由",
        f"reason-suggestions-{shown.id}": "正文含商业广告"})
    assert statuses([shown.id]) == ["hidden"]
    hidden = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.hide"))
    assert (hidden.actor_id, hidden.detail["reason"]) == (moderator.id, "正文含商业广告")
