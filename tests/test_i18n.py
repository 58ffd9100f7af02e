"""Every UI string has a Simplified Chinese translation; times are stored in UTC and shown in Beijing time."""
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.extensions import db
from tests.factories import make_campaign, make_category, make_suggestion

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["accounts", "api", "campaigns", "core", "demo", "moderation", "suggestions", "search", "templates"]
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    messages = set()
    for directory in SOURCE_DIRS:
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / directory, METHODS,
                                                                           keywords=KEYWORDS):
            messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_ui_string_has_a_simplified_chinese_translation():
    with open(ROOT / "translations/zh_Hans/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog  # plurals: (singular, plural)
                  if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and not m.fuzzy}
    missing = sorted(source_messages() - translated)
    assert missing == [], f"untranslated: {missing[:20]}"


def test_times_are_stored_in_utc_and_shown_in_beijing_time(client):
    suggestion = make_suggestion()
    suggestion.created_at = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    db.session.commit()
    stored = db.session.execute(db.text("SELECT created_at FROM suggestions")).scalar_one()
    assert str(stored).startswith("2026-01-01 16:30")
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "2026-01-02 00:30" in page


def test_english_pages_are_in_english(client):
    make_suggestion()
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    page = client.get("/suggestions/1").get_data(as_text=True)
    assert "Official reply" in page and "No reply yet." in page and "官方答复" not in page


def test_a_visitor_sent_to_log_in_is_told_why_in_chinese(client):
    suggestion = make_suggestion()
    db.session.commit()
    response = client.get(f"/suggestions/new/{suggestion.campaign_id}")
    assert response.status_code in (302, 303)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "请先登录，登录后将回到此页面。" in page and "Please log in" not in page


def test_lists_in_running_text_use_each_language_s_separator(client):
    campaign = make_campaign(categories=[make_category(), make_category("education", "教育", "Education")])
    db.session.commit()
    assert "交通运输、教育" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Transport, Education" in page and "、" not in page


def test_english_counts_agree_with_their_number(client):
    suggestion = make_suggestion()
    suggestion.support_count = 1
    db.session.commit()
    client.post("/accounts/language", data={"language": "en", "next": "/"})
    listing = client.get(f"/campaigns/{suggestion.campaign_id}").get_data(as_text=True)
    assert "1 support<" in listing and "1 supports" not in listing
