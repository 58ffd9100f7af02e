"""Private contact details and the masking of public text.

A proposal carries contact details twice: in its private section, and written into its own text. An anonymous
visitor scanning the proposal page, the lists, search (Whoosh and the PostgreSQL backend), typing hints, cluster
pages, the dashboard, the API and the open-data files finds neither; the author and the staff of the bodies
handling it (the campaign's body, the lead and the co-handling body) see both; other staff and moderators see
what the public sees. Runs on SQLite and PostgreSQL.
"""
import json
import re

import pytest
import sqlalchemy as sa

from accounts.models import Role
from analytics import exports
from api import tokens
from core.extensions import db
from core.mail import OutboxMessage
from search.backend import SearchQuery
from search.indexing import drain, get_backend, reindex
from suggestions import clustering, handling, services
from suggestions.contacts import ContactDetails
from suggestions.models import ClusterMember, PrivateContact, Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

PHONE, SPACED, ID_NUMBER, CARD = "13812345678", "1380 013 8002", "33010219900101123X", "6222021234567890123"
NAME, ROOM, WECHAT, PLATE = "张伟", "3栋2单元501室", "zhangwei_1990", "浙A12345"
TEXT = (f"锦绣路的路灯坏了三个月，晚上很黑，老人和孩子出门很危险，建议尽快修复。我是{NAME}，联系电话{PHONE}，"
        f"备用{SPACED}，身份证{ID_NUMBER}，工资卡{CARD}，住锦绣路88号{ROOM}，微信号 {WECHAT}，车牌{PLATE}。")
PRIVATE = ContactDetails(name="李秘书", phone="13900138005", address="幸福里99号", note="护照E12345678")
# What no public surface may show: the numbers (and their pieces), the name, the room, the private section.
SECRETS = [PHONE, "1234 5678", "013 8002", "0138002", ID_NUMBER, "19900101123X", CARD, "021234567890", NAME, ROOM,
           "2单元501", WECHAT, "A12345", "李秘书", "13900138005", "139 0013 8005", "幸福里99号", "E12345678"]


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def world(app):
    body, lead, co, other = (make_body(n) for n in ("青溪县城管局", "青溪县住建局", "青溪县供电公司", "青溪县教育局"))
    campaign = make_campaign(body, title="锦绣路市容环境建议征集")
    author = make_user("zhangwei_author", display_name="路灯用户")
    supporter = make_user("supporter_mail")
    supporter.email = "supporter@example.org"
    proposal = services.submit_suggestion(
        author, campaign, title=f"锦绣路路灯坏了请修复 电话{PHONE}", body=TEXT, category=campaign.categories[0],
        message_type="suggestion", contact=PRIVATE)
    make_suggestion(campaign, make_user(), title=f"锦绣路路灯损坏请尽快修复 {PHONE}",
                    body=TEXT.replace("三个月", "两个月"))
    staff = {"body": make_staff(body), "lead": make_staff(lead), "co": make_staff(co), "other": make_staff(other)}
    services.vote(supporter, proposal, 1)
    services.accept_suggestion(staff["body"], proposal)
    handling.assign_handlers(staff["body"], proposal, lead.id, [co.id])
    services.reply_to_suggestion(staff["lead"], proposal, decision="adopted",
                                 content=f"您好，已与您本人（{PHONE}）联系，路灯已修复。咨询电话：0571-87654321。")
    clustering.cluster_campaign(campaign)
    db.session.commit()
    drain(get_backend())
    return {"campaign": campaign, "proposal": proposal, "author": author, "supporter": supporter, "staff": staff,
            "moderator": make_user(role=Role.MODERATOR)}


def test_the_private_section_is_stored_apart_and_the_text_as_written(world):
    proposal = world["proposal"]
    contact = db.session.get(PrivateContact, proposal.id)
    assert (contact.name, contact.phone, contact.address) == ("李秘书", "139 0013 8005", "幸福里99号")
    assert PHONE in proposal.body and ID_NUMBER in proposal.body  # stored as written; masked where shown


def test_an_anonymous_visitor_finds_no_contact_detail_anywhere(app, client, world, backend, request):
    proposal, campaign = world["proposal"], world["campaign"]
    cluster_id = db.session.get(ClusterMember, proposal.id).cluster_id
    pages = {
        "proposal": f"/suggestions/{proposal.id}", "campaign": f"/campaigns/{campaign.id}",
        "clusters": f"/suggestions/clusters?campaign={campaign.id}", "cluster": f"/suggestions/clusters/{cluster_id}",
        "dashboard": "/analytics/", "search": "/search/?q=路灯",
        "api list": "/api/v1/proposals", "api detail": f"/api/v1/proposals/{proposal.id}",
        "api clusters": f"/api/v1/campaigns/{campaign.id}/clusters", "api cluster": f"/api/v1/clusters/{cluster_id}",
    }
    seen = {}
    for label, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, label
        seen[label] = text = response.get_data(as_text=True)
        assert not leaks(text), (label, leaks(text))
    # The masked text is really there (masked, not dropped), and the page says nothing private.
    assert "138****5678" in seen["proposal"] and "330102************" in seen["proposal"]
    assert "我是张*" in seen["proposal"] and "锦绣路88号*栋*单元***室" in seen["proposal"]
    assert 'id="private-contact"' not in seen["proposal"]
    assert "0571-87654321" in seen["proposal"]  # the body's office line in its reply stays
    assert "138****5678" in json.loads(seen["api detail"])["body"]
    # Typing hints: a draft made of the numbers finds nothing; a draft about the lamps finds it, masked.
    for number in (PHONE, SPACED, ID_NUMBER, CARD):
        hints = client.get(f"/suggestions/similar?campaign={campaign.id}&title={number}&body={number}",
                           headers={"Accept": "application/json"}).get_json()["similar"]
        assert hints == [], number
    hints = client.get(f"/suggestions/similar?campaign={campaign.id}&title=锦绣路路灯坏了&body=路灯坏了三个月晚上很黑",
                       headers={"Accept": "application/json"}).get_json()["similar"]
    assert proposal.id in [h["id"] for h in hints] and not leaks(json.dumps(hints, ensure_ascii=False))
    # Open data: every file.
    for name in [f"{d}.{f}" for d in exports.DATASETS for f in exports.FORMATS]:
        text = client.get(f"/open-data/{name}", buffered=True).get_data(as_text=True)
        assert not leaks(text), (name, leaks(text))
    # Search, on each search backend: no query for a number finds it; a word does, with a masked snippet.
    search_backends = ["whoosh"] + (["postgres"] if backend == "postgres" else [])
    for search_backend in search_backends:
        app.config["SEARCH_BACKEND"] = search_backend
        if search_backend == "postgres":
            app.config["SEARCH_DATABASE_URL"] = request.getfixturevalue("postgres_database")
        app.extensions.pop("search_backend", None)
        reindex(get_backend(), progress=False)
        for number in (PHONE, SPACED, ID_NUMBER, CARD, "139 0013 8005", NAME, WECHAT, "幸福里"):
            assert get_backend().search(SearchQuery(text=number)).total == 0, (search_backend, number)
            page = client.get(f"/search/?q={number}").get_data(as_text=True)  # which echoes the query itself
            assert f'href="/suggestions/{proposal.id}"' not in page and "没有找到" in page, (search_backend, number)
        result = get_backend().search(SearchQuery(text="路灯"))
        assert proposal.id in [hit.id for hit in result.hits], search_backend
        assert not leaks(" ".join(h.title_html + h.snippet_html for h in result.hits)), search_backend


def test_notifications_and_mail_carry_no_contact_detail(client, world):
    login(client, world["supporter"])
    page = client.get("/suggestions/notifications").get_data(as_text=True)
    assert "138****5678" in page and not leaks(page)
    mails = db.session.scalars(sa.select(OutboxMessage)).all()
    assert mails and not any(leaks(f"{m.subject}\n{m.body}") for m in mails)


@pytest.mark.parametrize("who", ["author", "body", "lead", "co"])
def test_the_author_and_the_handling_bodies_see_everything(client, world, who):
    user = world["author"] if who == "author" else world["staff"][who]
    login(client, user)
    page = client.get(f"/suggestions/{world['proposal'].id}").get_data(as_text=True)
    for detail in (PHONE, ID_NUMBER, CARD, ROOM, "李秘书", "139 0013 8005", "幸福里99号", "E12345678"):
        assert detail in page, (who, detail)
    assert 'id="private-contact"' in page and 'href="tel:13900138005"' in page


@pytest.mark.parametrize("who", ["other", "moderator", "citizen"])
def test_other_staff_moderators_and_citizens_see_what_the_public_sees(client, world, who):
    user = {"other": world["staff"]["other"], "moderator": world["moderator"]}.get(who) or make_user()
    login(client, user)
    page = client.get(f"/suggestions/{world['proposal'].id}").get_data(as_text=True)
    assert not leaks(page) and 'id="private-contact"' not in page


def test_a_transfer_moves_the_private_section_to_the_new_handling_body(world):
    staff = world["staff"]
    proposal = make_suggestion(world["campaign"], title="锦绣路人行道破损请修复", body=f"人行道砖松动很危险。电话{PHONE}")
    services.accept_suggestion(staff["body"], proposal)
    handling.assign_handlers(staff["body"], proposal, next(iter(staff["lead"].body_ids())), [])
    assert proposal.private_details_visible_to(staff["lead"])
    assert not proposal.private_details_visible_to(staff["other"])
    handling.transfer(staff["lead"], proposal, next(iter(staff["other"].body_ids())), "属于教育局职责")
    assert proposal.private_details_visible_to(staff["other"]) and proposal.private_details_visible_to(staff["body"])
    assert not proposal.private_details_visible_to(staff["lead"])


# --- the submit form ------------------------------------------------------------------------------------------

FORM = {"title": "锦绣路路灯坏了请修复", "category": "transport", "message_type": "suggestion",
        "body": f"锦绣路的路灯坏了三个月，晚上很黑。我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}，住锦绣路88号{ROOM}。"}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion))


def test_the_form_warns_first_and_keeps_everything_typed(client, app):
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", data=FORM)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count() == 0
    assert "privacy-notice" in page and "138****5678" in page and "330102************" in page
    assert PHONE in page and ROOM in page and FORM["title"] in page  # nothing typed is lost
    assert re.search(r'name="privacy_reviewed"[^>]*value="1"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="move_details"|<input[^>]*name="move_details"[^>]*checked', page)


def test_the_warning_is_the_first_thing_on_the_page_with_the_choice_next_to_it(client, app):
    """On a phone the warning and its checkbox came back about 2,000 px below the top, under the private section:
    the form looked unchanged and the citizen thought the submit had failed."""
    campaign = make_campaign()
    login(client, make_user())
    page = client.post(f"/suggestions/new/{campaign.id}", data=FORM).get_data(as_text=True)
    start = page.index('id="privacy-review"')
    assert page.index("<h1") < page.index('id="suggestion-form"') < start < page.index('name="title"')
    assert page.index("</h1>") < start and "private-section" not in page[page.index("</h1>"):start]
    block = page[page.rindex("<div", 0, start):page.index('name="title"')]
    assert 'role="alert"' in block and 'tabindex="-1"' in block  # announced, and focused (static/js/privacy.js)
    assert "尚未提交" in block and "138****5678" in block and "330102************" in block
    assert re.search(r'<input[^>]*name="move_details"[^>]*>', block) and "将这些信息移至保密栏" in block
    assert re.search(r'<button type="submit"[^>]*>提交</button>', block) and 'href="#body"' in block
    assert page.count('name="move_details"') == 1
    # Submitting from there (the box ticked, as it comes) saves what it saved before: the details moved.
    response = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "privacy_reviewed": "1",
                                                                     "move_details": "y"})
    assert response.status_code == 303 and PHONE not in db.session.scalars(sa.select(Suggestion)).one().body


def test_moving_the_details_fills_the_private_section(client, app):
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "privacy_reviewed": "1",
                                                                     "move_details": "y"})
    assert response.status_code == 303
    suggestion = db.session.scalars(sa.select(Suggestion)).one()
    assert PHONE not in suggestion.body and ID_NUMBER not in suggestion.body and ROOM not in suggestion.body
    assert "电话138****5678" in suggestion.body and "我是张*" in suggestion.body
    contact = suggestion.private_contact
    assert (contact.name, contact.phone, contact.address) == (NAME, "138 1234 5678", f"锦绣路88号{ROOM}")
    assert ID_NUMBER in contact.note


def test_keeping_the_details_in_the_text_publishes_them_masked(client, app):
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", data={**FORM, "privacy_reviewed": "1",
                                                                     "contact_phone": "0571-88888888"})
    assert response.status_code == 303
    suggestion = db.session.scalars(sa.select(Suggestion)).one()
    assert suggestion.body == FORM["body"] and suggestion.private_contact.phone == "0571 8888 8888"
    anonymous = app.test_client()
    page = anonymous.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "138****5678" in page and PHONE not in page and "8888 8888" not in page


def test_after_the_move_the_author_sees_no_note_about_masking_and_a_tidy_private_section(client, app):
    """The note "you see the text as written; others see it masked" stood above a text itself masked; the moved
    address kept the start of its sentence; the ID line had an English colon."""
    campaign = make_campaign()
    author = make_user()
    login(client, author)
    text = f"学府路的路灯坏了三个月，晚上很黑。我家就住在学府路18号3单元502室，电话{PHONE}，身份证{ID_NUMBER}。"
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        **FORM, "body": text, "privacy_reviewed": "1", "move_details": "y"})
    moved = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "138****5678" in moved and PHONE not in moved.split('id="private-contact"')[0]
    assert 'id="shown-as-written"' not in moved
    contact = db.session.scalars(sa.select(Suggestion)).one().private_contact
    assert contact.address == "学府路18号3单元502室"
    assert contact.note == f"身份证号码：{ID_NUMBER}"
    assert f"身份证号码：{ID_NUMBER}" in moved
    # Kept in the text, the details are unmasked for the author only, and the note says so.
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        **FORM, "title": "学府路路灯坏了请修复", "body": text, "privacy_reviewed": "1"})
    kept = client.get(response.headers["Location"]).get_data(as_text=True)
    assert PHONE in kept and 'id="shown-as-written"' in kept
    assert 'id="shown-as-written"' not in app.test_client().get(response.headers["Location"]).get_data(as_text=True)


def test_a_bad_phone_number_is_explained_and_nothing_is_saved(client, app):
    campaign = make_campaign()
    login(client, make_user())
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": "建议增设路灯照明设施", "body": "锦绣路晚上很黑，建议增设路灯。", "category": "transport",
        "message_type": "suggestion", "contact_phone": "12345"})
    assert response.status_code == 422 and count() == 0
    assert "area code" in response.get_data(as_text=True) or "区号" in response.get_data(as_text=True)


def test_the_live_check_says_what_it_found(client, app):
    login(client, make_user())
    found = client.post("/suggestions/privacy-check", data={"title": "路灯", "body": f"电话{PHONE}"})
    assert found.status_code == 200 and "138****5678" in found.get_data(as_text=True)
    assert client.post("/suggestions/privacy-check", data={"title": "路灯", "body": "坏了"}).get_data(
        as_text=True).strip() == ""
    assert client.post("/suggestions/privacy-check", data={"body": PHONE}, csrf=False).status_code == 400


# --- the API ----------------------------------------------------------------------------------------------------

def test_the_api_takes_private_details_and_never_returns_them(client, app):
    campaign = make_campaign()
    user = make_user()
    _token, secret = tokens.create_token(user, "脚本")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.post("/api/v1/proposals", csrf=False, headers=headers, json={
        "campaign_id": campaign.id, "title": "锦绣路路灯坏了请修复", "category": "transport",
        "body": f"锦绣路的路灯坏了三个月。电话{PHONE}，身份证{ID_NUMBER}。", "move_personal_data": True,
        "contact": {"name": "李秘书", "address": "幸福里99号"}})
    assert response.status_code == 201, response.get_json()
    assert not leaks(response.get_data(as_text=True))
    stored = db.session.get(Suggestion, response.get_json()["id"])
    assert PHONE not in stored.body and stored.private_contact.phone == "138 1234 5678"
    assert stored.private_contact.name == "李秘书" and ID_NUMBER in stored.private_contact.note
    assert not leaks(client.get(f"/api/v1/proposals/{stored.id}").get_data(as_text=True))
    for bad in ({"contact": "13800000000"}, {"contact": []}, {"contact": {"phone": 5}}, {"contact": {"email": "a@b.cn"}},
                {"contact": {"phone": "12345"}}, {"move_personal_data": "yes"}):
        refused = client.post("/api/v1/proposals", csrf=False, headers=headers, json={
            "campaign_id": campaign.id, "title": "建议增设路灯照明", "category": "transport",
            "body": "锦绣路晚上很黑，建议增设路灯。", **bad})
        assert refused.status_code == 422, (bad, refused.get_json())
