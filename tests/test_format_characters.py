"""Invisible format characters (Unicode category Cf: bidi overrides and isolates, zero-width spaces and joiners,
soft hyphens, byte-order marks) are refused in every free-text field, on the pages and in the API; search
queries and imported messages, which cannot be sent back to be retyped, lose them instead."""
import unicodedata

import pytest
import sqlalchemy as sa

from accounts.models import Body, User
from api.models import ApiToken
from campaigns.models import Campaign
from core.errors import InvalidInput
from core.extensions import db
from core.text import clean_text, remove_format_characters
from search.indexing import drain, get_backend
from suggestions.models import Reply, Suggestion
from tests.api.helpers import api_post, make_token
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_suggestion, make_user

FORMAT_CHARACTERS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                     "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad", "\u061c"]
TITLE = "建议在城南小学门口增设护学岗"
BODY_TEXT = "每天上下学时段城南小学门口车辆拥堵，学生过马路很危险，建议增设护学岗并施划斑马线。"
MESSAGE = "不可见的格式字符"


@pytest.mark.parametrize("ch", FORMAT_CHARACTERS)
def test_clean_text_refuses_every_format_character(ch):
    assert unicodedata.category(ch) == "Cf"
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"路灯{ch}坏了", field="标题", max_length=80)
    assert "标题" in str(refused.value.message)
    assert clean_text("路灯坏了\n请修", field="标题", max_length=80, multiline=True) == "路灯坏了\n请修"
    assert remove_format_characters(f"{ch}路灯{ch}坏了") == "路灯坏了"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_forms_refuse_them_with_a_message_and_save_nothing(client):
    body = make_body()
    campaign = make_campaign(body)
    suggestion = make_suggestion(campaign)
    staff = make_staff(body, role="manager")
    admin = make_user(role="admin")
    citizen = make_user()
    db.session.commit()

    registered = client.post("/accounts/register", data={"username": "zhao_lei", "display_name": "赵\u202e磊",
                                                        "password": "lamp-post-river-7", "confirm": "lamp-post-river-7"})
    assert registered.status_code == 422 and MESSAGE in registered.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.username == "zhao_lei")) is None

    login(client, citizen)
    submitted = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": "建议\u202e岗学护设增", "body": BODY_TEXT, "category": "transport", "message_type": "suggestion"})
    assert submitted.status_code == 422 and MESSAGE in submitted.get_data(as_text=True)
    hidden_space = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": TITLE, "body": BODY_TEXT + "\u200b", "category": "transport", "message_type": "suggestion"})
    assert hidden_space.status_code == 422
    assert count(Suggestion) == 1
    token = client.post("/api/tokens/", data={"name": "脚本\u2066"})
    assert token.status_code == 422 and count(ApiToken) == 0
    settings = client.post("/accounts/settings", data={"display_name": "\u202e明小王", "email": ""})
    assert settings.status_code == 422 and MESSAGE in settings.get_data(as_text=True)

    login(client, staff)
    replied = client.post(f"/suggestions/{suggestion.id}/reply", data={
        "decision": "adopted", "content": "您好，您的建议已采纳\ufeff，我们将于下月组织实施。"})
    assert replied.status_code in (303, 422) and count(Reply) == 0
    created = client.post("/campaigns/new", data={
        "body_id": body.id, "title": "停车\u200d难问题征集", "categories": [make_category().id],
        "opens_at": "2026-01-01T09:00", "closes_at": "2027-01-01T09:00"})
    assert created.status_code == 422 and count(Campaign) == 1

    login(client, admin)
    made = client.post("/accounts/admin/bodies", data={"name": "青溪县\u202e局育教", "kind": "department",
                                                       "level": "county", "region": "江南省临川市青溪县"})
    assert made.status_code == 422 and count(Body) == 1


def test_the_api_refuses_them(client):
    campaign = make_campaign()
    secret = make_token(make_user())
    db.session.commit()
    response = api_post(client, "/api/v1/proposals", secret, json={
        "campaign_id": campaign.id, "title": TITLE + "\u202e", "body": BODY_TEXT, "category": "transport"})
    assert response.status_code == 422 and MESSAGE in response.get_json()["error"]
    assert count(Suggestion) == 0


def test_cli_body_fields_are_checked_too(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts", "create-body", "青溪县水利局", "--kind", "department",
                                 "--level", "county", "--region", "江南省\u202e", "--name-en", "Water\u200b"])
    assert result.exit_code != 0 and MESSAGE in result.output
    assert count(Body) == 0


def test_imported_messages_lose_them(app, tmp_path):
    from tests.analytics.test_importer import HEADER, write_csv

    body = make_body()
    db.session.commit()
    path = write_csv(tmp_path / "board.csv", [["2001", "U1", "路灯\u202e坏了", "2020/5/10 8:00:00",
                                               "小区\u200b门口路灯坏了一个月。", "", ""]], HEADER)
    result = app.test_cli_runner().invoke(args=["analytics", "import-messages", path, "--body", str(body.id),
                                               "--no-index"])
    assert result.exit_code == 0, result.output
    imported = db.session.scalar(sa.select(Suggestion))
    assert (imported.title, imported.body) == ("路灯坏了", "小区门口路灯坏了一个月。")


def test_search_drops_them_from_the_query(client):
    make_suggestion(title="建议青溪大道增设路灯", body="青溪大道晚上太暗，行人看不清路，建议增设路灯并定期检修。")
    db.session.commit()
    drain(get_backend())
    page = client.get("/search/?q=" + "\u202e路灯\u200b").get_data(as_text=True)
    assert 'name="q" value="路灯"' in page  # the query shown back is the cleaned one
    assert "建议青溪大道增设<mark" in page or "建议青溪大道增设路灯" in page  # and it still finds
