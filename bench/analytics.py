"""Figures benchmark: the dashboard and the yearly report over N generated proposals on PostgreSQL.

    python -m bench.analytics --n 1000000 [--requests 3] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch database (jianyan_bench_analytics, dropped first), fills it in SQL (generate_series): bodies
at four levels in several regions, campaigns, categories, 200,000 citizens, N proposals over 2016-2026 with
acceptance, first replies and handling days, replies with decisions, ratings, two supports per proposal and
clusters of five. Then it times the rollup rebuild (`flask analytics refresh`), and dashboard, CSV and report
requests through the Flask test client over a mix of filters (whole site, a body, a level, a region, a campaign,
a year, combinations). Prints figures; asserts nothing.
"""
import argparse
import statistics
import time

import sqlalchemy as sa

from app import create_app
from core.extensions import db

LEVELS = ["national", "provincial", "municipal", "county"]
REGIONS = ["全国", "江南省", "江南省临川市", "江南省云岭市", "江南省临川市青溪县"]
USERS = 200_000
BODIES, CAMPAIGNS, CATEGORIES = 40, 30, 12
# Proposal texts: a place, a topic and a closing, so that the million holds about 16,000 distinct texts (each
# written by ~60 citizens, as a consultation's million becomes a few thousand ideas) with real Chinese words for
# search and similarity. Our own phrases.
PLACES = ["人民路", "解放路", "建设路", "中山路", "青年路", "和平路", "光明街", "新华街", "东风路", "胜利路",
          "文化路", "朝阳路", "锦绣华庭小区", "阳光花园小区", "滨江小区", "幸福里小区", "城南小学", "实验中学",
          "第一人民医院", "火车站", "汽车客运站", "青溪大道", "临川公园", "体育中心", "老城区", "经济开发区",
          "高新区", "城东新区", "北门菜市场", "南湖公园", "江滨路", "长江路", "黄河路", "府前街", "西环路",
          "东环路", "农贸市场", "市图书馆", "文化广场", "工业园区"]
TOPICS = [("增设停车位", "车位严重不足，晚上很多车只能停在消防通道上，存在安全隐患"),
          ("安装路灯", "晚上没有路灯，行人和电动车看不清路，去年冬天发生过事故"),
          ("增开公交线路", "去火车站要换乘两次公交，单程一个多小时，上班族很不方便"),
          ("整治噪音扰民", "夜市和广场舞音响每天到深夜，附近居民无法正常休息"),
          ("加装电梯", "老楼都是六层没有电梯，老人上下楼非常困难"),
          ("设置护学岗", "上下学时段车辆拥堵，学生过马路很危险"),
          ("改造雨水管网", "一下大雨路面就积水，车辆和行人都无法通行"),
          ("增加垃圾分类设施", "垃圾桶太少且没有分类，垃圾经常堆在路边发臭"),
          ("修缮破损路面", "路面坑洼不平，电动车经常摔倒，雨天更是危险"),
          ("增设公共厕所", "周边没有公共厕所，游客和环卫工人很不方便"),
          ("规范共享单车停放", "共享单车乱停乱放，占用盲道和人行道"),
          ("增设充电桩", "电动汽车越来越多，却没有一个充电桩，车主只能私拉电线"),
          ("延长开放时间", "开放时间太短，上班族下班后无法使用"),
          ("增加绿化", "绿化太少，夏天没有遮阴的地方，空气也不好"),
          ("整治占道经营", "流动摊贩占道经营，道路拥堵，卫生状况差"),
          ("增设无障碍设施", "没有无障碍坡道和电梯，轮椅使用者出行困难"),
          ("改善供暖", "冬天暖气不热，室内温度只有十几度，老人孩子容易生病"),
          ("加强治安巡逻", "晚上经常有电动车被盗，居民很没有安全感"),
          ("增设红绿灯", "路口车流量大却没有红绿灯，经常发生剐蹭"),
          ("治理油烟污染", "餐馆油烟直排，楼上住户不敢开窗"),
          ("增加托育服务", "附近没有托育机构，双职工家庭孩子没人照顾"),
          ("改造老旧小区", "小区建成三十多年，管线老化，外墙脱落"),
          ("增设快递柜", "快递只能堆在门卫室，经常丢件"),
          ("整治黑臭水体", "河道发黑发臭，夏天蚊虫很多"),
          ("完善社区养老", "社区没有日间照料中心，独居老人吃饭成问题"),
          ("降低停车收费", "停车收费标准过高，周边商户生意受影响"),
          ("增设健身器材", "居民想锻炼却没有健身器材和场地"),
          ("优化学校划片", "划片范围不合理，孩子要跨区上学"),
          ("提高医保报销比例", "慢性病用药报销比例低，长期服药负担重"),
          ("简化办事流程", "办理证件要跑好几个窗口，材料重复提交"),
          ("增加夜班公交", "晚上九点以后就没有公交，夜班工人回家困难"),
          ("整治违章搭建", "楼顶和楼道违章搭建多，存在消防隐患"),
          ("增设人行天桥", "道路太宽，老人过马路一个绿灯走不完"),
          ("加强食品安全检查", "学校周边小摊卖三无食品，家长很担心"),
          ("改善农村道路", "村里道路狭窄，两车无法会车，雨天泥泞"),
          ("增加就业培训", "失业人员想学技能却找不到免费的培训"),
          ("建设口袋公园", "附近没有公园，孩子没有玩耍的地方"),
          ("规范物业收费", "物业费年年上涨，服务却越来越差"),
          ("增加学位供给", "新建小区入住率高，学校学位严重不足"),
          ("治理渣土车扬尘", "渣土车不覆盖，沿路扬尘严重")]
CLOSINGS = ["希望有关部门尽快解决。", "恳请领导重视。", "盼早日解决，谢谢！", "望采纳。", "希望尽快落实。",
            "请相关部门调查处理。", "期待早日改善。", "这个问题已经反映多次，希望这次能解决。", "谢谢！",
            "希望能给居民一个答复。"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-q * len(ordered) // 100) - 1))]


def create_database(admin_url: str, name: str) -> str:
    engine = sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.engine.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        database=name).render_as_string(hide_password=False)


def scratch_database(admin_url: str, name: str, keep: bool) -> str:
    """The URL of the benchmark's database ``name``: created afresh, or the previous run's with ``keep``."""
    if not keep:
        return create_database(admin_url, name)
    return sa.engine.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        database=name).render_as_string(hide_password=False)


def fill(n: int, campaigns: int = CAMPAIGNS) -> None:
    """Generate the data in SQL (``n`` proposals over ``campaigns`` campaigns); every value is a function of the row
    number, so runs are repeatable."""
    run = lambda sql, **params: db.session.execute(sa.text(sql), params)  # noqa: E731
    run("""INSERT INTO users (id, username, display_name, password_hash, role, session_version, active, created_at,
           email) SELECT i, 'u' || i, '市民' || i, '!', CASE WHEN i <= 100 THEN 'staff' ELSE 'citizen' END, 0, true,
           timestamp '2016-01-01', '' FROM generate_series(1, :users) AS i""", users=USERS)
    run("""INSERT INTO bodies (id, name, name_en, kind, level, region, contact_email, created_at)
           SELECT i, '机构' || i, 'Body ' || i, 'department', (CAST(:levels AS text[]))[1 + i % 4],
           (CAST(:regions AS text[]))[1 + i % 5], '', timestamp '2016-01-01'
           FROM generate_series(1, :bodies) AS i""", bodies=BODIES, levels=LEVELS, regions=REGIONS)
    run("""INSERT INTO categories (id, code, name, name_en) SELECT i, 'c' || i, '类别' || i, 'Category ' || i
           FROM generate_series(1, :n) AS i""", n=CATEGORIES)
    run("""INSERT INTO campaigns (id, body_id, title, theme, description, region_scope, opens_at, allow_oppose,
           screening, status, created_at, reply_working_days, investigation_working_days)
           SELECT i, 1 + i % :bodies, '征集活动' || i, '', '', '', timestamp '2016-01-01', true, false, 'open',
           timestamp '2016-01-01', 10, 20 FROM generate_series(1, :n) AS i""", n=campaigns, bodies=BODIES)
    # Proposals: spread over 2016-2026; 80% accepted a day after writing; 70% replied 1-60 days later.
    run("""INSERT INTO suggestions (id, campaign_id, author_id, category_id, message_type, title, body, status,
           support_count, oppose_count, handling_body_id, published_at, accepted_at, replied_at, created_at,
           reply_due_on, needs_investigation, first_replied_at, handling_days, handling_working_days, source)
           SELECT i, c, 101 + (i::bigint * 7919) % (:users - 100), 1 + (i * 31) % :categories,
             (ARRAY['suggestion','complaint','help','question','thanks'])[1 + (i * 13) % 5],
             '关于' || p || topic || '的建议', p || tb || '，' || closing,
             CASE WHEN i % 10 < 7 THEN 'replied' WHEN i % 10 < 8 THEN 'accepted' ELSE 'published' END, 2, 0,
             CASE WHEN i % 10 < 8 THEN 1 + c % :bodies END, t, CASE WHEN i % 10 < 8 THEN t + interval '1 day' END,
             CASE WHEN i % 10 < 7 THEN t + interval '1 day' + d * interval '1 day' END, t,
             CASE WHEN i % 10 < 8 THEN (t + interval '15 days')::date END, false,
             CASE WHEN i % 10 < 7 THEN t + interval '1 day' + d * interval '1 day' END,
             CASE WHEN i % 10 < 7 THEN d END, CASE WHEN i % 10 < 7 THEN (d * 5) / 7 END, ''
           FROM (SELECT i, 1 + i % :campaigns AS c, 1 + (i * 37) % 60 AS d,
                        timestamp '2016-01-01' + (i::float / :n) * interval '3950 days' AS t,
                        (CAST(:places AS text[]))[1 + i % 40] AS p,
                        (CAST(:topics AS text[]))[1 + (i / 40) % 40] AS topic,
                        (CAST(:topic_bodies AS text[]))[1 + (i / 40) % 40] AS tb,
                        (CAST(:closings AS text[]))[1 + (i / 1600) % 10] AS closing
                 FROM generate_series(1, :n) AS i) AS g""",
        n=n, users=USERS, categories=CATEGORIES, bodies=BODIES, campaigns=campaigns, places=PLACES,
        topics=[title for title, _ in TOPICS], topic_bodies=[body for _, body in TOPICS], closings=CLOSINGS)
    run("""INSERT INTO replies (id, suggestion_id, body_id, author_id, decision, content, created_at)
           SELECT id, id, handling_body_id, 1 + id % 100,
             (ARRAY['adopted','partly_adopted','under_study','explained','not_adopted'])[1 + (id * 17) % 5],
             '答复' || id, first_replied_at FROM suggestions WHERE first_replied_at IS NOT NULL""")
    run("""INSERT INTO ratings (reply_id, suggestion_id, body_id, author_id, satisfaction, reasons, comment,
           created_at) SELECT r.id, r.suggestion_id, r.body_id, s.author_id,
             (ARRAY['satisfied','basically_satisfied','unsatisfied'])[1 + (r.id * 7) % 3], '', '',
             r.created_at + interval '2 days' FROM replies r JOIN suggestions s ON s.id = r.suggestion_id
           WHERE r.id % 5 < 2""")
    run("""INSERT INTO votes (suggestion_id, user_id, value, created_at)
           SELECT s, 101 + (s * 13 + r * 100003) % (:users - 100), 1, timestamp '2016-01-02'
           FROM generate_series(1, :n) AS s, generate_series(0, 1) AS r""", n=n, users=USERS)
    # Clusters of five consecutive proposals of one campaign: every (campaigns * 5)-block forms ``campaigns`` clusters.
    run("""INSERT INTO clusters (id, campaign_id, representative_id, size, supporter_count, keywords, created_at)
           SELECT id, campaign_id, id, 5, 10, '关键词' || id, created_at FROM suggestions
           WHERE id <= :n / 5""", n=n)
    run("""INSERT INTO cluster_members (suggestion_id, cluster_id, kind, score)
           SELECT c.id + k * (:n / 5), c.id, CASE WHEN k = 0 THEN 'representative' ELSE 'near' END, 0.8
           FROM clusters c, generate_series(0, 4) AS k WHERE c.id + k * (:n / 5) <= :n""", n=n)
    for table in ("users", "bodies", "categories", "campaigns", "suggestions", "replies", "ratings", "votes",
                  "clusters"):
        run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    db.session.commit()
    run("ANALYZE")
    db.session.commit()


def filters() -> list[dict]:
    return [{}, {"body": 7}, {"level": "county"}, {"region": "江南省"}, {"campaign": 12}, {"year": 2022},
            {"year": 2018, "year_to": 2024}, {"level": "provincial", "year": 2025}, {"body": 3, "year": 2020},
            {"campaign": 5, "year": 2024}, {"region": "江南省临川市", "level": "municipal"}]


def timed(client, url: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, query_string=params)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} {params}: HTTP {response.status_code}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3, help="rounds over the filter mix")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    url = scratch_database(args.admin_url, "jianyan_bench_analytics", args.keep)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ANALYTICS_MAX_AGE_SECONDS": 10**9,
                      "SEARCH_INDEX_ON_REQUEST": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        from analytics import rollup
        from analytics.models import FigureCount

        if not args.keep:
            db.create_all()
            started = time.perf_counter()
            fill(args.n)
            print(f"generated {args.n:,} proposals in {time.perf_counter() - started:.1f} s")
        counts = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                  for table in ("suggestions", "replies", "ratings", "votes", "cluster_members")}
        print("rows:", ", ".join(f"{table} {count:,}" for table, count in counts.items()))
        took = rollup.refresh()
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(FigureCount))
        print(f"rollup rebuilt (flask analytics refresh) in {took:.1f} s: {rows:,} rows")

    client = app.test_client()
    timed(client, "/analytics/", {})  # warm-up: templates, translations
    results: dict[str, list[float]] = {"dashboard": [], "chart csv": [], "yearly report": []}
    for _round in range(args.requests):
        for params in filters():
            results["dashboard"].append(timed(client, "/analytics/", params))
            results["chart csv"].append(timed(client, "/analytics/charts/handling_days.csv", params))
            results["yearly report"].append(timed(client, "/analytics/report",
                                                  {k: v for k, v in params.items() if k in ("body", "year")}))
    for label, values in results.items():
        print(f"{label:14s} requests {len(values):3d}  p50 {statistics.median(values):7.1f} ms  "
              f"p95 {percentile(values, 95):7.1f} ms  max {max(values):7.1f} ms")


if __name__ == "__main__":
    main()
