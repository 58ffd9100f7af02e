"""History import (flask analytics import-messages): counts, idempotence, fields, and per-year handling days
equal to an independent computation over the same file rows (plain csv and statistics, no importer code)."""
import csv
import os
import re
import statistics
from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa

from accounts.models import User
from analytics import importer
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.models import utcnow
from search.backend import SearchQuery
from search.indexing import get_backend
from suggestions.deadlines import beijing_date
from suggestions.models import STAFF_DECISIONS, Decision, Reply, Status, Suggestion
from tests.factories import make_body

HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
LONG_TITLE = "关于" + "青溪县城南片区老旧小区加装电梯、改造雨污管网、增设停车位和充电桩以及完善无障碍设施" * 2 + "的建议"
ROWS = [
    # ref, user, title, time, body, reply, reply time
    ["1001", "U0001", "建议在青溪河滨步道增设路灯", "2019/3/5 9:02:11",
     "青溪河滨步道晚上没有路灯，散步的老人和孩子看不清路，建议增设路灯。", "您好，县城管局已安排施工，预计下月完工。",
     "2019/3/20 16:30:00"],
    ["1002", "U0002", "關於社區停車難問題的建議", "2019/12/30 20:15:00",
     "我們社區停車位嚴重不足，晚上車輛亂停，消防通道被堵，建議規劃立體停車場。", "您好，已轉交住建部門研究。",
     "2020/1/3 9:00:00"],
    ["1001", "U0009", "重复编号的留言", "2019/3/6 9:00:00", "这一行的编号与上面重复，应当跳过。", "", ""],
    ["1003", "U0003", "投诉夜间施工噪音扰民", "2019/13/45 25:61:00", "时间写错的一行。", "已收悉", "2019/4/1 9:00:00"],
    ["1004", "U0004", "咨询公租房申请条件", "2020/5/10 8:00:00", "请问外地户籍能否申请公租房？需要哪些材料？",
     "您好，请携带身份证明到县住建局窗口咨询。", "2020/5/1 10:00:00"],
    ["1005", "U0005", "反映菜市场周边占道经营", "2020/6/2 7:30:00", "菜市场门口每天早上占道经营，车辆无法通行。", "", ""],
    ["1006", "U0001", LONG_TITLE, "2020/12/28 10:00:00", "老旧小区改造涉及多项工程，希望统筹安排，减少重复开挖。",
     "您好，改造方案已纳入明年计划。", "2021/1/1 7:00:00"],
    ["1007", "U0006", "", "2020/7/1 9:00:00", "没有标题的一行。", "", ""],
    ["1008", "U0007", "感谢交警大队及时处理事故", "2019-04-08 08:37:20", "昨天发生小剐蹭，交警十分钟就到了，特此感谢。",
     "感谢您的肯定。", "2019/4/24"],
]


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _date(value):
    """The calendar date at the start of a board time (Beijing), or None: independent of the importer."""
    match = re.match(r"^\s*(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$", value or "")
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def independent_per_year(path):
    """Per year of the reply: (n, mean, median) calendar days from message to reply, over the rows that have
    a title, a body, a readable message time and a reply; the first row of a repeated number; no negative spans."""
    days, seen = defaultdict(list), set()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            ref = row["留言编号"].strip()
            if not ref or ref in seen or not row["留言主题"].strip() or not row["留言详情"].strip():
                continue
            written = _date(row["留言时间"])
            if written is None:
                continue
            seen.add(ref)
            replied = _date(row["答复时间"]) if row["答复意见"].strip() else None
            if replied is not None and replied >= written:
                days[replied.year].append((replied - written).days)
    return {year: (len(v), statistics.fmean(v), statistics.median(v)) for year, v in days.items()}


def imported_per_year(source):
    """The same figures from the imported proposals: handling_days by the Beijing year of the first reply."""
    rows = db.session.execute(sa.select(Suggestion.first_replied_at, Suggestion.handling_days)
                              .where(Suggestion.source == source, Suggestion.handling_days.is_not(None))).all()
    days = defaultdict(list)
    for replied_at, handling in rows:
        days[beijing_date(replied_at).year].append(handling)
    return {year: (len(v), statistics.fmean(v), statistics.median(v)) for year, v in days.items()}


def run_import(app, path, *args):
    result = app.test_cli_runner().invoke(args=["analytics", "import-messages", path, *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_import_counts_fields_and_idempotence(app, tmp_path):
    body = make_body(name="青溪县人民政府办公室")
    db.session.commit()
    path = write_csv(tmp_path / "qingxi_board.csv", ROWS)

    output = run_import(app, path, "--body", str(body.id))
    assert "6 imported (5 with a reply), 0 already there, 3 skipped." in output
    for reason in ("skipped, bad_time: 1", "skipped, duplicate_ref: 1", "skipped, missing_title: 1",
                   "titles cut to 80 characters: 1"):
        assert reason in output
    assert "proposals indexed for search" in output

    suggestions = {s.source_ref: s for s in db.session.scalars(sa.select(Suggestion))}
    assert sorted(suggestions) == ["1001", "1002", "1004", "1005", "1006", "1008"]
    campaign = db.session.scalar(sa.select(Campaign))
    assert campaign.title == "历史留言（qingxi_board）" and campaign.status == CampaignStatus.CLOSED
    assert campaign.body_id == body.id
    assert beijing_date(campaign.opens_at) == date(2019, 3, 5) and beijing_date(campaign.closes_at) == date(2020, 12, 28)
    first = suggestions["1001"]
    assert first.source == "qingxi_board" and first.campaign_id == campaign.id
    assert first.status == Status.REPLIED and first.message_type == "suggestion"
    assert first.created_at == first.published_at == first.accepted_at
    assert first.created_at.isoformat() == "2019-03-05T01:02:11+00:00"  # 9:02:11 Beijing
    assert first.handling_body_id == body.id and first.reply_due_on is None
    assert (first.handling_days, first.handling_working_days) == (15, 11)
    assert first.category.code == "uncategorised" and first.category in campaign.categories
    reply = first.replies[0]
    assert reply.decision == Decision.NOT_RECORDED and reply.decision not in STAFF_DECISIONS
    assert reply.body_id == body.id and reply.content.startswith("您好，县城管局")
    assert reply.created_at == first.first_replied_at == first.replied_at
    assert not db.session.get(User, reply.author_id).active
    page = app.test_client().get(f"/suggestions/{first.id}").get_data(as_text=True)
    assert "留言板导入" in page and "未记录" not in page  # no decision was recorded: none is shown, nor an error

    # Traditional text is kept as written (search folds it); the type is guessed from the title.
    assert suggestions["1002"].title == "關於社區停車難問題的建議" and suggestions["1002"].message_type == "suggestion"
    assert suggestions["1002"].handling_days == 4  # 30 Dec 2019 → 3 Jan 2020
    assert suggestions["1004"].message_type == "question"
    assert suggestions["1004"].first_replied_at is not None and suggestions["1004"].handling_days is None
    unanswered = suggestions["1005"]
    assert unanswered.status == Status.PUBLISHED and unanswered.replies == [] and unanswered.accepted_at is None
    assert unanswered.message_type == "complaint" and unanswered.first_replied_at is None
    assert len(suggestions["1006"].title) == 80 and suggestions["1006"].title.endswith("…")
    assert beijing_date(suggestions["1006"].first_replied_at).year == 2021  # 2020-12-31 23:00 UTC
    assert suggestions["1008"].message_type == "thanks" and suggestions["1008"].handling_days == 16

    # One inactive account per board user, with no trace of the board's user name and no usable password.
    authors = {s.source_ref: db.session.get(User, s.author_id) for s in suggestions.values()}
    assert authors["1001"].id == authors["1006"].id != authors["1002"].id
    assert len({a.id for a in authors.values()}) == 5
    for author in authors.values():
        assert not author.active and author.display_name == "留言用户" and "U000" not in author.username
    assert authors["1001"].username == importer.author_username("qingxi_board", "U0001")
    login = app.test_client().post("/accounts/login", data={"username": authors["1001"].username, "password": "!"})
    assert login.status_code != 303

    # Indexed for search, Traditional folded.
    hits = get_backend().search(SearchQuery(text="停车难")).hits
    assert [h.id for h in hits] == [suggestions["1002"].id]

    # Re-running imports nothing twice.
    output = run_import(app, path, "--body", str(body.id))
    assert "0 imported (0 with a reply), 6 already there, 3 skipped." in output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reply)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1

    # Per-year handling days equal the independent computation over the file's rows.
    expected = independent_per_year(path)
    assert expected == {2019: (2, 15.5, 15.5), 2020: (1, 4, 4), 2021: (1, 4, 4)}
    assert imported_per_year("qingxi_board") == expected


def test_column_mapping_type_category_and_bad_rows(app, tmp_path):
    body = make_body()
    db.session.commit()
    header = ["id", "name", "subject", "date", "text", "answer", "answered", "kind", "topic"]
    rows = [["a1", "李", "路口红绿灯时间太短", "2021-05-06 10:00", "行人来不及过马路，请延长绿灯时间。", "已调整。",
             "2021-05-08 10:00", "建議", "交通运输"],
            ["a2", "王", "学校周边交通", "2021-05-07 10:00", "放学时段拥堵严重，盼增派警力疏导。", "", "", "求助", "交通运输"],
            ["a3", "赵", "房顶漏水", "2021-05-07 11:00", "楼顶漏水无人修理。", "已转交。", "明天", "投诉", "城乡建设"],
            ["a4", "钱", "物业收费", "2021-05-07 12:00", "物业乱收费。", "", "", "牢骚", "城乡建设"],
            ["a5", "孙", "控制字符", "2021-05-07 12:00", "正文里有\x07响铃字符。", "", "", "投诉", "城乡建设"],
            ["a6", "周", "过长的留言", "2021-05-07 12:00", "长" * (importer.BODY_MAX_LENGTH + 1), "", "", "投诉", "城乡建设"]]
    path = write_csv(tmp_path / "other.csv", rows, header)
    campaign = Campaign(body=body, title="往年留言", opens_at=utcnow(), status=CampaignStatus.CLOSED)
    db.session.add(campaign)
    db.session.commit()
    args = ["--body", str(body.id), "--campaign", str(campaign.id), "--source", "old-board", "--time-format",
            "%Y-%m-%d %H:%M"]
    for pair in ("ref=id", "user=name", "title=subject", "time=date", "body=text", "reply=answer",
                 "reply_time=answered", "type=kind", "category=topic"):
        args += ["--map", pair]
    output = run_import(app, path, *args)
    assert "2 imported (1 with a reply)" in output
    for reason in ("bad_reply_time: 1", "unknown_type: 1", "invalid_characters: 1", "body_too_long: 1"):
        assert f"skipped, {reason}" in output
    found = {s.source_ref: s for s in db.session.scalars(sa.select(Suggestion))}
    assert set(found) == {"a1", "a2"} and {s.campaign_id for s in found.values()} == {campaign.id}
    assert found["a1"].message_type == "suggestion" and found["a2"].message_type == "help"
    assert found["a1"].category.name == "交通运输" and found["a1"].category_id == found["a2"].category_id
    assert found["a1"].source == "old-board" and found["a1"].handling_days == 2

    # A missing column or a campaign of another body stops before anything is written.
    result = app.test_cli_runner().invoke(args=["analytics", "import-messages", path, "--body", str(body.id)])
    assert result.exit_code != 0 and "Columns not in the file" in result.output
    other = make_body()
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["analytics", "import-messages", path, "--body", str(other.id), "--campaign", str(campaign.id)])
    assert result.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 2


def test_impossible_times_are_bad_rows_and_a_source_name_belongs_to_one_body(app, tmp_path):
    body, other = make_body(name="青溪县人民政府办公室"), make_body(name="云岭市人民政府办公室")
    db.session.commit()
    rows = [["2001", "U1", "建议增设公交站", "0001/1/1 9:00:00", "年份写成了公元一年。", "", ""],
            ["2002", "U2", "建议增设路灯", "2999/1/1 9:00:00", "年份写成了未来。", "", ""],
            ["2003", "U3", "建议修缮桥梁", "2020/5/1 9:00:00", "桥面破损，建议修缮。", "已安排维修。", "2020/5/8 9:00:00"]]
    path = write_csv(tmp_path / "board.csv", rows)
    output = run_import(app, path, "--body", str(body.id))
    assert "1 imported" in output and "skipped, bad_time: 2" in output
    result = app.test_cli_runner().invoke(args=["analytics", "import-messages", path, "--body", str(other.id)])
    assert result.exit_code != 0 and "choose another with --source" in result.output
    assert "1 imported" in run_import(app, path, "--body", str(other.id), "--source", "yunling-board")


def test_guess_message_type():
    assert importer.guess_message_type("关于增设公交线路的建议") == "suggestion"
    assert importer.guess_message_type("請問社保卡如何補辦") == "question"
    assert importer.guess_message_type("A市某小区物业不作为") == "complaint"
    assert importer.guess_message_type("感谢社区工作人员") == "thanks"


SHARED_DATA = os.path.join(os.environ.get("JIANYAN_SHARED_DATA", "/work/shared/data"), "messages_with_replies.csv")


@pytest.mark.skipif(not os.path.exists(SHARED_DATA), reason="the shared development data is not on this machine")
def test_real_board_per_year_handling_days(app, capsys):
    """The development file: per-year mean and median handling days equal an independent computation."""
    body = make_body(name="西地省人民政府办公厅")
    db.session.commit()
    output = run_import(app, SHARED_DATA, "--body", str(body.id), "--no-index")
    assert "2816 imported" in output
    expected = independent_per_year(SHARED_DATA)
    got = imported_per_year("messages_with_replies")
    assert got.keys() == expected.keys()
    for year in expected:
        assert got[year][0] == expected[year][0]
        assert got[year][1] == pytest.approx(expected[year][1], abs=1e-9)
        assert got[year][2] == expected[year][2]
    with capsys.disabled():
        print("\nper year (n, mean, median calendar days):",
              {year: (n, round(mean, 2), median) for year, (n, mean, median) in sorted(got.items())})
