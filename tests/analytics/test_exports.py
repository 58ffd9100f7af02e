"""Open data: every export file (the CLI's output directory and every download URL) is built from seeded personal
data and none of it comes out unmasked; CSV and JSON agree; hidden, pending and draft data never appear; a
campaign's export holds that campaign only."""
import csv
import io
import json
import os
import re
from datetime import date

import pytest
import sqlalchemy as sa

from accounts.models import Role
from analytics import exports
from campaigns.models import CampaignStatus
from core.extensions import db
from outcomes import services as outcome_services
from suggestions import clustering, ratings, services
from suggestions.models import Cluster, ClusterMember
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

PHONE, PHONE_SPACED, ID18, ID15 = "13812345678", "+86 139-1234-5678", "110101199003074518", "110101900307123"
EMAIL, AUTHOR_EMAIL = "wang.wu@example.com", "zhang.san@example.com"
AUTHOR_USERNAME, AUTHOR_NAME = "zhangsan_pii", "张小三测试"
SUPPORTER_USERNAME, SUPPORTER_NAME = "lisi_supporter", "李小四测试"
STAFF_USERNAME = "staff_wangliu"
SECRETS = [PHONE, "139-1234-5678", "1234-5678", ID18, "199003074518", ID15, EMAIL, AUTHOR_EMAIL, AUTHOR_USERNAME,
           AUTHOR_NAME, SUPPORTER_USERNAME, SUPPORTER_NAME, STAFF_USERNAME, "评价备注"]
HIDDEN_MARK, PENDING_MARK, DRAFT_MARK, OTHER_MARK = "隐藏标记甲", "待审标记乙", "草稿标记丁", "其他活动丙"
PII_BODY = (f"城南路口每天早高峰违停严重，已多次反映。我的电话{PHONE}，备用{PHONE_SPACED}，身份证号{ID18}，"
            f"旧身份证{ID15}，邮箱{EMAIL}，也可写信到{AUTHOR_EMAIL}。建议增派交警并施划禁停标线。")


@pytest.fixture
def seeded(app):
    body = make_body(name="青溪县交通运输局")
    campaign = make_campaign(body, title="青溪县城南交通整治建议征集")
    other = make_campaign(body, title=f"{OTHER_MARK}征集")
    screened = make_campaign(body, title="先审后发的征集", screening=True)
    staff = make_staff(body, username=STAFF_USERNAME)
    moderator = make_user(role=Role.MODERATOR)
    author = make_user(AUTHOR_USERNAME, display_name=AUTHOR_NAME)
    author.email = AUTHOR_EMAIL
    supporter = make_user(SUPPORTER_USERNAME, display_name=SUPPORTER_NAME)

    first = make_suggestion(campaign, author, title=f"建议整治城南路口违停 电话{PHONE}", body=PII_BODY)
    second = make_suggestion(campaign, make_user(), title=f"建议整治城南路口违停 电话{PHONE}", body=PII_BODY)
    plain = make_suggestion(campaign, make_user(), title="建议延长青溪大桥人行绿灯时间",
                            body="青溪大桥路口人行绿灯只有十五秒，老人来不及通过，建议延长到三十秒。")
    hidden = make_suggestion(campaign, make_user(), title=f"{HIDDEN_MARK}的提案",
                             body=f"这条提案会被隐藏：{HIDDEN_MARK}，电话13900001111。")
    services.hide_suggestion(moderator, hidden, "含有个人信息")
    pending = make_suggestion(screened, make_user(), title=f"{PENDING_MARK}的提案", body=f"等待审核：{PENDING_MARK}。")
    in_other = make_suggestion(other, make_user(), title=f"{OTHER_MARK}的提案", body=f"另一个活动的提案：{OTHER_MARK}。")
    draft = make_campaign(body, title=f"{DRAFT_MARK}征集", status=CampaignStatus.DRAFT)

    services.vote(supporter, first, 1)
    services.vote(supporter, in_other, 1)
    services.reply_to_suggestion(staff, first, decision="adopted",
                                 content=f"您好，已安排整治。如有问题请拨打{PHONE}或发邮件至{EMAIL}，经办人身份证{ID18}。")
    ratings.rate_reply(author, first, "satisfied", [], comment=f"评价备注：谢谢，我的电话{PHONE}")
    services.reply_to_suggestion(staff, plain, decision="under_study", content="您好，您的建议正在研究中，谢谢关注。")
    ratings.rate_reply(plain.author, plain, "unsatisfied", ["too_slow"], comment="评价备注：太慢")
    services.reply_to_suggestion(staff, in_other, decision="explained", content="您好，情况说明如下，谢谢。")
    clustering.cluster_campaign(campaign)
    clustering.cluster_campaign(other)
    cluster = db.session.scalar(sa.select(Cluster).join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
                                .where(ClusterMember.suggestion_id == first.id))
    assert cluster is not None and cluster.size >= 2

    outcome = outcome_services.create_outcome(
        staff, body, issued_on=date(2026, 3, 1), title=f"城南路口违停整治方案（联系人电话{PHONE}）",
        document_name="青溪县城南片区交通整治方案", document_number="青交发〔2026〕3号", link="https://example.gov.cn/doc/3",
        clause=f"第三条 增设禁停标线。联系人身份证{ID18}，邮箱{EMAIL}。", stage="issued", progress=50)
    outcome_services.add_milestone(staff, outcome, date(2026, 3, 10), "标线施划完成", f"验收人电话{PHONE}")
    outcome_services.link_suggestion(staff, outcome, first)
    outcome_services.link_cluster(staff, outcome, cluster)
    other_outcome = outcome_services.create_outcome(
        staff, body, title=f"{OTHER_MARK}的成果", document_name="", document_number="", link="", clause="",
        stage="adopted", progress=0)
    outcome_services.link_suggestion(staff, other_outcome, in_other)
    db.session.commit()
    return {"campaign": campaign.id, "other": other.id, "draft": draft.id, "first": first.id,
            "second": second.id, "plain": plain.id, "hidden": hidden.id, "pending": pending.id,
            "in_other": in_other.id, "cluster": cluster.id, "outcome": outcome.id, "other_outcome": other_outcome.id}


def export_files():
    names = [f"{name}.{fmt}" for name in exports.DATASETS for fmt in exports.FORMATS]
    return names + ["data-dictionary.json", "figures.json"]


def run_export(app, out, *args):
    result = app.test_cli_runner().invoke(args=["analytics", "export", "--out", str(out), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return {name: (out / name).read_bytes() for name in export_files()}


def download_all(client, prefix):
    files = {}
    for name in export_files():
        response = client.get(f"{prefix}{name}", buffered=True)  # read the stream inside the request
        assert response.status_code == 200, name
        assert "attachment" in response.headers["Content-Disposition"]
        if name.endswith(".csv"):
            assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
        else:
            assert response.mimetype == "application/json"
        files[name] = response.get_data()
    return files


def assert_nothing_leaks(files, *marks):
    for name, content in files.items():
        text = content.decode("utf-8")
        for secret in (*SECRETS, *marks):
            assert secret not in text, (name, secret)


def parse(files, name):
    raw = files[f"{name}.csv"]
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV files start with a byte-order mark for spreadsheet programs"
    header, *lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header == [c.name for c in exports.DATASETS[name].columns]
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    return rows, json.loads(files[f"{name}.json"])


def assert_csv_matches_json(files):
    for name, dataset in exports.DATASETS.items():
        rows, objects = parse(files, name)
        assert len(rows) == len(objects), name
        for row, obj in zip(rows, objects, strict=True):
            assert list(obj) == [c.name for c in dataset.columns]
            assert row == {k: exports.csv_value(v) for k, v in obj.items()}, name


def test_exports_mask_personal_data_and_show_only_public_proposals(app, client, seeded, tmp_path):
    files = {("cli", "site"): run_export(app, tmp_path / "site"),
             ("cli", "campaign"): run_export(app, tmp_path / "campaign", "--campaign", str(seeded["campaign"])),
             ("web", "site"): download_all(client, "/open-data/"),
             ("web", "campaign"): download_all(client, f"/open-data/campaigns/{seeded['campaign']}/")}
    for (_, scope), found in files.items():
        marks = (HIDDEN_MARK, PENDING_MARK, DRAFT_MARK) + ((OTHER_MARK,) if scope == "campaign" else ())
        assert_nothing_leaks(found, *marks)
        assert_csv_matches_json(found)
        # What masking leaves behind is there: the texts were exported, masked.
        proposals = {p["id"]: p for p in json.loads(found["proposals.json"])}
        assert "138****5678" in proposals[seeded["first"]]["body"] and "110101************" in \
            proposals[seeded["first"]]["body"]
        assert "***@***" in proposals[seeded["first"]]["body"]
        for name in exports.DATASETS:  # every dataset has rows, so the scan above means something
            assert json.loads(found[f"{name}.json"]), (scope, name)

    for source in ("cli", "web"):
        site, campaign = files[source, "site"], files[source, "campaign"]
        ids = {p["id"] for p in json.loads(site["proposals.json"])}
        assert ids == {seeded[k] for k in ("first", "second", "plain", "in_other")}
        assert OTHER_MARK in site["proposals.csv"].decode("utf-8-sig")
        # A campaign's export holds that campaign only.
        proposals = json.loads(campaign["proposals.json"])
        assert {p["id"] for p in proposals} == {seeded[k] for k in ("first", "second", "plain")}
        assert {p["campaign_id"] for p in proposals} == {seeded["campaign"]}
        assert [c["id"] for c in json.loads(campaign["campaigns.json"])] == [seeded["campaign"]]
        assert {r["proposal_id"] for r in json.loads(campaign["replies.json"])} == {seeded["first"], seeded["plain"]}
        assert {c["campaign_id"] for c in json.loads(campaign["clusters.json"])} == {seeded["campaign"]}
        assert [o["id"] for o in json.loads(campaign["outcomes.json"])] == [seeded["outcome"]]
        assert {m["outcome_id"] for m in json.loads(campaign["milestones.json"])} == {seeded["outcome"]}
        assert json.loads(campaign["figures.json"])["scope"] == {"campaign_id": seeded["campaign"]}

        # Aggregates only, and the fields the dictionary promises.
        rating_rows = json.loads(campaign["ratings.json"])
        assert [(r["rated"], r["satisfied"], r["basically_satisfied"], r["unsatisfied"]) for r in rating_rows] == \
            [(2, 1, 0, 1)]
        cluster = next(c for c in json.loads(site["clusters.json"]) if c["id"] == seeded["cluster"])
        assert seeded["first"] in cluster["member_ids"] and seeded["hidden"] not in cluster["member_ids"]
        assert cluster["size"] == len(cluster["member_ids"])
        outcome = next(o for o in json.loads(site["outcomes.json"]) if o["id"] == seeded["outcome"])
        assert outcome["proposal_ids"] == [seeded["first"]] and outcome["cluster_ids"] == [seeded["cluster"]]
        reply = next(r for r in json.loads(site["replies.json"]) if r["proposal_id"] == seeded["first"])
        assert reply["decision"] == "adopted" and "138****5678" in reply["content"]
        first = next(p for p in json.loads(site["proposals.json"]) if p["id"] == seeded["first"])
        assert first["support_count"] == 1 and first["status"] == "replied" and first["handling_days"] == 0
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first["first_reply_on"])
        figures = json.loads(site["figures.json"])["figures"]
        assert figures["messages"] == 4
        dictionary = json.loads(site["data-dictionary.json"])
        for dataset in exports.DATASETS.values():
            described = dictionary["files"][f"{dataset.name}.csv / {dataset.name}.json"]["columns"]
            assert [c["name"] for c in described] == [c.name for c in dataset.columns]


def test_open_data_pages_and_refusals(app, client, seeded, tmp_path):
    page = client.get("/open-data/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/open-data/proposals.csv" in text and "/open-data/data-dictionary.json" in text
    assert DRAFT_MARK not in text
    page = client.get(f"/open-data/?campaign={seeded['campaign']}").get_data(as_text=True)
    assert f"/open-data/campaigns/{seeded['campaign']}/replies.json" in page
    assert 'href="/open-data/"' in client.get("/").get_data(as_text=True)  # linked from every page's footer
    for url in (f"/open-data/campaigns/{seeded['draft']}/proposals.csv", f"/open-data/?campaign={seeded['draft']}",
                "/open-data/campaigns/999999/proposals.csv", "/open-data/proposals.xml", "/open-data/users.csv",
                "/open-data/..%2Fapp.py"):
        assert client.get(url).status_code == 404, url
    result = app.test_cli_runner().invoke(args=["analytics", "export", "--out", str(tmp_path / "x"),
                                                "--campaign", str(seeded["draft"])])
    assert result.exit_code != 0 and not (tmp_path / "x").exists()


def test_docs_describe_every_column():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "open-data.md"), encoding="utf-8") as handle:
        doc = handle.read()
    for dataset in exports.DATASETS.values():
        section = doc.split(f"### {dataset.name}", 1)
        assert len(section) == 2, dataset.name
        body = section[1].split("\n### ", 1)[0]
        for column in dataset.columns:
            assert f"| `{column.name}` |" in body, (dataset.name, column.name)


def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    from analytics.exports import csv_value

    assert csv_value("=HYPERLINK(\"http://evil.example\")") == "'=HYPERLINK(\"http://evil.example\")"
    assert [csv_value(v) for v in ("+1", "-2", "@SUM(A1)", "建议增设路灯", -3, None)] == \
        ["'+1", "'-2", "'@SUM(A1)", "建议增设路灯", "-3", ""]
