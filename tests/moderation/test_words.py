"""The sensitive-word list: administrators edit it, `flask moderation seed-words` fills an empty one, and a
submission that contains a listed word (in Traditional characters too) is held for review instead of being
published; its author is told, and the campaign body's staff or a moderator decides."""
import re

import pytest
import sqlalchemy as sa

from core.audit import AuditLog
from core.extensions import db
from moderation import words
from moderation.default_words import DEFAULT_WORDS
from moderation.models import SensitiveWord, WordHold
from suggestions.models import Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def add_words(client, admin, category: str, lines: str):
    login(client, admin)
    response = client.post("/moderation/words", data={"category": category, "words": lines})
    client.post("/accounts/logout")
    return response


def test_a_traditional_variant_of_a_listed_word_holds_the_submission(app, client):
    admin = make_user("site_admin", role="admin")
    body = make_body("临川市市场监督管理局")
    campaign = make_campaign(body, title="临川市营商环境建议征集")
    staff = make_staff(body)
    citizen = make_user("zhao_citizen")
    db.session.commit()
    assert add_words(client, admin, "advertising", "代开发票\n加微信\n代开发票").status_code == 303
    assert sorted(db.session.scalars(sa.select(SensitiveWord.word))) == ["代开发票", "加微信"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "moderation.add_word")) == 2

    login(client, citizen)
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": "关于规范市场秩序的建议", "category": make_category().code, "message_type": "suggestion",
        "body": "菜市场门口经常有人发传单，写着代開發票、加 微 信，建议加强管理，规范经营秩序。"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "含有需经审核后方可发布的内容（广告）" in text and "等待审核" in text
    assert "待审核" in text  # the status
    suggestion = db.session.scalar(sa.select(Suggestion))
    assert suggestion.status == "pending" and suggestion.published_at is None
    hold = db.session.get(WordHold, suggestion.id)
    assert hold.words == ["代开发票", "加微信"] and hold.categories == ["advertising"]
    submit_row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "suggestion.submit"))
    assert submit_row.detail["held_for"] == ["代开发票", "加微信"]
    assert "代开发票" not in text  # the author is told the category, not which words matched
    client.post("/accounts/logout")
    assert app.test_client().get(f"/suggestions/{suggestion.id}").status_code == 404  # not published
    assert suggestion.title not in app.test_client().get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    # The campaign body's staff see it in the "held" tab with the matched words, and publish it.
    login(client, staff)
    queue = text_of(client.get("/moderation/?tab=held"))
    assert suggestion.title in queue and "命中的敏感词： 代开发票 (广告)、 加微信 (广告)" in queue
    assert client.get("/moderation/?tab=reported").status_code == 200  # staff have no "reported" tab: first tab
    response = client.post("/moderation/decide?tab=held", data={"single": f"publish:suggestions-{suggestion.id}"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion.id).status == "published"
    last = db.session.scalar(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert (last.action, last.actor_id) == ("suggestion.publish", staff.id)
    assert suggestion.title not in text_of(client.get("/moderation/?tab=held"))


def test_a_clean_submission_is_published_and_the_api_is_screened_too(app, client):
    words.seed_default_words()
    campaign = make_campaign()
    citizen = make_user()
    db.session.commit()
    login(client, citizen)
    response = client.post(f"/suggestions/new/{campaign.id}", data={
        "title": "建议在人民路增设公交站", "category": campaign.categories[0].code, "message_type": "suggestion",
        "body": "人民路沿线居民多，最近的公交站在一公里外，建议增设一个站点。"})
    assert "您的建议已公开发布" in text_of(client.get(response.headers["Location"]))
    from api import tokens
    secret = tokens.create_token(citizen, "测试")[1]
    db.session.commit()
    answer = client.post("/api/v1/proposals", headers={"Authorization": f"Bearer {secret}"}, json={
        "campaign_id": campaign.id, "title": "兼職日結，輕鬆賺錢", "category": campaign.categories[0].code,
        "body": "招聘兼職日結人員，有意者請聯繫，待遇從優，名額有限。"})
    assert answer.status_code == 201 and answer.get_json()["status"] == "pending"
    assert db.session.get(WordHold, answer.get_json()["id"]).words == ["兼职日结"]


def test_matching_folds_width_case_spaces_and_punctuation(app):
    words.seed_default_words()
    found = words.find_words("有人在群里说：加　微－信，还能代 開 發 票！")
    assert [m["word"] for m in found] == ["代开发票", "加微信"]
    assert words.find_words("小区里有人聚众赌博，建议派出所加强巡查。") == []  # complaints about 赌博 pass
    assert words.find_words("") == []


def test_seed_words_fills_an_empty_list_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["moderation", "seed-words"])
    total = sum(len(v) for v in DEFAULT_WORDS.values())
    assert result.exit_code == 0 and f"{total} default words added" in result.output
    entry = db.session.scalar(sa.select(SensitiveWord).where(SensitiveWord.word == "加微信"))
    db.session.delete(entry)
    db.session.commit()
    assert "nothing added" in runner.invoke(args=["moderation", "seed-words"]).output  # a removal stays removed
    assert "1 default words added" in runner.invoke(args=["moderation", "seed-words", "--missing"]).output


def test_only_administrators_edit_the_list_and_removals_are_audited(app, client):
    admin = make_user("word_admin", role="admin")
    moderator = make_user(role="moderator")
    words.seed_default_words()
    db.session.commit()
    login(client, moderator)
    assert client.get("/moderation/words").status_code == 403
    assert client.post("/moderation/words", data={"category": "abuse", "words": "混账"}).status_code == 403
    client.post("/accounts/logout")
    login(client, admin)
    page = text_of(client.get("/moderation/words?category=abuse"))
    assert "傻逼" in page and "加微信" not in page
    entry = db.session.scalar(sa.select(SensitiveWord).where(SensitiveWord.word == "狗官"))
    assert client.post(f"/moderation/words/{entry.id}/remove").status_code == 303
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "moderation.remove_word"))
    assert row.actor_id == admin.id and row.detail == {"word": "狗官", "category": "abuse"}
    assert db.session.scalar(sa.select(SensitiveWord).where(SensitiveWord.word == "狗官")) is None


@pytest.mark.parametrize("category,lines,message", [
    ("abuse", "", "不能为空"), ("nonsense", "混账", "请选择一个分类"), ("abuse", "！！！", "没有可供匹配的文字"),
    ("abuse", "长" * 41, "超过 40 个字符"), ("abuse", "\n".join(f"词{i}" for i in range(201)), "最多添加 200 个词")])
def test_bad_words_are_refused_and_nothing_is_added(app, client, category, lines, message):
    admin = make_user(role="admin")
    db.session.commit()
    login(client, admin)
    response = client.post("/moderation/words", data={"category": category, "words": lines})
    assert response.status_code == 422 and message in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SensitiveWord)) == 0
