"""Drafts put out for comment (issue 18): importing a draft and its versions (managers only, audited), comments
that are proposals anchored to an article and a passage, anchors that follow an article into a new version or
are reported orphaned when it goes, what changed, and the drafting team's per-article view and CSV."""
import csv
import io
import re

import pytest
import sqlalchemy as sa

from accounts.models import Role
from core.audit import AuditLog
from core.errors import Conflict, NotAllowed
from core.extensions import db
from drafts import parsing, services
from drafts.models import Draft, DraftComment, DraftProvision, DraftVersion
from search.indexing import drain, get_backend
from suggestions import services as suggestion_services
from suggestions.models import PrivateContact, Suggestion
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_user

FIRST = """# 青溪县河道管理办法（征求意见稿）
## 第一章 总则
第一条 为了加强河道管理，保障防洪安全，制定本办法。
第二条 本县行政区域内河道的整治、利用和保护，适用本办法。
第三条 县水利局是本县河道的主管机关。
## 第二章 河道保护
第四条 禁止在河道管理范围内倾倒垃圾、渣土。
第五条 在河道管理范围内采砂，应当经县水利局批准，并按照批准的范围和作业方式开采。
第六条 河道两岸五米范围内不得新建建筑物。
"""

# Version 2: a new article 第二条 (so the others are renumbered), 第五条 reworded, 第六条 removed.
SECOND = """# 青溪县河道管理办法（修改稿）
## 第一章 总则
第一条 为了加强河道管理，保障防洪安全，制定本办法。
第二条 本办法所称河道，包括江河、溪流、湖泊和人工水道。
第三条 本县行政区域内河道的整治、利用和保护，适用本办法。
第四条 县水利局是本县河道的主管机关。
## 第二章 河道保护
第五条 禁止在河道管理范围内倾倒垃圾、渣土。
第六条 在河道管理范围内采砂，应当经县水利局批准，按照批准的范围、时段和作业方式开采，并接受监督。
"""


@pytest.fixture
def consultation(app):
    body = make_body("青溪县人民政府")
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body, title="青溪县河道管理办法（征求意见稿）征求意见")
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST), source_name="v1.md",
                                  note="征求意见稿")
    db.session.commit()
    return draft, manager


def article(draft: Draft, label: str, version: DraftVersion | None = None) -> DraftProvision:
    version = version or draft.current_version
    return next(p for p in version.provisions if p.label == label)


def comment(draft: Draft, provision: DraftProvision | None, quote: str = "", author=None,
            title: str = "关于采砂审批的意见", body: str = "建议明确采砂审批的期限，并向社会公开审批结果。") -> Suggestion:
    suggestion = suggestion_services.submit_suggestion(
        author or make_user(), draft.campaign, title=title, body=body,
        category=draft.campaign.categories[0], message_type="suggestion")
    services.attach_comment(suggestion, services.Target(draft, provision), quote)
    return suggestion


def test_only_the_bodys_managers_import_a_draft_and_it_is_audited(app):
    body = make_body()
    campaign = make_campaign(body)
    parsed = parsing.parse_text(FIRST)
    for outsider in (make_user(), make_staff(body, role="staff"), make_staff(make_body("别的单位"), role="manager")):
        with pytest.raises(NotAllowed):
            services.create_draft(outsider, campaign, parsed)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    manager = make_staff(body, role="manager")
    draft = services.create_draft(manager, campaign, parsed, source_name="v1.md")
    assert draft.title == "青溪县河道管理办法（征求意见稿）" and draft.current_version.number == 1
    assert [p.label for p in draft.current_version.provisions if p.article_id] == [
        "第一条", "第二条", "第三条", "第四条", "第五条", "第六条"]
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "draft.create"))
    assert entry.actor_id == manager.id and entry.detail["articles"] == 6
    with pytest.raises(Conflict):
        services.create_draft(manager, campaign, parsed)
    with pytest.raises(NotAllowed):
        services.import_version(make_user(role=Role.STAFF), draft, parsing.parse_text(SECOND))


def test_comments_follow_their_article_into_a_new_version_or_are_orphaned(consultation):
    draft, manager = consultation
    on_mining = comment(draft, article(draft, "第五条"), quote="应当经县水利局批准")
    on_scope = comment(draft, article(draft, "第二条"), quote="河道的整治、利用和保护")
    on_buildings = comment(draft, article(draft, "第六条"), quote="不得新建建筑物")
    on_whole = comment(draft, None)
    first = draft.current_version
    services.import_version(manager, draft, parsing.parse_text(SECOND), source_name="v2.md", note="修改稿")
    db.session.commit()
    second = draft.current_version
    assert second.number == 2 and second.note == "修改稿"
    anchor = {s.id: services.anchor_of(db.session.get(DraftComment, s.id), second)
              for s in (on_mining, on_scope, on_buildings, on_whole)}
    # 第五条, reworded and renumbered 第六条: the comment follows it, and its passage is still in the text
    assert anchor[on_mining.id].state == "article" and anchor[on_mining.id].provision.label == "第六条"
    assert anchor[on_mining.id].passage_found
    # 第二条, unchanged but renumbered 第三条
    assert anchor[on_scope.id].provision.label == "第三条" and anchor[on_scope.id].passage_found
    # 第六条 is gone: orphaned, and counted so
    assert anchor[on_buildings.id].state == "orphaned"
    assert anchor[on_whole.id].state == "whole"
    assert services.orphaned_count(draft) == 1
    # In version 1 the anchors are where they were written
    assert services.anchor_of(db.session.get(DraftComment, on_buildings.id), first).provision.label == "第六条"
    # The new 第二条 is a new article with no comments; the counts follow the articles
    counts = services.comment_counts(draft)
    assert counts.get(article(draft, "第二条").article_id) is None
    assert counts[article(draft, "第六条").article_id] == 1 and counts[None] == 1


def test_a_passage_no_longer_in_the_reworded_article_keeps_the_comment_on_the_article(consultation):
    draft, manager = consultation
    kept = comment(draft, article(draft, "第五条"), quote="并按照批准的范围和作业方式开采")
    services.import_version(manager, draft, parsing.parse_text(SECOND))
    anchor = services.anchor_of(db.session.get(DraftComment, kept.id), draft.current_version)
    assert anchor.state == "article" and anchor.provision.label == "第六条" and not anchor.passage_found


def test_an_article_moved_elsewhere_with_the_same_text_keeps_its_comments(consultation):
    draft, manager = consultation
    kept = comment(draft, article(draft, "第一条"))
    moved = FIRST.replace("第一条 为了加强河道管理，保障防洪安全，制定本办法。\n", "").replace(
        "第六条 河道两岸五米范围内不得新建建筑物。", "第六条 为了加强河道管理，保障防洪安全，制定本办法。")
    services.import_version(manager, draft, parsing.parse_text(moved))
    anchor = services.anchor_of(db.session.get(DraftComment, kept.id), draft.current_version)
    assert anchor.state == "article" and anchor.provision.label == "第六条"


def test_what_changed_lists_added_removed_reworded_and_renumbered_articles(consultation):
    draft, manager = consultation
    services.import_version(manager, draft, parsing.parse_text(SECOND))
    before, after = draft.versions
    changes = {(c.kind, (c.before.label if c.before else None), (c.after.label if c.after else None))
               for c in services.compare_versions(before, after)}
    assert changes == {("added", None, "第二条"), ("removed", "第六条", None), ("reworded", "第五条", "第六条"),
                       ("renumbered", "第二条", "第三条"), ("renumbered", "第三条", "第四条"),
                       ("renumbered", "第四条", "第五条")}
    reworded = next(c for c in services.compare_versions(before, after) if c.kind == "reworded")
    assert ("insert", "、时段") in reworded.segments and ("delete", "并") in reworded.segments


def test_a_citizen_comments_on_an_article_and_a_passage_through_the_proposal_form(consultation, client):
    draft, _manager = consultation
    citizen = make_user("hedao_citizen")
    target = article(draft, "第五条")
    login(client, citizen)
    form = client.get(f"/suggestions/new/{draft.campaign_id}",
                      query_string={"article": target.article_id, "quote": "应当经县水利局批准"})
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and "在河道管理范围内采砂" in page and 'id="draft-target"' in page
    assert "应当经县水利局批准</textarea>" in page and 'value="关于第五条的意见"' in page
    response = client.post(f"/suggestions/new/{draft.campaign_id}", data={
        "title": "关于第五条的意见", "body": "建议明确采砂审批的办理期限，并向社会公开审批结果，接受群众监督。",
        "category": draft.campaign.categories[0].code, "message_type": "suggestion",
        "draft_article": str(target.article_id), "draft_quote": "应当经县水利局批准",
        "submission_key": "drafts-test-key-0001"})
    assert response.status_code == 303
    saved = db.session.scalar(sa.select(Suggestion).where(Suggestion.author_id == citizen.id))
    anchor = db.session.get(DraftComment, saved.id)
    assert (anchor.article_id, anchor.quote, anchor.version_id) == (target.article_id, "应当经县水利局批准",
                                                                    draft.current_version.id)
    # the draft page counts it; search finds it after the write, as for any proposal
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert re.search(rf'id="article-{target.article_id}".*?1 (comment|条意见)', page, re.S)
    drain(get_backend())
    found = client.get("/search/", query_string={"q": "采砂审批"}).get_data(as_text=True)
    assert f"/suggestions/{saved.id}" in found


def test_a_passage_not_in_the_article_is_refused_and_nothing_is_saved(consultation, client):
    draft, _manager = consultation
    citizen = make_user("hedao_citizen2")
    target = article(draft, "第五条")
    login(client, citizen)
    response = client.post(f"/suggestions/new/{draft.campaign_id}", data={
        "title": "关于第五条的意见", "body": "建议明确采砂审批的办理期限，并向社会公开审批结果。",
        "category": draft.campaign.categories[0].code, "message_type": "suggestion",
        "draft_article": str(target.article_id), "draft_quote": "这句话不在条文里"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "这句话不在条文里" in page and ("copied from the article" in page or "从条文中复制" in page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftComment)) == 0


def test_a_proposal_on_a_campaign_with_a_draft_is_a_comment_on_the_whole_draft(consultation, client):
    draft, _manager = consultation
    citizen = make_user("hedao_citizen3")
    login(client, citizen)
    response = client.post(f"/suggestions/new/{draft.campaign_id}", data={
        "title": "建议增加河长制的规定", "body": "办法没有提到河长制，建议增加一章规定河长的职责和考核办法。",
        "category": draft.campaign.categories[0].code, "message_type": "suggestion"})
    assert response.status_code == 303
    saved = db.session.scalar(sa.select(Suggestion).where(Suggestion.author_id == citizen.id))
    assert db.session.get(DraftComment, saved.id).article_id is None


def test_staff_read_each_articles_summary_and_export_it_others_cannot(consultation, client):
    draft, manager = consultation
    target = article(draft, "第五条")
    author = make_user("repeat_author")
    first = comment(draft, target, quote="应当经县水利局批准", author=author)
    comment(draft, target, author=author, title="采砂审批应当公开")
    comment(draft, target)
    db.session.add(PrivateContact(suggestion_id=first.id, name="张三", phone="13800000000", address="",
                                  note=""))
    suggestion_services.vote(make_user(), first, 1)
    db.session.commit()
    url = f"/drafts/{draft.id}/articles/{target.article_id}"
    public_page = client.get(url).get_data(as_text=True)
    assert "关于采砂审批的意见" in public_page and 'id="article-summary"' not in public_page
    assert client.get(url + ".csv").status_code in (302, 401)  # log in first
    login(client, make_user("just_a_citizen"))
    assert client.get(url + ".csv").status_code == 403
    assert client.get(f"/drafts/{draft.id}/summary").status_code == 403
    login(client, manager)
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="summary-comments">3<', page) and re.search(r'id="summary-commenters">2<', page)
    response = client.get(url + ".csv", query_string={"passage": "1"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["proposal_id", "url", "article", "version_commented", "passage"]
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [(str(first.id), "第五条", "1", "应当经县水利局批准")]
    whole = client.get(url + ".csv").get_data(as_text=True)
    assert whole.count("第五条") >= 3 and "13800000000" not in whole and "张三" not in whole
    table = client.get(f"/drafts/{draft.id}/summary").get_data(as_text=True)
    assert re.search(r"第五条</a></td>\s*<td>3</td><td>2</td><td>1</td>", table)


def test_importing_through_the_page_managers_only_with_a_message_for_a_bad_file(consultation, client):
    draft, manager = consultation
    page_url = f"/drafts/import/{draft.campaign_id}"
    login(client, make_user("not_a_manager"))
    assert client.get(page_url).status_code == 403
    login(client, manager)
    refused = client.post(page_url, data={"document": (io.BytesIO("只是一段话。".encode()), "notes.txt")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and ("第…条" in refused.get_data(as_text=True))
    assert len(db.session.get(Draft, draft.id).versions) == 1
    response = client.post(page_url, data={"document": (io.BytesIO(SECOND.encode()), "v2.md"), "note": "修改稿"},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    assert [v.note for v in db.session.get(Draft, draft.id).versions] == ["征求意见稿", "修改稿"]
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "draft.version")).actor_id == manager.id
    changes = client.get(f"/drafts/{draft.id}/changes").get_data(as_text=True)
    assert "<ins>、时段</ins>" in changes
    title = re.search(r"<title>([^<]*)</title>", changes).group(1)
    assert "青溪县河道管理办法" in title and "→" not in title  # the renumbered list is in the page, not the title
    assert re.search(r'id="renumbered".*第二条 → 第三条', changes, re.S)


def test_comments_made_before_the_draft_was_imported_are_tied_to_the_article_they_name(app):
    body = make_body()
    campaign = make_campaign(body)
    earlier = [suggestion_services.submit_suggestion(
        make_user(), campaign, title=title, body="我认为这一条需要修改，理由如下，请起草部门研究。",
        category=campaign.categories[0], message_type="suggestion")
        for title in ("对第五条采砂审批的意见", "关于第十条的意见", "总体意见")]
    draft = services.create_draft(make_staff(body, role="manager"), campaign, parsing.parse_text(FIRST))
    assert services.link_comments_by_mention(draft) == 3
    tied = {c.suggestion_id: c.article_id for c in db.session.scalars(sa.select(DraftComment))}
    assert tied[earlier[0].id] == article(draft, "第五条").article_id
    assert tied[earlier[1].id] is None and tied[earlier[2].id] is None  # no 第十条: the whole draft
    assert services.link_comments_by_mention(draft) == 0  # once only


def test_the_command_line_imports_a_draft_then_its_next_version(app, tmp_path):
    campaign = make_campaign(make_body())
    db.session.commit()
    first, second = tmp_path / "v1.md", tmp_path / "v2.md"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["drafts", "import", str(campaign.id), str(first), "--note", "征求意见稿"])
    assert result.exit_code == 0 and "6 articles" in result.output
    result = runner.invoke(args=["drafts", "import", str(campaign.id), str(second), "--note", "修改稿"])
    assert result.exit_code == 0 and "version 2" in result.output
    (tmp_path / "bad.md").write_text("没有条文的一段话。", encoding="utf-8")
    result = runner.invoke(args=["drafts", "import", str(campaign.id), str(tmp_path / "bad.md")])
    assert result.exit_code != 0 and "no articles" in result.output
    db.session.expire_all()
    assert [v.note for v in services.draft_of(campaign).versions] == ["征求意见稿", "修改稿"]


def test_counts_follow_a_comment_screened_published_withdrawn_or_hidden(app):
    body = make_body()
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body, screening=True)
    draft = services.create_draft(manager, campaign, parsing.parse_text(FIRST))
    target = article(draft, "第五条")
    author = make_user()
    waiting = comment(draft, target, author=author)
    db.session.commit()
    assert services.comment_counts(draft) == {}  # awaiting screening: not counted
    suggestion_services.publish_suggestion(manager, waiting)
    db.session.commit()
    assert services.comment_counts(draft) == {target.article_id: 1}
    suggestion_services.hide_suggestion(make_user(role=Role.MODERATOR), waiting, "含有他人隐私")
    db.session.commit()
    assert services.comment_counts(draft) == {}
    suggestion_services.unhide_suggestion(make_user(role=Role.MODERATOR), waiting)
    db.session.commit()
    assert services.comment_counts(draft) == {target.article_id: 1}
    suggestion_services.withdraw_suggestion(author, waiting)
    db.session.commit()
    assert services.comment_counts(draft) == {}
    # the per-article table, which reads the proposals themselves, agrees
    assert all(row.comments == 0 for row in services.article_table(draft))


def test_the_api_comments_on_an_article_or_the_whole_draft_and_refuses_a_foreign_passage(consultation, client):
    from tests.api.helpers import api_post, make_token
    draft, _manager = consultation
    secret = make_token(make_user("api_commenter"))
    target = article(draft, "第五条")
    base = {"campaign_id": draft.campaign_id, "title": "关于第五条的意见", "message_type": "suggestion",
            "body": "建议明确采砂审批的办理期限，并向社会公开审批结果。", "category": draft.campaign.categories[0].code}
    on_article = api_post(client, "/api/v1/proposals", secret,
                          json={**base, "draft_article": target.article_id, "draft_quote": "应当经县水利局批准"})
    on_whole = api_post(client, "/api/v1/proposals", secret, json={**base, "title": "对办法的总体意见"})
    assert on_article.status_code == 201 and on_whole.status_code == 201
    anchors = {c.suggestion_id: (c.article_id, c.quote) for c in db.session.scalars(sa.select(DraftComment))}
    assert anchors == {on_article.get_json()["id"]: (target.article_id, "应当经县水利局批准"),
                       on_whole.get_json()["id"]: (None, "")}
    for bad in ({"draft_article": 999_999}, {"draft_article": "5"},
                {"draft_article": target.article_id, "draft_quote": "不在条文里的话"}):
        assert api_post(client, "/api/v1/proposals", secret, json={**base, **bad}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 2


@pytest.mark.parametrize("chosen", ["²", "99999999999999999999", "-1", "0", "abc", "999999"])
def test_an_odd_article_in_the_comment_form_never_answers_500_and_saves_nothing_unsaid(consultation, client, chosen):
    draft, _manager = consultation
    login(client, make_user("odd_article"))
    page = client.get(f"/suggestions/new/{draft.campaign_id}", query_string={"article": chosen})
    assert page.status_code == 200
    response = client.post(f"/suggestions/new/{draft.campaign_id}", data={
        "title": "关于条文的意见", "body": "建议明确审批期限，并向社会公开审批结果。", "draft_article": chosen,
        "category": draft.campaign.categories[0].code, "message_type": "suggestion"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "建议明确审批期限" in text and 'value="whole"' in text  # kept, and sent again it is on the whole draft
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0


def test_a_passage_across_two_paragraphs_is_kept(app):
    body = make_body()
    draft = services.create_draft(make_staff(body, role="manager"), make_campaign(body), parsing.parse_text(
        "第一条 学校应当公布下列事项：\n（一）服务内容；\n（二）收费标准。"))
    provision = article(draft, "第一条")
    assert services.passage_in(provision.text, "公布下列事项：\n（一）服务内容") == "公布下列事项： （一）服务内容"
    kept = comment(draft, provision, quote="公布下列事项：\n（一）服务内容")
    anchor = services.anchor_of(db.session.get(DraftComment, kept.id), draft.current_version)
    assert anchor.passage_found


@pytest.mark.parametrize("name, data, message", [
    ("draft.md", "第一条 文本。\x00第二条".encode(), "not text"),
    ("draft.txt", "第一条 本办法自发布之日起施行。".encode("gb18030"), "UTF-8"),
    ("draft.docx", b"PK not really a zip", ".docx"),
    ("notes.md", "只是一段话。".encode(), "第…条")])
def test_an_unreadable_file_is_refused_with_its_reason_and_writes_nothing(consultation, client, name, data, message):
    draft, manager = consultation
    login(client, manager)
    response = client.post(f"/drafts/import/{draft.campaign_id}", data={"document": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    in_chinese = {"not text": "非文本", "UTF-8": "UTF-8", ".docx": ".docx", "第…条": "第…条"}[message]
    assert message in page or in_chinese in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftVersion)) == 1


def test_odd_numbers_and_format_characters_in_a_file_are_read_safely(consultation, client):
    draft, manager = consultation
    login(client, manager)
    text = SECOND.replace("第六条 在河道", "第十6条 在河道").replace(
        "第五条 禁止", "第99999999999999999999条 禁止\u202e")
    response = client.post(f"/drafts/import/{draft.campaign_id}", data={
        "document": (io.BytesIO(text.encode()), "v2\u202e.md")}, content_type="multipart/form-data")
    assert response.status_code == 303
    version = services.draft_of(db.session.get(Draft, draft.id).campaign).current_version
    assert version.source_name == "v2.md"
    assert not any("\u202e" in p.text for p in version.provisions)
    big = next(p for p in version.provisions if p.label.startswith("第99999"))
    assert big.number is None and big.text == "禁止在河道管理范围内倾倒垃圾、渣土。"
    mixed = next(p for p in version.provisions if p.label == "第十6条")  # an article, with no number
    assert mixed.number is None and mixed.article_id is not None


def test_a_title_too_long_keeps_the_pasted_text_on_the_form(app, client):
    body = make_body()
    manager = make_staff(body, role="manager")
    campaign = make_campaign(body)
    db.session.commit()
    login(client, manager)
    pasted = "# " + "很长的标题" * 50 + "\n第一条 本办法自发布之日起施行。"
    response = client.post(f"/drafts/import/{campaign.id}", data={"text": pasted})
    assert response.status_code == 422
    assert "本办法自发布之日起施行" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
