"""Reply deadlines in working days on China's calendar, public extensions, overdue lists, and reminder e-mails
delivered to a real SMTP server (aiosmtpd)."""
import email
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from campaigns.models import Campaign
from core.audit import AuditLog
from core.extensions import db
from core.mail import OutboxMessage
from core.models import utcnow
from core.workdays import add_working_days, is_working_day, working_days_between
from suggestions import services
from suggestions.deadlines import extend_deadline, overdue_by_body, today
from suggestions.models import DeadlineExtension
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user


def text_of(response) -> str:
    """The page's text: inline tags dropped, block tags read as spaces."""
    html = re.sub(r"</?(span|strong|em|a|mark|time|code)\b[^>]*>", "", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_national_day_and_its_make_up_working_day_are_counted_right():
    assert not is_working_day(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 10))          # a Saturday worked in exchange (调休)
    # Accepted on Tuesday 29 September 2026: 30 Sep, 8, 9, 10 (Sat), 12, 13, 14, 15, 16, 19 October.
    assert add_working_days(date(2026, 9, 29), 10) == date(2026, 10, 19)
    assert add_working_days(date(2026, 9, 29), 20) == date(2026, 11, 2)
    assert working_days_between(date(2026, 9, 29), date(2026, 10, 19)) == 10
    # A year the calendar package does not know yet: weekends and fixed-date holidays (元旦).
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def _accepted(body, *, days_ago: int = 0, investigation: bool = False):
    campaign = make_campaign(body)
    suggestion = make_suggestion(campaign)
    services.accept_suggestion(make_staff(body), suggestion, utcnow() - timedelta(days=days_ago),
                               needs_investigation=investigation)
    return suggestion


def test_acceptance_starts_the_deadline_in_working_days(app):
    body = make_body()
    campaign = make_campaign(body)
    suggestion = make_suggestion(campaign)
    # 10:00 Beijing time on 29 September 2026.
    services.accept_suggestion(make_staff(body), suggestion, datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    assert suggestion.reply_due_on == date(2026, 10, 19)
    investigated = make_suggestion(campaign, title="关于城南污水处理厂异味的调查请求")
    services.accept_suggestion(make_staff(body), investigated, datetime(2026, 9, 29, 2, 0, tzinfo=UTC),
                               needs_investigation=True)
    assert investigated.reply_due_on == date(2026, 11, 2) and investigated.needs_investigation


def test_an_extension_moves_the_deadline_and_is_shown_publicly(app, client):
    body = make_body()
    suggestion = _accepted(body)
    staff = make_staff(body)
    first_due = suggestion.reply_due_on
    new_due = first_due + timedelta(days=14)
    login(client, staff)
    response = client.post(f"/suggestions/{suggestion.id}/extend",
                           data={"new_due_on": new_due.isoformat(), "reason": "需会同住建部门现场勘查"})
    assert response.status_code == 303
    db.session.expire_all()
    assert suggestion.reply_due_on == new_due
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.extend_deadline"))
    assert entry.actor_id == staff.id and entry.detail["reason"] == "需会同住建部门现场勘查"
    client.post("/accounts/logout")
    page = text_of(app.test_client().get(f"/suggestions/{suggestion.id}"))
    assert new_due.isoformat() in page and first_due.isoformat() in page and "需会同住建部门现场勘查" in page


@pytest.mark.parametrize("case", ["past", "earlier", "no_reason", "not_a_date", "citizen", "other_body"])
def test_bad_extensions_are_refused_and_change_nothing(app, client, case):
    body = make_body()
    suggestion = _accepted(body)
    due = suggestion.reply_due_on
    data = {"new_due_on": (due + timedelta(days=7)).isoformat(), "reason": "需要进一步调查"}
    user, expected, message = make_staff(body), 303, ""
    if case == "past":
        data["new_due_on"], expected, message = (today() - timedelta(days=1)).isoformat(), 422, "必须是将来的日期"
    elif case == "earlier":
        data["new_due_on"], expected, message = due.isoformat(), 422, "必须晚于当前期限"
    elif case == "no_reason":
        data["reason"], expected, message = "", 422, "不能为空"
    elif case == "not_a_date":
        data["new_due_on"], expected = "下周一", 422
    elif case == "citizen":
        user, expected = make_user(), 403
    else:
        user, expected = make_staff(make_body()), 403
    login(client, user)
    response = client.post(f"/suggestions/{suggestion.id}/extend", data=data)
    assert response.status_code == expected
    if message:
        page = client.get(response.headers["Location"]) if expected == 303 else response
        assert message in page.get_data(as_text=True)
    if case == "past":  # the refused date field still names the working-day count under it as a description
        assert 'aria-describedby="new_due_on-err extension-count"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert suggestion.reply_due_on == due
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineExtension)) == 0


def test_overdue_proposals_show_in_the_staff_list_and_publicly(app, client):
    body = make_body(name="青溪县住房和城乡建设局")
    late = _accepted(body, days_ago=40)
    on_time = _accepted(body)
    staff = make_staff(body)
    login(client, staff)
    overdue_page = text_of(client.get("/suggestions/inbox?state=overdue"))
    assert late.title in overdue_page
    assert f"/suggestions/{on_time.id}" not in client.get("/suggestions/inbox?state=overdue").get_data(as_text=True)
    assert "已超期" in text_of(client.get(f"/suggestions/{late.id}"))
    public = app.test_client().get("/suggestions/timeliness").get_data(as_text=True)
    row = re.search(r"青溪县住房和城乡建设局</a></td>\s*<td>(\d+)</td><td>(\d+)</td>", public)
    assert row and row.groups() == ("2", "1")


def test_reminders_reach_a_real_smtp_server_once_a_day(app, smtp_server):
    port, inbox = smtp_server
    body = make_body(name="临川市交通运输局")
    body.contact_email = "jiaotong@linchuan.example.cn"
    late = _accepted(body, days_ago=40)
    late.title = "东门路口信号灯故障请回电13812345678"
    quiet = make_body()
    quiet.contact_email = "quiet@example.cn"
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["suggestions", "remind"])
    assert result.exit_code == 0 and "1 reminders queued" in result.output
    assert runner.invoke(args=["suggestions", "remind"]).output.startswith("0 reminders")  # once a day
    result = runner.invoke(args=["mail", "send-outbox"])
    assert result.exit_code == 0 and "1 messages sent" in result.output, result.output
    assert len(inbox.messages) == 1
    recipients, content = inbox.messages[0]
    assert recipients == ["jiaotong@linchuan.example.cn"]
    assert f"#{late.id}" in content.replace("=\n", "") or str(late.id) in content
    text = email.message_from_string(content).get_payload(decode=True).decode()
    assert "东门路口信号灯故障" in text and "13812345678" not in text  # mail is forwarded: contact details masked
    assert db.session.scalar(sa.select(OutboxMessage.sent_at)) is not None
    assert runner.invoke(args=["mail", "send-outbox"]).output.startswith("0 messages sent")


def test_reaching_the_support_threshold_makes_a_reply_mandatory(app, client):
    body = make_body(name="临川市人民政府")
    campaign = make_campaign(body)
    campaign.support_threshold, campaign.support_window_days = 3, 60
    suggestion = make_suggestion(campaign)
    for _ in range(2):
        services.vote(make_user(), suggestion, 1)
    assert suggestion.threshold_reached_at is None and suggestion.reply_due_on is None
    services.vote(make_user(), suggestion, 1)
    assert suggestion.threshold_reached_at is not None
    assert suggestion.reply_due_on == add_working_days(today(), campaign.reply_working_days)
    assert suggestion.status == "published"  # not accepted by itself; the body must still act on it
    db.session.commit()
    page = text_of(app.test_client().get(f"/suggestions/{suggestion.id}"))
    assert "3 个支持" in page and "必须答复" in page and suggestion.reply_due_on.isoformat() in page
    public = app.test_client().get("/suggestions/timeliness").get_data(as_text=True)
    assert re.search(r"临川市人民政府</a></td>\s*<td>1</td><td>0</td>", public)  # counted as awaiting a reply
    # Accepting later keeps the earlier, mandatory deadline.
    services.accept_suggestion(make_staff(body), suggestion)
    assert suggestion.reply_due_on == add_working_days(today(), campaign.reply_working_days)


def test_support_outside_the_window_does_not_trigger_the_threshold(app):
    campaign = make_campaign()
    campaign.support_threshold, campaign.support_window_days = 1, 60
    suggestion = make_suggestion(campaign)
    suggestion.published_at = utcnow() - timedelta(days=61)
    services.vote(make_user(), suggestion, 1)
    assert suggestion.threshold_reached_at is None and suggestion.reply_due_on is None


@pytest.mark.parametrize("fields,message", [
    ({"support_threshold": "0"}, "支持数门槛"), ({"support_window_days": "30"}, "需要先设置门槛"),
    ({"max_extensions": "9"}, "0 至 5 次"), ({"max_extension_working_days": "0"}, "1 至 60 个工作日"),
    ({"report_hide_threshold": "-1"}, "0（从不）至 1,000"),
    ({"reply_working_days": "0"}, "1 到 60 个工作日"), ({"investigation_working_days": "5"}, "不少于通常期限")])
def test_bad_campaign_deadline_settings_are_refused(app, client, fields, message):
    body = make_body()
    category = make_category()
    login(client, make_staff(body, role="manager"))
    data = {"body_id": body.id, "title": "临川市养老服务设施建设建议征集", "categories": [category.id],
            "opens_at": "2026-01-01T09:00", "reply_working_days": "10", "investigation_working_days": "20", **fields}
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def timeliness_row(app, name: str) -> tuple[str, ...]:
    public = app.test_client().get("/suggestions/timeliness").get_data(as_text=True)
    row = re.search(name + r"</a></td>\s*" + r"<td>(\d+)</td>" * 4, public)
    return row.groups() if row else ()


def test_the_testers_case_extending_overdue_work_to_2099_is_refused(app, client):
    """Issue 12: five of a body's eleven overdue proposals were extended to 2099-12-31 and its overdue count
    fell from 11 to 6. An overdue deadline can no longer be extended, and the count stays 11."""
    body = make_body(name="青溪县自然资源局")
    late = [_accepted(body, days_ago=40) for _ in range(11)]
    staff = make_staff(body)
    login(client, staff)
    assert timeliness_row(app, "青溪县自然资源局") == ("11", "11", "11", "0")
    for suggestion in late[:5]:
        response = client.post(f"/suggestions/{suggestion.id}/extend",
                               data={"new_due_on": "2099-12-31", "reason": "情况复杂，需要延期"})
        assert response.status_code == 422
        assert "已超期的建议不能再延期" in text_of(response)
        assert 'name="new_due_on"' not in response.get_data(as_text=True)  # no form that can only be refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineExtension)) == 0
    assert timeliness_row(app, "青溪县自然资源局") == ("11", "11", "11", "0")


def test_an_extension_is_bounded_in_number_and_working_days(app, client):
    body = make_body(name="青溪县水利局")
    suggestion = _accepted(body)
    due = suggestion.reply_due_on
    assert (suggestion.campaign.max_extensions, suggestion.campaign.max_extension_working_days) == (1, 15)
    latest = add_working_days(due, 15)
    login(client, make_staff(body))
    page = client.get(f"/suggestions/{suggestion.id}")
    assert f"最晚为 {latest.isoformat()}" in text_of(page)
    date_input = re.search(r'<input[^>]*name="new_due_on"[^>]*>', page.get_data(as_text=True)).group()
    assert f'max="{latest.isoformat()}"' in date_input  # the picker offers only the dates allowed
    assert f'min="{(max(due, today()) + timedelta(days=1)).isoformat()}"' in date_input
    for far in ("2099-12-31", (latest + timedelta(days=1)).isoformat()):
        response = client.post(f"/suggestions/{suggestion.id}/extend", data={"new_due_on": far, "reason": "需要调查"})
        assert response.status_code == 422
        assert f"每次延期最多延长 15 个工作日：新的答复期限最晚为 {latest.isoformat()}" in text_of(response)
    db.session.expire_all()
    assert suggestion.reply_due_on == due
    response = client.post(f"/suggestions/{suggestion.id}/extend",
                           data={"new_due_on": latest.isoformat(), "reason": "需会同水务公司现场勘查"})
    assert "答复期限已延长" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert suggestion.reply_due_on == latest and suggestion.first_reply_due_on == due
    page = text_of(client.get(f"/suggestions/{suggestion.id}"))
    assert f"答复期限由 {due.isoformat()} 延长至 {latest.isoformat()}，理由：需会同水务公司现场勘查" in page
    # One extension per proposal by default: a second is refused.
    response = client.post(f"/suggestions/{suggestion.id}/extend",
                           data={"new_due_on": (latest + timedelta(days=1)).isoformat(), "reason": "还需要时间"})
    assert response.status_code == 422 and "最多可延期 1 次，已无剩余次数" in text_of(response)
    db.session.expire_all()
    assert suggestion.reply_due_on == latest
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineExtension)) == 1


def test_after_the_last_extension_the_form_is_gone(app, client):
    """The page said that no extension was left, yet still offered a date, a reason and the button."""
    body = make_body(name="青溪县水利局")
    suggestion = _accepted(body)
    staff = make_staff(body)
    login(client, staff)
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert 'name="new_due_on"' in page and f'action="/suggestions/{suggestion.id}/extend#extend-heading"' in page
    extend_deadline(staff, suggestion, suggestion.reply_due_on + timedelta(days=1), "需会同水务公司现场勘查")
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "这条建议已没有可用的延期次数。" in page
    assert 'name="new_due_on"' not in page and f'action="/suggestions/{suggestion.id}/extend#extend-heading"' not in page


def test_a_refused_date_keeps_what_was_typed_and_is_written_as_the_help_writes_it(app, client):
    body = make_body(name="青溪县水利局")
    suggestion = _accepted(body)
    latest = add_working_days(suggestion.reply_due_on, 15)
    too_late = (latest + timedelta(days=1)).isoformat()
    login(client, make_staff(body))
    response = client.post(f"/suggestions/{suggestion.id}/extend",
                           data={"new_due_on": too_late, "reason": "需会同水务公司现场勘查"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    date_input = re.search(r'<input[^>]*name="new_due_on"[^>]*>', html).group()
    assert f'value="{too_late}"' in date_input and 'aria-invalid="true"' in date_input
    assert re.search(r'<input[^>]*name="reason"[^>]*value="需会同水务公司现场勘查"', html)
    text = text_of(response)
    assert f"新的答复期限最晚为 {latest.isoformat()}" in text            # the refusal …
    assert f"最晚为 {latest.isoformat()}。延期理由将公开显示" in text     # … and the help, alike
    assert f"{latest.year}年{latest.month}月" not in text
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineExtension)) == 0


def test_timeliness_counts_overdue_against_the_first_and_the_final_deadline(app):
    body = make_body(name="青溪县林业局")
    campaign = make_campaign(body)
    campaign.max_extensions = 2
    extended, plain = make_suggestion(campaign), make_suggestion(campaign, title="关于林区防火通道的建议")
    staff = make_staff(body)
    for suggestion in (extended, plain):
        services.accept_suggestion(staff, suggestion, datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    first = extended.reply_due_on
    assert first == date(2026, 10, 19) and extended.first_reply_due_on == first
    on = date(2026, 10, 12)
    extend_deadline(staff, extended, date(2026, 10, 26), "需要补充调查", on=on)
    extend_deadline(staff, extended, date(2026, 11, 2), "等待上级批复", on=on)
    assert extended.first_reply_due_on == first and len(extended.extensions) == 2
    db.session.flush()
    # After the first deadline, before the final one: overdue against the first only.
    (row,) = overdue_by_body(on=date(2026, 10, 20))
    assert (row.awaiting, row.overdue_first, row.overdue_final, row.extended) == (2, 2, 1, 1)
    (row,) = overdue_by_body(on=date(2026, 11, 3))
    assert (row.overdue_first, row.overdue_final) == (2, 2)
