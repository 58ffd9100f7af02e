"""How people appear: display names cannot pass for a body or the site's staff; without one, a stable keyed
pseudonym (网友·3F8A2C) stands in; no public page, API answer or open-data export shows a login name."""
import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
import sqlalchemy as sa

from accounts.models import User
from accounts.names import DisplayNameRefused, check_display_name, pseudonym, pseudonym_code
from core.extensions import db
from outcomes import services as outcome_services
from suggestions import clustering, ratings, services
from tests.conftest import login
from tests.factories import PASSWORD, make_body, make_campaign, make_staff, make_suggestion, make_user

PSEUDONYM = re.compile(r"网友·[0-9A-F]{6}")


@pytest.mark.parametrize("name", [
    "人大代表小王", "政協委員老李", "县政府办", "平台管理员", "官 方 回 复", "ＡＤＭＩＮ", "Site Admin", "official_news",
    "江南省人大常委会", "江南省人大常委會", "青溪县交通运输局", "交通运输局", "交通運輸局小张", "Qingxi Transport Bureau",
    "网友·3F8A2C", "网友", "···",
])
def test_display_names_that_imitate_are_refused(app, name):
    make_body("青溪县交通运输局").name_en = "Qingxi Transport Bureau"
    with pytest.raises(DisplayNameRefused):
        check_display_name(name)


@pytest.mark.parametrize("name", ["王小明", "青溪老街坊", "Linc", "交通迷", "网友小王", "Transport fan 2026"])
def test_ordinary_display_names_pass(app, name):
    make_body("青溪县交通运输局").name_en = "Qingxi Transport Bureau"
    assert check_display_name(f"  {name} ") == name


def test_the_rules_apply_at_registration_and_in_the_settings(client):
    make_body("江南省人大常委会")
    db.session.commit()
    response = client.post("/accounts/register", data={"username": "fake_npc", "display_name": "江南省人大常委會",
                                                       "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 422 and "不得包含" in response.get_data(as_text=True)
    user = make_user("real_person", display_name="王小明")
    db.session.commit()
    login(client, user)
    refused = client.post("/accounts/settings", data={"display_name": "人大代表", "email": ""})
    assert refused.status_code == 422
    assert db.session.get(User, user.id).display_name == "王小明"
    # A new e-mail address (where reset links go) needs the current password.
    unconfirmed = client.post("/accounts/settings", data={"display_name": "", "email": "wang@example.cn"})
    assert unconfirmed.status_code == 422 and "须输入当前密码" in unconfirmed.get_data(as_text=True)
    assert db.session.get(User, user.id).display_name == "王小明"
    assert client.post("/accounts/settings", data={"display_name": "", "email": "wang@example.cn",
                                                   "current_password": PASSWORD}).status_code == 303
    changed = db.session.get(User, user.id)
    assert (changed.display_name, changed.email) == ("", "wang@example.cn")
    assert PSEUDONYM.fullmatch(changed.public_name)


def test_a_display_name_kept_as_it_is_is_not_checked_again(client):
    """A name given before a body of that name existed stays until its owner changes it."""
    user = make_user("early_bird", display_name="青溪县水利局")
    make_body("青溪县水利局")
    db.session.commit()
    login(client, user)
    assert client.post("/accounts/settings", data={"display_name": "青溪县水利局", "email": ""}).status_code == 303
    assert client.post("/accounts/settings", data={"display_name": "青溪县水利局小王", "email": ""}).status_code == 422
    assert db.session.get(User, user.id).display_name == "青溪县水利局"


def test_pseudonyms_are_stable_distinct_and_keyed(app):
    first, second = make_user("pseudo_one"), make_user("pseudo_two")
    db.session.commit()
    assert PSEUDONYM.fullmatch(first.public_name) and first.public_name != second.public_name
    assert first.public_name == pseudonym(first.id)  # the same on every page and every request
    assert "pseudo_one" not in first.public_name
    # Keyed: knowing the id (or the username) does not give the code without the site's key.
    assert pseudonym_code(first.id, "another-site-key") != pseudonym_code(first.id, app.config["SECRET_KEY"])
    app.config["PSEUDONYM_KEY"] = "a-dedicated-key"
    assert first.public_name.endswith(pseudonym_code(first.id, "a-dedicated-key"))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _crawl(client, starts: list[str], limit: int = 400) -> dict[str, str]:
    """GET every same-site page reachable from ``starts`` (account pages and static files aside)."""
    seen, queue, pages = set(starts), deque(starts), {}
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url, buffered=True)  # downloads stream
        assert response.status_code < 500, url
        text = response.get_data(as_text=True)
        pages[url] = text
        if response.mimetype != "text/html":
            continue
        parser = _Links()
        parser.feed(text)
        for href in parser.links:
            target = urldefrag(urljoin(url, href))[0]
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(("/static/", "/accounts/")):
                continue
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return pages


def test_no_public_page_api_answer_or_export_shows_a_login_name(app, client, tmp_path):
    body = make_body("青溪县城市管理局")
    staff = make_staff(body, "qz_staff_login", role="manager")
    unnamed = make_user("qz_unnamed_login")
    named = make_user("qz_named_login", display_name="青溪老街坊")
    supporter = make_user("qz_supporter_login")
    campaign = make_campaign(body)
    first = make_suggestion(campaign, unnamed, title="建议青溪大道增设路灯",
                            body="青溪大道晚上太暗，行人和非机动车看不清路，建议增设路灯并定期检修。")
    second = make_suggestion(campaign, named, title="青溪大道急需增设路灯",
                             body="青溪大道晚上太暗，行人和非机动车看不清路，建议尽快增设路灯并定期检修。")
    services.vote(supporter, second, 1)
    services.reply_to_suggestion(staff, first, decision="adopted", content="您好，我局将于下月增设路灯，感谢您的建议。")
    ratings.rate_reply(unnamed, first, "satisfied", [], "谢谢")
    clustering.cluster_campaign(campaign)
    outcome = outcome_services.create_outcome(staff, body, title="青溪大道照明改造", document_name="", document_number="",
                                              link="", clause="", stage="issued", progress=20)
    outcome_services.link_suggestion(staff, outcome, first)
    db.session.commit()
    logins = ["qz_staff_login", "qz_unnamed_login", "qz_named_login", "qz_supporter_login"]

    starts = ["/", "/campaigns/", f"/campaigns/{campaign.id}", f"/suggestions/{first.id}", f"/suggestions/{second.id}",
              f"/suggestions/clusters?campaign={campaign.id}", "/search/?q=路灯", "/outcomes/",
              f"/outcomes/{outcome.id}", "/suggestions/timeliness", "/analytics/", "/open-data/",
              f"/open-data/?campaign={campaign.id}"]
    visitor = app.test_client()
    citizen = login(app.test_client(), make_user("qz_reader_login"))
    for browser in (visitor, citizen):
        pages = _crawl(browser, starts)
        assert any(url.startswith("/suggestions/clusters/") for url in pages)  # a page listing both authors
        assert any("/open-data/" in url and url.endswith(".csv") for url in pages)
        assert f"/suggestions/{first.id}" in pages
        for url, text in pages.items():
            for name in logins:
                assert name not in text, (url, name)
        assert PSEUDONYM.search(pages[f"/suggestions/{first.id}"])  # the unnamed author appears as a pseudonym
        assert unnamed.public_name in pages[f"/suggestions/{first.id}"]
        assert "青溪老街坊" in pages[f"/suggestions/{second.id}"]

    api = [f"/api/v1/{path}" for path in ("bodies", "campaigns", "proposals", "outcomes", "metrics",
                                          f"proposals/{first.id}", f"proposals/{second.id}",
                                          f"campaigns/{campaign.id}/clusters", f"outcomes/{outcome.id}")]
    for url in api:
        text = json.dumps(visitor.get(url).get_json(), ensure_ascii=False)
        assert not any(name in text for name in logins), url

    out = tmp_path / "export"
    result = app.test_cli_runner().invoke(args=["analytics", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = list(out.rglob("*.*"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        assert not any(name in text for name in logins), path.name


def test_the_migration_clears_display_names_that_copied_the_username(tmp_path):
    """Registration used to copy the username into an empty display name; migration 0013 clears those copies, so
    such authors appear under their pseudonym instead of their login name."""
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context():
        upgrade(revision="0011")
        db.session.execute(sa.text(
            "INSERT INTO users (username, display_name, email, password_hash, role, session_version, active, "
            "created_at) VALUES ('old_timer', 'old_timer', '', 'x', 'citizen', 0, 1, '2026-01-01'), "
            "('named_one', '王芳', '', 'x', 'citizen', 0, 1, '2026-01-01')"))
        db.session.commit()
        upgrade()
        names = dict(db.session.execute(sa.text("SELECT username, display_name FROM users")).all())
        assert names == {"old_timer": "", "named_one": "王芳"}
        db.session.remove()
        db.engine.dispose()


def test_the_register_page_names_the_code_name_in_the_reader_s_language(client):
    """The English help said "such as 网友·3F8A2C" while the header said "Participant·…"."""
    assert "“网友·3F8A2C”这样的代称" in client.get("/accounts/register").get_data(as_text=True)
    with client.session_transaction() as session:
        session["language"] = "en"
    page = client.get("/accounts/register").get_data(as_text=True)
    assert "a code name such as Participant·3F8A2C." in page and "网友" not in page
