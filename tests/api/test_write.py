"""Submitting and supporting through the API: the same services and rules as the pages, errors as JSON."""
import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from suggestions.models import Suggestion, Vote
from tests.api.helpers import api_delete, api_post, make_token
from tests.factories import make_campaign, make_category, make_suggestion, make_user

PROPOSAL = {"title": "建议在青溪大道增设非机动车道", "body": "青溪大道车流量大，非机动车与机动车混行，存在安全隐患，建议增设隔离的非机动车道。",
            "category": "transport"}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_submit_then_support_oppose_and_withdraw(client):
    campaign = make_campaign()
    author, supporter = make_user(), make_user()
    author_secret, supporter_secret = make_token(author), make_token(supporter)
    db.session.commit()

    response = api_post(client, "/api/v1/proposals", author_secret, json={"campaign_id": campaign.id, **PROPOSAL})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "published" and created["title"] == PROPOSAL["title"]
    assert created["message_type"] == "suggestion" and created["category"]["code"] == "transport"
    assert response.headers["Location"] == f"/api/v1/proposals/{created['id']}"
    suggestion = db.session.get(Suggestion, created["id"])
    assert suggestion.author_id == author.id
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "suggestions")) \
        == "suggestion.submit"
    assert client.get(response.headers["Location"]).get_json()["id"] == created["id"]

    url = f"/api/v1/proposals/{created['id']}"
    supported = api_post(client, f"{url}/support", supporter_secret)
    assert supported.status_code == 200
    assert supported.get_json() == {"proposal_id": created["id"], "support_count": 1, "oppose_count": 0,
                                    "my_vote": 1}
    assert api_post(client, f"{url}/support", supporter_secret).get_json()["support_count"] == 1  # no second vote
    opposed = api_post(client, f"{url}/oppose", supporter_secret).get_json()
    assert (opposed["support_count"], opposed["oppose_count"], opposed["my_vote"]) == (0, 1, -1)
    withdrawn = api_delete(client, f"{url}/vote", supporter_secret)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["oppose_count"] == 0
    assert count(Vote) == 0

    own = api_post(client, f"{url}/support", author_secret, language="en")
    assert own.status_code == 409
    assert own.get_json() == {"error": "You cannot support or oppose your own proposal.", "status": 409}
    own_zh = api_post(client, f"{url}/support", author_secret, language="zh-CN")
    assert own_zh.get_json()["error"] == "不能对自己提出的建议表态。"


def test_screened_campaign_keeps_the_proposal_pending(client):
    campaign = make_campaign(screening=True)
    secret = make_token(make_user())
    db.session.commit()
    response = api_post(client, "/api/v1/proposals", secret, json={"campaign_id": campaign.id, **PROPOSAL})
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    assert client.get(response.headers["Location"]).status_code == 404  # not public yet


@pytest.mark.parametrize("language,messages", [
    ("en", {"title": "Title must be at least 4 characters.", "type": "The field “campaign_id” must be a whole number",
            "category": "Choose one of this campaign's categories.", "json": "Send a JSON object",
            "closed": "This campaign is not taking proposals now.", "missing": "The field “body” is required.",
            "unknown": "No campaign has the number 999999."}),
    ("zh-CN,zh;q=0.9", {"title": "标题至少需要 4 个字符。", "type": "字段“campaign_id”必须是",
                        "category": "请选择一个分类（须为本活动的分类）。", "json": "请在请求正文中发送一个 JSON 对象",
                        "closed": "该征集活动当前不接受建议。", "missing": "缺少字段“body”。",
                        "unknown": "没有编号为 999999 的征集活动。"}),
])
def test_bad_input_gets_a_clear_message_in_the_users_language(client, language, messages):
    campaign = make_campaign()
    closed = make_campaign(status="closed", title="已结束的征集")
    secret = make_token(make_user())
    db.session.commit()

    def submit(status: int, message: str, **kwargs):
        response = api_post(client, "/api/v1/proposals", secret, language=language, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.is_json and message in response.get_json()["error"], response.get_json()
        assert response.get_json()["status"] == status

    submit(422, messages["title"], json={"campaign_id": campaign.id, **PROPOSAL, "title": "短"})
    submit(422, messages["type"], json={**PROPOSAL, "campaign_id": str(campaign.id)})
    submit(422, messages["type"], json={**PROPOSAL, "campaign_id": True})
    submit(422, messages["type"], json={**PROPOSAL, "campaign_id": 2**40})
    submit(422, messages["category"], json={"campaign_id": campaign.id, **PROPOSAL, "category": "nope"})
    submit(422, messages["missing"], json={"campaign_id": campaign.id, "title": PROPOSAL["title"],
                                           "category": "transport"})
    submit(422, messages["unknown"], json={"campaign_id": 999999, **PROPOSAL})
    submit(409, messages["closed"], json={"campaign_id": closed.id, **PROPOSAL})
    submit(400, messages["json"], data="{not json", content_type="application/json")
    submit(400, messages["json"], json=[1, 2, 3])
    submit(400, messages["json"], data={"campaign_id": campaign.id, **PROPOSAL})  # a form post is not JSON
    assert count(Suggestion) == 0


def test_other_refusals(client):
    campaign = make_campaign(allow_oppose=False)
    other_campaign = make_campaign(title="另一个征集", categories=[make_category("education", "教育", "Education")])
    author, voter = make_user(), make_user()
    secret = make_token(voter)
    suggestion = make_suggestion(campaign, author)
    db.session.commit()
    base = f"/api/v1/proposals/{suggestion.id}"
    response = api_post(client, f"{base}/oppose", secret, language="en")
    assert response.status_code == 409 and "opposing" in response.get_json()["error"]
    assert api_post(client, "/api/v1/proposals/999999/support", secret).status_code == 404
    assert api_post(client, "/api/v1/proposals/99999999999999/support", secret).status_code == 404
    wrong_category = api_post(client, "/api/v1/proposals", secret,
                              json={"campaign_id": campaign.id, **PROPOSAL, "category": "education"})
    assert wrong_category.status_code == 422 and other_campaign.id
    bad_type = api_post(client, "/api/v1/proposals", secret, language="en",
                        json={"campaign_id": campaign.id, **PROPOSAL, "message_type": "spam"})
    assert bad_type.status_code == 422 and bad_type.get_json()["error"] == "Choose a message type."
    control = api_post(client, "/api/v1/proposals", secret, language="en",
                       json={"campaign_id": campaign.id, **PROPOSAL, "body": PROPOSAL["body"] + "\x00\ud800"})
    assert control.status_code == 422 and "invalid characters" in control.get_json()["error"]
    not_text = api_post(client, "/api/v1/proposals", secret, language="en",
                        json={"campaign_id": campaign.id, **PROPOSAL, "title": ["a"]})
    assert not_text.status_code == 422 and not_text.get_json()["error"] == "The field “title” must be a string."
    suggestion_id = suggestion.id
    services_hidden = client.get(f"/api/v1/proposals/{suggestion_id}")
    assert services_hidden.status_code == 200
    assert count(Vote) == 0 and count(Suggestion) == 1


def test_writes_are_rate_limited_per_account(tmp_path):
    from app import create_app
    from tests.conftest import CsrfClient, base_config
    app = create_app({**base_config(f"sqlite:///{tmp_path / 'rl.db'}"), "RATELIMIT_ENABLED": True,
                      "API_WRITE_RATE_LIMIT": "3 per minute"})
    app.test_client_class = CsrfClient
    with app.app_context():
        db.create_all()
        client = app.test_client()
        campaign = make_campaign()
        suggestion = make_suggestion(campaign)
        first, second = make_token(make_user()), make_token(make_user())
        db.session.commit()
        url = f"/api/v1/proposals/{suggestion.id}/support"
        # Every write endpoint counts against one allowance.
        statuses = [api_post(client, url, first, language="en").status_code,
                    api_delete(client, f"/api/v1/proposals/{suggestion.id}/vote", first).status_code,
                    api_post(client, url, first, language="en").status_code,
                    api_post(client, url, first, language="en").status_code]
        assert statuses == [200, 200, 200, 429]
        limited = api_post(client, url, first, language="en")
        assert limited.get_json() == {"error": "Too many writes with this API token. Please try again in 1 minute.",
                                      "status": 429, "retry_after": int(limited.headers["Retry-After"])}
        assert api_post(client, url, second).status_code == 200  # another token has its own allowance
        assert all(client.get(f"/api/v1/proposals/{suggestion.id}").status_code == 200 for _ in range(5))
        db.session.remove()
        db.engine.dispose()
