"""The audit-log viewer reads as Chinese for an administrator or a body's manager: actions, object types and details
by their labels (a code nobody labelled shows as itself), objects by name with a link where the reader may open them,
and filters offering only the object types, and the actions on them, found in the reader's rows."""
import ast
import pathlib
import re

import pytest

from accounts import services as accounts_services
from core import audit
from core.audit import ACTIONS, AuditLog
from core.extensions import db
from moderation import services as moderation_services
from moderation import words
from suggestions import services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

ROOT = pathlib.Path(__file__).resolve().parents[2]


def rows_of(response) -> str:
    """The text of the audit table only (the filters' choices name every action too)."""
    found = re.search(r'<table[^>]*id="audit".*?</table>', response.get_data(as_text=True), re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""
    return text.replace("： ", "：")  # a detail's label and value, as read


def options_of(response, name: str) -> list[tuple[str, str]]:
    """A select's options: (value, label)."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', response.get_data(as_text=True), re.S).group(0)
    return [(v, t.strip()) for v, t in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)]


@pytest.fixture
def history(app):
    """A body with a manager, a proposal submitted and accepted, one rejected as a duplicate, one reported and
    hidden; an administrator."""
    body = make_body("青溪县交通运输局")
    manager, staff = make_staff(body, "traffic_manager", role="manager"), make_staff(body, "traffic_staff")
    campaign = make_campaign(body, title="青溪县公交线网优化建议征集")
    accepted = make_suggestion(campaign, title="建议增开城北至高铁站的公交线路")
    services.accept_suggestion(staff, accepted)
    rejected = make_suggestion(campaign, title="建议增开城北至高铁站公交")
    services.reject_suggestion(staff, rejected, "duplicate")
    hidden = make_suggestion(campaign, title="公交司机态度恶劣")
    moderation_services.report(make_user(), hidden, "abusive")
    moderation_services.hide(make_user("audit_moderator", role="moderator"), hidden, "含人身攻击")
    admin = make_user("audit_admin", role="admin")
    db.session.commit()
    return body, manager, admin, accepted, rejected, hidden


def test_rows_show_labels_names_and_links_instead_of_codes(app, client, history):
    body, manager, admin, accepted, rejected, hidden = history
    login(client, admin)
    response = client.get("/moderation/audit")
    page, rows = response.get_data(as_text=True), rows_of(response)
    for label in ("提交建议", "受理建议", "不予发布", "举报内容", "屏蔽建议", "新建机构", "添加工作人员"):
        assert label in rows
    assert not re.search(r"\b(suggestion|moderation|body)\.[a-z_]+\b", rows)  # no action codes
    assert "suggestions #" not in rows and "bodies #" not in rows
    # The object by its name and number, linked where the reader may open it.
    assert f'<a href="/suggestions/{accepted.id}">建议 #{accepted.id}</a>' in page
    assert "建议增开城北至高铁站的公交线路" in rows
    assert f'<a href="/suggestions/{hidden.id}">建议 #{hidden.id}</a>' in page  # hidden, but an admin may read it
    assert f'<a href="/accounts/bodies/{body.id}/staff">机构 #{body.id}</a>' in page and "青溪县交通运输局" in rows
    # The details by their labels, values translated where known.
    assert "状态：已公开" in rows and "留有保密联系方式：否" in rows
    assert "原为：已公开 状态：已受理" in rows and "需要调查核实：否" in rows
    assert "理由：重复提交" in rows  # the reject reason's code, labelled
    assert "理由：辱骂或人身攻击" in rows and "理由：含人身攻击" in rows  # a report's reason; a moderator's words
    assert f"账号：{manager.public_name} (traffic_manager)" in rows and "角色：负责人" in rows  # an admin
    for code in ("private_contact", "needs_investigation", "duplicate", "published", "user_id"):
        assert code not in rows


def test_a_code_or_type_nobody_labelled_shows_as_itself(app, client, history):
    body, manager, admin, *_ = history
    db.session.add(AuditLog(actor_id=None, action="archive.sweep", target_type="attachments", target_id=7,
                            body_id=body.id, detail={"files": 3, "dry_run": True}))
    db.session.add(AuditLog(actor_id=None, action="cluster.confirm", target_type="clusters", target_id=99,
                            body_id=body.id, detail={"reason": "同一问题", "members": list(range(101, 115))}))
    db.session.commit()
    login(client, manager)
    response = client.get("/moderation/audit")
    rows = rows_of(response)
    assert "确认相似建议组" in rows and "相似建议组 #99" in rows  # a group since removed: named, not linked
    assert "组内建议：#101、#102" in rows and "#110 等 14 项" in rows and "#111" not in rows  # a long list, cut
    assert "archive.sweep" in rows and "attachments #7" in rows and "files：3" in rows and "dry_run：是" in rows
    assert ("attachments", "attachments") in options_of(response, "target_type")
    narrowed = client.get("/moderation/audit?action=archive.sweep")
    assert "attachments #7" in rows_of(narrowed) and "提交建议" not in rows_of(narrowed)
    assert ("archive.sweep", "archive.sweep") in options_of(narrowed, "action")  # selected, shown as itself


def test_the_type_filter_lists_the_types_found_with_labels(app, client, history):
    body, manager, admin, accepted, *_ = history
    accounts_services.deactivate_user(admin, make_user(), "测试")
    db.session.commit()
    login(client, admin)
    response = client.get("/moderation/audit")
    types = options_of(response, "target_type")
    assert types == [("", "全部"), ("suggestions", "建议"), ("users", "账号"), ("bodies", "机构")]
    page = response.get_data(as_text=True)
    for table in ("analytics_counts", "sms_outbox", "alembic_version", "campaigns"):
        assert f'value="{table}"' not in page
    assert "以英文句点结尾" not in page and "前缀" not in page  # no prefix rule to learn
    # A body's manager: only the types of their bodies' rows (no account rows there).
    client.post("/accounts/logout")
    login(client, manager)
    response = client.get("/moderation/audit")
    assert options_of(response, "target_type") == [("", "全部"), ("suggestions", "建议"), ("bodies", "机构")]
    # The type filter still narrows, by the type's code in the address.
    rows = rows_of(client.get("/moderation/audit?target_type=bodies"))
    assert "机构 #" in rows and "建议 #" not in rows


def test_the_action_filter_is_a_grouped_choice_of_labelled_actions(app, client, history):
    body, manager, admin, accepted, *_ = history
    campaign = accepted.campaign
    audit.record(None, "clusters.rebuild", campaign, body_id=body.id, proposals=3, clusters=1)
    db.session.commit()
    login(client, manager)
    response = client.get("/moderation/audit")
    page = response.get_data(as_text=True)
    actions = dict(options_of(response, "action"))
    assert actions["suggestion."] == "“建议”类全部操作" and actions["suggestion.accept"] == "受理建议"
    assert actions["clusters.rebuild"] == "批量重新归并相似建议" and '<optgroup label="相似建议">' in page
    assert '<optgroup label="建议">' in page and '<optgroup label="举报与敏感词">' in page
    assert "user.deactivate" not in actions and "flood.hold" not in actions  # no such objects in their rows
    # A group's choice takes every action of the group, including a code outside its prefix.
    rows = rows_of(client.get("/moderation/audit?action=cluster."))
    assert "批量重新归并相似建议" in rows and "建议数：3" in rows and "形成的相似建议组数：1" in rows
    assert "受理建议" not in rows
    rows = rows_of(client.get("/moderation/audit?action=suggestion.reject"))
    assert "不予发布" in rows and "受理建议" not in rows
    assert client.get("/moderation/audit?action=<script>").status_code == 200  # refused, not an error


def test_links_only_where_the_reader_may_open_the_object(app, client, history):
    body, manager, admin, accepted, *_ = history
    entry = words.add_words(admin, "abuse", "测试敏感词")[0][0]
    db.session.flush()
    kept = words.add_words(admin, "abuse", "另一个词")[0][0]
    words.remove_word(admin, entry)
    other_body = make_body("青溪县教育局")
    pending = make_suggestion(make_campaign(other_body, screening=True), title="建议延长学校图书馆开放时间")
    db.session.commit()
    login(client, admin)
    response = client.get("/moderation/audit")
    page, rows = response.get_data(as_text=True), rows_of(response)
    assert "删除敏感词" in rows and "添加敏感词" in rows and "词语：测试敏感词" in rows
    assert f"敏感词 #{entry.id}</a>" not in page  # removed: nothing to open
    assert f'">敏感词 #{kept.id}</a>' in page
    assert f'<a href="/suggestions/{pending.id}">建议 #{pending.id}</a>' in page  # awaiting screening: an admin reads it
    client.post("/accounts/logout")
    login(client, manager)
    page = client.get("/moderation/audit").get_data(as_text=True)
    assert f"建议 #{pending.id}" not in page  # another body's row
    assert f'<a href="/accounts/bodies/{body.id}/staff">机构 #{body.id}</a>' in page  # they manage it


def test_every_recorded_action_has_a_label():
    """Every action code written by ``audit.record`` (or the transitions that call it) is labelled."""
    found = set()
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").exists() and d.name != "tests"]
    for path in (p for package in packages for p in package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in ("record", "_transition", "_move"):
                    found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                              and re.fullmatch(r"[a-z_]+\.[a-z_]+", a.value)}
                    for a in node.args:
                        if isinstance(a, ast.JoinedStr):  # moderation.{dismiss,uphold}_reports
                            found |= {"moderation.dismiss_reports", "moderation.uphold_reports"}
    assert len(found) > 50
    assert sorted(found - set(ACTIONS)) == []
