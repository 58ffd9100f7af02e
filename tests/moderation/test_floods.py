"""Coordinated floods: bursts of templated submissions and of supports are flagged as one group each, distinct
citizens are not; holding a group's supports takes them out of the public counts (and `flask suggestions
recount` agrees) without deleting a row, and releasing restores them.

Where detection is under test the data is bulk-inserted with chosen times, account ages and networks; holding
and releasing go through the moderators' pages."""
import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import User
from core.audit import AuditLog
from core.extensions import db
from core.models import utcnow
from core.network import network_key, network_of
from moderation import floods
from moderation.bursts import Act, in_bursts
from moderation.models import FloodGroup, FloodSubmission, FloodVote
from suggestions import services
from suggestions.models import Suggestion, Vote
from tests.conftest import login
from tests.factories import make_campaign, make_suggestion, make_user

SETTINGS = floods.FloodSettings()  # the defaults, as core/config.py sets them
ESTATES = ["锦绣花园", "青溪新村", "城南小区", "翠湖苑", "桂花园", "东风小区", "阳光家园", "幸福里", "滨江花园", "文昌苑"]
PLACES = ["青溪大道", "城南路", "解放街", "人民广场", "滨江路", "文化宫", "火车站", "老城区", "新区", "工业园", "北门桥",
          "南湖公园", "第一中学", "县医院", "农贸市场", "汽车站", "体育馆", "图书馆", "东关街", "西湖路"]
ISSUES = [
    ("路灯", "晚上{p}一带路灯经常不亮，行人和骑车的人看不清路面，已经发生过几次摔倒，希望尽快检修并增加照明。"),
    ("噪音", "{p}附近的工地每天夜里施工到凌晨，噪音很大，老人小孩都睡不好觉，请环保部门核查夜间施工许可。"),
    ("停车", "{p}周边停车位严重不足，车辆乱停占用人行道和消防通道，建议规划建设立体停车场并加强管理。"),
    ("公交", "从{p}到县医院没有直达公交，老年人看病要换乘两次，建议增开一条社区公交线路并延长末班车时间。"),
    ("垃圾", "{p}垃圾分类设施太少，垃圾桶经常满溢，夏天气味难闻还招苍蝇，希望增加清运频次。"),
    ("学位", "{p}的小学学位紧张，每班超过五十人，老师照顾不过来，建议扩建校舍或新建一所小学。"),
    ("菜价", "{p}菜市场摊位费上涨后菜价明显升高，希望市场监管部门关注并规范收费。"),
    ("绿化", "{p}的绿化带多年没有修剪，杂草丛生，还有人在里面倾倒建筑垃圾，希望园林部门整治。"),
    ("积水", "每逢大雨{p}就积水严重，最深处没过膝盖，车辆熄火行人无法通行，建议改造排水管网。"),
    ("看病", "{p}社区卫生服务站医生太少，周末不开门，常见病也要跑到县医院排长队，建议增加人员和开诊时间。"),
    ("养老", "{p}老年人越来越多，但附近没有日间照料中心，子女上班后老人无人照看，希望建设社区养老设施。"),
    ("快递", "{p}快递车辆随意停放在小区门口装卸，堵塞道路，建议设置统一的快递收发点。"),
    ("养犬", "{p}遛狗不牵绳的现象很普遍，孩子经常被吓到，希望加强文明养犬宣传和执法。"),
    ("健身", "{p}缺少健身器材和运动场地，居民只能在马路边跳广场舞，存在安全隐患，建议建设小型运动公园。"),
    ("信号", "{p}一带手机信号很差，网络经常断线，影响上网课和办公，希望运营商增建基站。"),
    ("电梯", "{p}老旧小区没有电梯，老人上下楼非常困难，希望政府推进加装电梯并给予补贴。"),
    ("油烟", "{p}沿街烧烤店油烟直排，楼上住户无法开窗，希望督促安装油烟净化设备。"),
    ("物业", "{p}物业公司服务差，收费高，公共设施损坏长期不修，业主多次投诉无果，请住建部门介入。"),
    ("路面", "{p}路面坑洼不平，多处井盖松动，电动车经过很危险，建议尽快修补路面。"),
    ("供暖", "{p}冬季供暖温度不达标，室内只有十几度，希望热力公司排查管网。"),
]
CLOSINGS = ["恳请有关部门重视。", "盼复。", "希望早日解决。", "请尽快处理。", "期待改善。", ""]


def templated(i: int) -> tuple[str, str]:
    """One of 200 copies of a residents' template, naming one of ten housing estates."""
    return ("坚决反对在青溪公园修建地下停车场",
            f"我是{ESTATES[i % 10]}的居民。坚决反对在青溪公园内修建地下停车场。公园是周边居民唯一的休闲场所，"
            "施工将砍伐大量树木，噪音和扬尘会严重影响附近学校和小区。请相关部门重新选址，保留公园绿地。"
            + ("谢谢！" if i % 3 else ""))


def distinct(rng: random.Random, i: int) -> tuple[str, str]:
    """A citizen's own proposal: two issues at two places, in their own order and words."""
    first, second = rng.sample(ISSUES, 2)
    here, there = rng.sample(PLACES, 2)
    return (f"关于{here}{first[0]}问题的建议",
            first[1].format(p=here) + "另外，" + second[1].format(p=there) + rng.choice(CLOSINGS) + f"（{i}）")


def net(i: int) -> str:
    return network_key(f"10.{i // 250}.{i % 250}.7", "test-secret")


def bulk_users(ages: list[timedelta], now) -> list[int]:
    """Accounts created ``age`` before ``now`` (bulk: their passwords are never used)."""
    start = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(User.id), 0)))
    db.session.execute(sa.insert(User), [
        {"username": f"bulk{start + n}", "password_hash": "-", "created_at": now - age} for n, age in enumerate(ages)])
    return list(db.session.scalars(sa.select(User.id).where(User.id > start).order_by(User.id)))


def bulk_submissions(campaign, rows: list[tuple[int, str, str, object, str | None]]) -> None:
    """(author id, title, text, time, network key) rows as published proposals."""
    category = campaign.categories[0]
    db.session.execute(sa.insert(Suggestion), [
        {"campaign_id": campaign.id, "author_id": author, "category_id": category.id, "title": title, "body": text,
         "status": "published", "published_at": at, "public_since": at, "created_at": at, "network_key": key}
        for author, title, text, at, key in rows])


def bulk_supports(suggestion, rows: list[tuple[int, object, str | None]]) -> None:
    """(user id, time, network key) supports, and the counters as a vote would leave them."""
    db.session.execute(sa.insert(Vote), [{"suggestion_id": suggestion.id, "user_id": user, "value": 1,
                                          "created_at": at, "network_key": key} for user, at, key in rows])
    services.recount_votes()


def counted_rows(suggestion_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
        Vote.suggestion_id == suggestion_id, Vote.value == 1, Vote.held_at.is_(None)))


def all_rows(suggestion_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(Vote.suggestion_id == suggestion_id))


def support_count(suggestion_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Suggestion, suggestion_id).support_count


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def recount_changes(app) -> int:
    output = app.test_cli_runner().invoke(args=["suggestions", "recount"]).output
    return int(output.split()[0])


# --- pure parts ------------------------------------------------------------------------------------------------

def test_network_keys_are_coarse_keyed_and_never_the_address():
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("::ffff:203.0.113.9") == "203.0.113.0/24"  # IPv4 seen through an IPv6 socket
    assert network_of("not an address") is None and network_key(None, "k") is None
    key = network_key("203.0.113.77", "k")
    assert key == network_key("203.0.113.1", "k") != network_key("203.0.114.1", "k")  # one /24, one key
    assert key != network_key("203.0.113.77", "another key") and len(key) == 16 and "203" not in key


def test_a_burst_is_a_dense_stretch_of_time_not_a_total():
    t0 = utcnow()
    acts = [Act(i, i, t0 + timedelta(minutes=3 * i), t0) for i in range(30)]  # one every 3 minutes: 20 per hour
    assert len(in_bursts(acts, timedelta(minutes=60), 20)) == 30  # 21 fall in some hour: all are marked
    assert in_bursts(acts, timedelta(minutes=30), 20) == []
    slow = [Act(i, i, t0 + timedelta(hours=i), t0) for i in range(100)]
    assert in_bursts(slow, timedelta(minutes=60), 20) == []  # a hundred over four days is no burst
    assert in_bursts(acts, timedelta(minutes=60), 20, min_accounts=31) == []


# --- detection -------------------------------------------------------------------------------------------------

def test_200_templated_submissions_from_50_new_accounts_are_one_group(app, client):
    now = utcnow()
    campaign = make_campaign()
    authors = bulk_users([timedelta(hours=2)] * 50, now)
    start = now - timedelta(minutes=50)
    bulk_submissions(campaign, [(authors[i // 4], *templated(i), start + timedelta(seconds=15 * i), net(i % 3))
                                for i in range(200)])
    found = floods.detect_floods(SETTINGS, now=now)
    assert [(g.kind, g.size) for g in found] == [("submissions", 200)]
    group = found[0]
    evidence = group.evidence
    assert (evidence["accounts"], evidence["new_accounts"], evidence["rules"]) == (50, 50, ["template"])
    assert evidence["distinct_networks"] == 3 and evidence["median_account_age_hours"] < 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FloodSubmission)) == 200
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "flood_groups")) == "flood.detect"
    db.session.commit()
    assert floods.detect_floods(SETTINGS, now=now) == []  # run again: nothing new, nothing twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FloodGroup)) == 1

    moderator = make_user(role="moderator")
    login(client, moderator)
    page = text_of(client.get("/moderation/floods"))
    assert "内容近似的集中提交" in page and "50 个账号，其中 50 个在行动前 7 天内注册" in page
    assert "坚决反对在青溪公园修建地下停车场" in page and "异常集中 (1)" in page  # sample texts; the tab's count
    assert f"网络 {evidence['networks'][0][0]}" in page


def test_200_distinct_citizens_of_all_ages_are_not_flagged(app):
    now = utcnow()
    rng = random.Random(12)
    campaign = make_campaign()
    ages = [timedelta(days=rng.choice([1, 3, 30, 200, 900])) for _ in range(260)]
    citizens = bulk_users(ages, now)
    start = now - timedelta(minutes=90)  # as dense as the flood: only the texts differ
    bulk_submissions(campaign, [(citizens[i], *distinct(rng, i), start + timedelta(seconds=25 * i), net(i))
                                for i in range(200)])
    # A popular proposal: 60 supports in an hour from accounts of every age, on 60 networks.
    popular = db.session.scalar(sa.select(Suggestion).where(Suggestion.campaign_id == campaign.id).limit(1))
    bulk_supports(popular, [(citizens[200 + i], now - timedelta(minutes=i), net(1000 + i)) for i in range(60)])
    assert floods.detect_floods(SETTINGS, now=now) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FloodGroup)) == 0


@pytest.fixture
def support_flood(app):
    """A proposal with 15 supports from long-standing accounts over a week, then 40 within 20 minutes from
    accounts made that morning on one network."""
    now = utcnow()
    proposal = make_suggestion(make_campaign())
    old = bulk_users([timedelta(days=400)] * 15, now)
    new = bulk_users([timedelta(hours=5)] * 40, now)
    bulk_supports(proposal, [(u, now - timedelta(days=i % 7, hours=3), net(500 + i)) for i, u in enumerate(old)]
                  + [(u, now - timedelta(minutes=30) + timedelta(seconds=30 * i), net(7)) for i, u in enumerate(new)])
    db.session.commit()
    return proposal, old, new, now


def test_holding_a_support_flood_lowers_the_public_count_and_releasing_restores_it(app, client, support_flood):
    proposal, old, new, now = support_flood
    assert support_count(proposal.id) == 55
    [group] = floods.detect_floods(SETTINGS, now=now)
    assert (group.kind, group.suggestion_id, group.size) == ("supports", proposal.id, 40)
    assert group.evidence["rules"] == ["new_accounts", "one_network"]
    assert group.evidence["networks"] == [[net(7)[:6].upper(), 40]]
    db.session.commit()
    moderator = make_user(role="moderator")
    login(client, moderator)

    response = client.post(f"/moderation/floods/{group.id}/hold")
    assert response.status_code == 303
    assert support_count(proposal.id) == 15 == counted_rows(proposal.id)  # the counter is the unheld rows
    assert all_rows(proposal.id) == 55  # nothing deleted
    assert recount_changes(app) == 0 and support_count(proposal.id) == 15  # `flask suggestions recount` agrees
    assert re.search(r'id="support-count">15<', client.get(f"/suggestions/{proposal.id}").get_data(as_text=True))
    hold = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "flood.hold")).one()
    assert (hold.actor_id, hold.target_id, hold.detail["votes"]) == (moderator.id, group.id, 40)

    response = client.post(f"/moderation/floods/{group.id}/release")
    assert response.status_code == 303
    assert support_count(proposal.id) == 55 == counted_rows(proposal.id)
    assert recount_changes(app) == 0
    release = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "flood.release")).one()
    assert (release.actor_id, release.detail["votes"]) == (moderator.id, 40)
    assert floods.detect_floods(SETTINGS, now=now) == []  # released votes are judged: never flagged again


def test_a_held_group_holds_its_newcomers_and_held_voters_cannot_slip_out(app, client, support_flood):
    proposal, old, new, now = support_flood
    [group] = floods.detect_floods(SETTINGS, now=now)
    moderator = make_user(role="moderator")
    floods.hold_flood(moderator, group, now=now)
    db.session.commit()
    more = bulk_users([timedelta(hours=1)] * 5, now)
    db.session.execute(sa.insert(Vote), [{"suggestion_id": proposal.id, "user_id": u, "value": 1, "network_key": net(7),
                                          "created_at": now + timedelta(minutes=i)} for i, u in enumerate(more)])
    services.recount_votes()
    assert support_count(proposal.id) == 20
    [grown] = floods.detect_floods(SETTINGS, now=now + timedelta(minutes=6))
    db.session.commit()
    assert grown.id == group.id and grown.size == 45 and support_count(proposal.id) == 15
    assert db.session.scalar(sa.select(AuditLog.detail).where(AuditLog.action == "flood.grow"))["held"] == 5

    # One of the held accounts logs in (bulk accounts have no password: give it one) and tries to withdraw.
    voter = db.session.get(User, new[0])
    voter.password_hash = db.session.get(User, moderator.id).password_hash
    db.session.commit()
    login(client, voter)
    page = client.get(f"/suggestions/{proposal.id}").get_data(as_text=True)
    assert 'id="vote-held"' in page
    assert "含您的支持" not in page  # a held vote is not counted: the count under the title does not claim it
    response = client.post(f"/suggestions/{proposal.id}/vote", data={"value": "withdraw"})
    assert response.status_code == 303 and all_rows(proposal.id) == 60
    assert "在审核员作出决定前不能撤回" in text_of(client.get(response.headers["Location"]))


def test_holding_a_submission_group_holds_the_supports_its_accounts_cast(app, client):
    now = utcnow()
    campaign = make_campaign()
    authors = bulk_users([timedelta(hours=3)] * 50, now)
    bulk_submissions(campaign, [(authors[i // 4], *templated(i), now - timedelta(minutes=40) + timedelta(seconds=10 * i),
                                 net(9)) for i in range(200)])
    target = make_suggestion(campaign, title="请保留青溪公园的绿地", body="青溪公园是周边居民唯一的休闲场所，请保留绿地，不要修建停车场。")
    # The same accounts support one proposal, slowly (one every 20 minutes): no support burst by itself.
    bulk_supports(target, [(u, now - timedelta(minutes=20 * i), None) for i, u in enumerate(authors)])
    [group] = floods.detect_floods(SETTINGS, now=now)
    assert group.kind == "submissions" and support_count(target.id) == 50
    moderator = make_user(role="moderator")
    assert floods.hold_flood(moderator, group, now=now) == 50
    db.session.commit()
    assert support_count(target.id) == 0 == counted_rows(target.id) and all_rows(target.id) == 50
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FloodVote)) == 50
    assert floods.release_flood(moderator, group) == 50
    db.session.commit()
    assert support_count(target.id) == 50 and recount_changes(app) == 0


def test_only_moderators_see_and_decide_floods(app, client, support_flood):
    proposal, *_rest, now = support_flood
    [group] = floods.detect_floods(SETTINGS, now=now)
    db.session.commit()
    for user in (make_user(), make_user(role="admin")):
        db.session.commit()
        login(client, user)
        allowed = user.is_moderator
        assert client.get("/moderation/floods").status_code == (200 if allowed else 403)
    citizen = make_user()
    db.session.commit()
    login(client, citizen)
    assert client.post(f"/moderation/floods/{group.id}/hold").status_code == 403
    assert client.post("/moderation/floods/detect").status_code == 403
    assert support_count(proposal.id) == 55 and db.session.get(FloodGroup, group.id).status == "open"
