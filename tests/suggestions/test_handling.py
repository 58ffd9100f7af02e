"""Routing a proposal: a lead body and co-handling bodies at acceptance, transfers with a public reason, and
the routing model's suggestions (trained on the platform's own routed proposals; staff decide)."""
import re

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from suggestions import services
from suggestions.models import Status, Transfer
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_lead_body_and_co_handlers_are_chosen_at_acceptance(app, client):
    congress = make_body(name="青溪县人大常委会")
    roads = make_body(name="青溪县交通运输局")
    police = make_body(name="青溪县公安局交通管理大队")
    suggestion = make_suggestion(make_campaign(congress))
    roads_staff = make_staff(roads)
    login(client, make_staff(congress))
    response = client.post(f"/suggestions/{suggestion.id}/accept",
                           data={"lead_body": roads.id, "co_bodies": [police.id, roads.id]})
    assert response.status_code == 303
    db.session.expire_all()
    assert suggestion.handling_body_id == roads.id
    assert [c.body_id for c in suggestion.co_handlers] == [police.id]
    page = text_of(app.test_client().get(f"/suggestions/{suggestion.id}"))
    assert "由青溪县交通运输局办理" in page and "青溪县公安局交通管理大队" in page
    login(client, roads_staff)  # the lead body's staff reply, though the campaign is the congress's
    response = client.post(f"/suggestions/{suggestion.id}/reply",
                           data={"decision": "adopted", "content": "您好，已安排在城南小学门口设置护学岗。"})
    assert response.status_code == 303
    db.session.expire_all()
    assert suggestion.status == Status.REPLIED and suggestion.replies[0].body_id == roads.id


def _accepted():
    body = make_body(name="青溪县住房和城乡建设局")
    suggestion = make_suggestion(make_campaign(body))
    staff = make_staff(body)
    services.accept_suggestion(staff, suggestion)
    return suggestion, staff


def test_a_transfer_moves_the_proposal_and_is_shown_publicly(app, client):
    suggestion, staff = _accepted()
    water = make_body(name="青溪县水务局")
    login(client, staff)
    response = client.post(f"/suggestions/{suggestion.id}/transfer",
                           data={"to_body": water.id, "reason": "供水管网属水务局职责"})
    assert response.status_code == 303
    db.session.expire_all()
    assert suggestion.handling_body_id == water.id
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.transfer"))
    assert entry.actor_id == staff.id and entry.detail["to_body"] == water.id
    page = text_of(app.test_client().get(f"/suggestions/{suggestion.id}"))
    assert "转交青溪县水务局" in page and "供水管网属水务局职责" in page


def test_the_transfer_form_makes_staff_choose_the_body(app, client):
    """The list of bodies preselected the first of them: a transfer sent without a look went there."""
    suggestion, staff = _accepted()
    make_body(name="青溪县水务局")
    login(client, staff)
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    select = re.search(r'<select name="to_body"[^>]*>(.*?)</select>', page, re.S)
    assert "required" in select.group()
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    assert options[0] == (' value="" selected', "请选择…") and len(options) > 1
    assert not any("selected" in attributes for attributes, _name in options[1:])


@pytest.mark.parametrize("case", ["no_choice", "no_such_body", "no_reason", "same_body", "citizen", "not_accepted"])
def test_bad_transfers_are_refused_and_write_nothing(app, client, case):
    suggestion, staff = _accepted()
    other = make_body(name="青溪县水务局")
    data, user, expected, message = {"to_body": other.id, "reason": "职责调整"}, staff, 303, ""
    if case == "no_choice":
        data["to_body"], message = "", "请选择接收转交的机构。"
    elif case == "no_such_body":
        data["to_body"], message = 99999, "请从列表中选择机构"
    elif case == "no_reason":
        data["reason"], message = "", "不能为空"
    elif case == "same_body":
        data["to_body"], message = suggestion.handling_body_id, "已在该机构办理"
    elif case == "citizen":
        user, expected = make_user(), 403
    else:
        suggestion = make_suggestion(suggestion.campaign, title="尚未受理的建议：增设垃圾分类投放点")
        message = "只有已受理且尚未答复"
    handling_before = suggestion.handling_body_id
    login(client, user)
    response = client.post(f"/suggestions/{suggestion.id}/transfer", data=data)
    assert response.status_code == expected
    if message:
        assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert suggestion.handling_body_id == handling_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.transfer")) is None


TRAINING = {
    "transport": ["公交线路太少，建议增开城南到火车站的公交", "路口红绿灯时间太短，行人过马路来不及",
                  "建议在学校门口施划斑马线并设置减速带", "高速出口经常拥堵，建议拓宽匝道",
                  "公交站台没有遮雨棚，雨天候车很不方便", "小区门口道路坑洼不平，车辆通行困难"],
    "education": ["学校食堂饭菜质量差，希望加强监管", "建议增加城南片区的公办幼儿园学位",
                  "中小学课后服务时间太短，家长接送困难", "学校操场长期不开放，建议假期向居民开放",
                  "教师编制不足，班级人数太多", "希望增加乡村学校的音乐美术老师"],
}


def test_the_routing_model_suggests_but_staff_decide(app, client):
    roads = make_body(name="青溪县交通运输局")
    schools = make_body(name="青溪县教育局")
    transport, education = make_category("transport", "交通运输", "Transport"), make_category(
        "education", "教育", "Education")
    campaign = make_campaign(roads, categories=[transport, education])
    staff = make_staff(roads)
    result = app.test_cli_runner().invoke(args=["suggestions", "train-router"])
    assert result.exit_code == 0 and "not enough routed proposals" in result.output
    for code, texts in TRAINING.items():
        body, category = (roads, transport) if code == "transport" else (schools, education)
        for i, text in enumerate(texts * 2):
            s = services.submit_suggestion(make_user(), campaign, title=text[:20], body=f"{text}。第{i}条。",
                                           category=category, message_type="suggestion")
            services.accept_suggestion(staff, s)
            s.handling_body_id = body.id
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["suggestions", "train-router"])
    assert result.exit_code == 0 and result.output.count("trained on 24 routed proposals") == 2, result.output
    fresh = make_suggestion(campaign, title="幼儿园学位不够", body="我家孩子明年上幼儿园，附近公办幼儿园学位太少，希望增加。")
    db.session.commit()
    login(client, staff)
    page = text_of(client.get(f"/suggestions/{fresh.id}"))
    hints = page[page.index("路由模型建议"):][:300]
    assert hints.index("教育") < hints.index("交通运输")              # the likelier category first
    assert hints.index("青溪县教育局") < hints.index("青溪县交通运输局")
    db.session.expire_all()
    assert fresh.status == Status.PUBLISHED and fresh.handling_body_id is None  # nothing routed by itself
