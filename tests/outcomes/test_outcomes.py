"""From suggestion to policy: staff record the outcome an adopted proposal became, with its stage, progress and
timeline; the public page lists its proposals; bad input is refused and writes nothing."""
import re

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from outcomes.models import Milestone, PolicyOutcome, outcome_suggestions
from suggestions import services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

OUTCOME = {"title": "城区小学上下学时段设置护学岗", "document_name": "青溪县城区学校交通安全管理办法",
           "document_number": "青政办发〔2026〕12号", "issued_on": "2026-11-02", "link": "https://www.qingxi.example.cn/doc/12",
           "clause": "第八条 城区小学上下学时段由交警和学校共同设置护学岗。", "stage": "issued", "progress": "40"}


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def adopted(body, title="建议在城南小学门口增设护学岗"):
    suggestion = make_suggestion(make_campaign(body), title=title)
    services.reply_to_suggestion(make_staff(body), suggestion, decision="adopted",
                                 content="您的建议已采纳，将纳入县城区学校交通安全管理办法。")
    return suggestion


def test_staff_record_an_outcome_with_its_timeline_and_the_public_follows_it(app, client):
    body = make_body(name="青溪县人民政府办公室")
    suggestion = adopted(body)
    staff = make_staff(body)
    login(client, staff)
    assert "记录这条建议的政策成果" in client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    response = client.post(f"/outcomes/new?suggestion={suggestion.id}", data={**OUTCOME, "issuing_body": body.id})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    outcome = db.session.scalar(sa.select(PolicyOutcome))
    url = f"/outcomes/{outcome.id}"
    for day, title in [("2026-11-20", "各小学护学岗全部到位"), ("2026-10-08", "起草管理办法征求意见稿")]:
        assert client.post(f"{url}/milestones", data={"happened_on": day, "title": title}).status_code == 303
    edit = {**OUTCOME, "stage": "implementing", "progress": "70", "issuing_body": body.id}
    assert client.post(f"{url}/edit", data=edit).status_code == 303
    client.post("/accounts/logout")
    public = app.test_client()
    page = text_of(public.get(url))
    assert "实施中" in page and "70%" in page and "青政办发〔2026〕12号" in page and "第八条" in page
    assert suggestion.title in page
    assert page.index("起草管理办法征求意见稿") < page.index("各小学护学岗全部到位")  # the timeline is in date order
    assert "城区小学上下学时段设置护学岗" in text_of(public.get(f"/suggestions/{suggestion.id}"))
    assert "城区小学上下学时段设置护学岗" in text_of(public.get(f"/outcomes/?body={body.id}"))
    actions = [a.action for a in db.session.scalars(sa.select(AuditLog).where(AuditLog.action.like("outcome.%"))
                                                    .order_by(AuditLog.id))]
    assert actions == ["outcome.create", "outcome.link", "outcome.milestone", "outcome.milestone", "outcome.update"]


@pytest.mark.parametrize("case", ["progress_150", "progress_negative", "no_title", "foreign_proposal", "no_such_proposal",
                                  "milestone_without_date", "citizen_creates", "bad_link"])
def test_bad_outcome_input_is_refused_and_writes_nothing(app, client, case):
    body = make_body(name="青溪县教育局")
    staff = make_staff(body)
    outcome = PolicyOutcome(title="课后服务延长至18点", issuing_body=body, created_by_id=staff.id)
    db.session.add(outcome)
    db.session.commit()
    before = (db.session.scalar(sa.select(sa.func.count()).select_from(PolicyOutcome)),
              db.session.scalar(sa.select(sa.func.count()).select_from(Milestone)),
              db.session.scalar(sa.select(sa.func.count()).select_from(outcome_suggestions)))
    login(client, staff)
    url = f"/outcomes/{outcome.id}"
    if case.startswith("progress"):
        value = "150" if case == "progress_150" else "-5"
        response = client.post("/outcomes/new", data={**OUTCOME, "issuing_body": body.id, "progress": value})
        assert response.status_code == 422 and "0 到 100" in response.get_data(as_text=True)
    elif case == "no_title":  # the message names the field as its label does (it said 标题 under 采纳内容)
        response = client.post("/outcomes/new", data={**OUTCOME, "issuing_body": body.id, "title": " "})
        assert response.status_code == 422 and "采纳内容不能为空" in response.get_data(as_text=True)
    elif case == "foreign_proposal":
        other = adopted(make_body(name="青溪县交通运输局"), title="建议增开城南公交夜班车")
        db.session.commit()
        assert client.post(f"{url}/link", data={"suggestion_id": other.id}).status_code == 403
    elif case == "no_such_proposal":
        response = client.post(f"{url}/link", data={"suggestion_id": 99999})
        assert response.status_code == 303
        assert "没有这个编号的公开建议" in client.get(response.headers["Location"]).get_data(as_text=True)
    elif case == "milestone_without_date":
        response = client.post(f"{url}/milestones", data={"title": "开始试点"})
        assert "请填写节点日期" in client.get(response.headers["Location"]).get_data(as_text=True)
    elif case == "citizen_creates":
        login(client, make_user())
        assert client.post("/outcomes/new", data={**OUTCOME, "issuing_body": body.id}).status_code == 403
    else:
        response = client.post("/outcomes/new", data={**OUTCOME, "issuing_body": body.id, "link": "javascript:alert(1)"})
        assert response.status_code == 422 and "http://" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.scalar(sa.select(sa.func.count()).select_from(PolicyOutcome)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Milestone)),
            db.session.scalar(sa.select(sa.func.count()).select_from(outcome_suggestions))) == before


def test_adoption_rates_by_body_and_campaign(app, client):
    body = make_body(name="青溪县住房和城乡建设局")
    campaign = make_campaign(body)
    staff = make_staff(body)
    for i, decision in enumerate(["adopted", "partly_adopted", "not_adopted", "explained"]):
        suggestion = make_suggestion(campaign, title=f"关于老旧小区改造的第{i + 1}条建议")
        services.reply_to_suggestion(staff, suggestion, decision=decision, content="感谢您的建议，答复如下。" * 2)
    db.session.commit()
    page = client.get("/outcomes/").get_data(as_text=True)
    row = re.search(r"青溪县住房和城乡建设局</a></td>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)%</td>", page)
    assert row and row.groups() == ("4", "2", "50")
    assert "50%（4 条已答复建议中 2 条" in text_of(client.get(f"/outcomes/?campaign={campaign.id}"))
