"""Bad input gets a clear message in the user's language, a 4xx, and writes nothing."""
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from core.extensions import db
from suggestions.models import Suggestion
from tests.conftest import login
from tests.factories import make_campaign, make_user

GOOD = {"title": "关于城南小学门口增设护学岗的建议", "body": "每天放学时城南小学门口车辆拥堵，建议增设护学岗。",
        "category": "transport", "message_type": "suggestion"}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion))


@pytest.fixture
def citizen_client(client):
    campaign = make_campaign()
    user = make_user()
    db.session.commit()
    login(client, user)
    client.campaign_id = campaign.id
    return client


CASES = [
    ("empty title", {"title": ""}, "标题不能为空", 422),
    ("whitespace title", {"title": " \u3000 \t "}, "标题不能为空", 422),
    ("100,000-character body", {"body": "建" * 100_000}, "内容不能超过 5000 个字符", 422),
    ("unknown category", {"category": "no-such-category"}, "请选择一个分类", 422),
    ("control characters", {"title": "关于路灯\x07\x1b的建议"}, "包含无效字符", 422),
    ("NUL character", {"body": "建议增设路灯\x00，方便夜间出行。"}, "包含无效字符", 400),
    ("broken UTF-8 bytes", {"body": "建议".encode() + b"\xff\xfe" + "增设路灯".encode()}, "包含无效字符", 400),
    ("GBK percent-encoded", {"body": b"%BD%A8%D2%E9"}, "包含无效字符", 400),
    ("unknown message type", {"message_type": "spam"}, "请选择留言类型", 422),
]


@pytest.mark.parametrize("name,override,message,status", CASES, ids=[c[0] for c in CASES])
def test_bad_proposal_input_is_refused_with_a_message(citizen_client, name, override, message, status):
    data = {**GOOD, **override}
    if isinstance(data["body"], bytes):  # send raw bytes that are not valid UTF-8
        raw = urlencode({k: v for k, v in data.items() if k != "body"}).encode() + b"&body=" + data["body"]
        raw += b"&csrf_token=" + citizen_client.csrf_token().encode()
        response = citizen_client.post(f"/suggestions/new/{citizen_client.campaign_id}", csrf=False, data=raw,
                                       content_type="application/x-www-form-urlencoded")
    else:
        response = citizen_client.post(f"/suggestions/new/{citizen_client.campaign_id}", data=data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert count() == 0


def test_api_style_request_gets_json_4xx(citizen_client):
    response = citizen_client.post(f"/suggestions/new/{citizen_client.campaign_id}", data={**GOOD, "title": ""},
                                   headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.is_json and "title" in response.get_json()["fields"]
    assert count() == 0


def test_closed_campaign_is_refused(client):
    campaign = make_campaign(status="closed")
    user = make_user()
    db.session.commit()
    login(client, user)
    response = client.post(f"/suggestions/new/{campaign.id}", data=GOOD)
    assert response.status_code == 409
    assert "该征集活动当前不接受建议" in response.get_data(as_text=True)
    assert count() == 0


def test_unknown_campaign_is_404_in_chinese(client):
    user = make_user()
    db.session.commit()
    login(client, user)
    response = client.post("/suggestions/new/999999", data=GOOD)
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert count() == 0


def test_good_input_is_saved(citizen_client):
    response = citizen_client.post(f"/suggestions/new/{citizen_client.campaign_id}", data=GOOD)
    assert response.status_code == 303
    assert count() == 1


def test_oversized_request_is_413_not_500(citizen_client):
    response = citizen_client.post(f"/suggestions/new/{citizen_client.campaign_id}",
                                   data={**GOOD, "body": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert count() == 0


def test_a_form_address_opened_in_the_browser_leads_to_its_proposal(client):
    """Reloading the address a refused form left in the bar (a GET of /suggestions/N/reply) was a 405 page whose
    only way on was the home page."""
    from tests.factories import make_suggestion

    suggestion = make_suggestion()
    db.session.commit()
    for action in ("reply", "extend", "rate", "vote", "switch-support", "follow", "accept", "transfer"):
        response = client.get(f"/suggestions/{suggestion.id}/{action}")
        assert response.status_code == 303, action
        assert response.headers["Location"].endswith(f"/suggestions/{suggestion.id}")
    assert client.get("/suggestions/999999/reply").status_code == 303  # no lookup: the proposal page answers 404 itself
    response = client.get("/suggestions/clusters/7/move_out")  # a cluster review form's address
    assert response.status_code == 303 and response.headers["Location"].endswith("/suggestions/clusters/7")
