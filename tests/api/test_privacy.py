"""No API response carries seeded personal data unmasked, nor any author identity."""
import json
import re

from core.extensions import db
from tests.api.helpers import PII, PII_TEXT, api_post, make_token, seed
from tests.factories import make_user

IDENTITY_KEYS = {"author", "author_id", "user", "user_id", "username", "display_name", "email", "voter"}
PHONE_RE, ID_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    return set()


def test_no_personal_data_in_any_api_response(client):
    data = seed()
    secret = make_token(make_user("api_user", display_name="钱程序"))
    db.session.commit()
    secrets_ = [*PII, "zhang.san", "wangxiaoming", "王小明", "wang.xiaoming@example.org", "staff_traffic", "李科员",
                "supporter1", "赵支持", "api_user", "钱程序"]
    responses = {}

    def check(label: str, response) -> dict:
        assert response.is_json, label
        body = response.get_json()
        text = json.dumps(body, ensure_ascii=False)
        for secret_text in secrets_:
            assert secret_text not in text, (label, secret_text)
        assert not PHONE_RE.search(text) and not ID_RE.search(text) and not EMAIL_RE.search(text), label
        assert not keys(body) & IDENTITY_KEYS, (label, keys(body) & IDENTITY_KEYS)
        responses[label] = body
        return body

    lists = ["/api/v1/bodies", "/api/v1/campaigns", "/api/v1/proposals", "/api/v1/outcomes",
             f"/api/v1/campaigns/{data.campaign.id}/clusters", "/api/v1/openapi.json"]
    for url in lists:
        check(url, client.get(url + ("?per_page=100" if "openapi" not in url else "")))
    details = {
        "bodies": [b["id"] for b in responses["/api/v1/bodies"]["items"]],
        "campaigns": [c["id"] for c in responses["/api/v1/campaigns"]["items"]],
        "proposals": [p["id"] for p in responses["/api/v1/proposals"]["items"]]
        + [data.hidden.id, data.pending.id],
        "outcomes": [o["id"] for o in responses["/api/v1/outcomes"]["items"]],
        "clusters": [c["id"] for c in responses[f"/api/v1/campaigns/{data.campaign.id}/clusters"]["items"]],
    }
    for kind, object_ids in details.items():
        assert object_ids, kind
        for object_id in object_ids:
            check(f"{kind}/{object_id}", client.get(f"/api/v1/{kind}/{object_id}"))
    # The seeded text really went through the API: masked, not dropped.
    proposal = responses[f"proposals/{data.first.id}"]
    assert "138****5678" in proposal["body"] and "110101************" in proposal["body"]
    assert "***@***" in proposal["body"] and "138****5678" in proposal["replies"][0]["content"]
    assert "138****5678" in proposal["title"] and "138****5678" in proposal["replies"][0]["rating"]["comment"]
    assert "110101" in responses[f"outcomes/{data.outcome.id}"]["clause"]
    assert responses[f"clusters/{details['clusters'][0]}"]["keywords"]
    # What a program submits comes back masked too.
    created = check("submit", api_post(client, "/api/v1/proposals", secret, json={
        "campaign_id": data.campaign.id, "title": f"建议增设公交站台，电话{PII[0]}", "category": "transport",
        "body": f"青溪大道公交站台没有遮阳棚，夏天等车很辛苦，建议增设。{PII_TEXT}"}))
    assert created["status"] == "published" and "138****5678" in created["body"]
    check("support", api_post(client, f"/api/v1/proposals/{data.other.id}/support", secret))
    check("proposals again", client.get("/api/v1/proposals?per_page=100"))
