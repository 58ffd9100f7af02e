"""Draft consultation benchmark (issue 18): a 200-article draft with 100,000 comments on PostgreSQL, served by
gunicorn as `make run` starts it, under wrk.

    python -m bench.drafts [--articles 200] [--comments 100000] [--duration 20] [--connections 2] [--keep]

Creates a scratch database (jianyan_bench_drafts, dropped first; ``--keep`` reuses the previous run's), one body
with a manager, one open campaign, and a generated draft of ``--articles`` articles in ten chapters (some with
items), imported through ``drafts.services`` as version 1; then a version 2 that rewords every tenth article,
drops two and adds two, imported the same way (the import's time is printed: matching 200 articles to 200). Then,
in SQL, ``--comments`` proposals from 60,000 citizens, each tied to an article (skewed: the first articles draw most
comments; one in ten on the whole draft; one in five on a passage), 90% published, 5% awaiting screening, 5%
replied; clusters of about twenty comments of one article with their keywords, a quarter of them decided on
(采纳, 部分采纳, 不予采纳, with a reason; linked to version 2 when it is imported). Then wrk, with the page cache off
(every request renders; ``--page-cache`` leaves it on, as `make run` does, which serves anonymous readers):

- the draft page /drafts/<id> (every article with its comment count), anonymous;
- the per-article staff view /drafts/<id>/articles/<article> for every article, logged in as the body's manager:
  the summary (comments, commenters, supports, clusters with their representative and keywords, the decision
  forms) and the first page of comments, most supported first; and the same sorted by newest, with "only on a
  passage";
- the summary by article /drafts/<id>/summary (staff), what changed /drafts/<id>/changes and the feedback report
  /drafts/<id>/report (staff preview).

Prints req/s and p50/p95/p99 in ms per page. Prints figures; asserts nothing.
"""
import argparse
import json
import random
import sys
import time

import sqlalchemy as sa

from bench.analytics import scratch_database
from bench.pages import DONE_LUA, Server, _login, run_wrk

DATABASE = "jianyan_bench_drafts"
PASSWORD = "bench-password-1"
CITIZENS = 60_000
CHAPTERS = ["总则", "规划与建设", "服务与管理", "设施保护", "收费与经费", "信息公开", "公众参与", "监督检查",
            "法律责任", "附则"]
SUBJECTS = ["县级以上人民政府", "教育行政部门", "学校", "服务机构", "有关部门", "街道办事处和乡镇人民政府",
            "居民委员会和村民委员会", "价格主管部门", "财政部门", "市场监督管理部门"]
DUTIES = ["应当建立健全相关管理制度", "应当每学期向社会公开服务内容和收费情况", "应当将所需经费纳入本级财政预算",
          "应当加强对从业人员的培训和考核", "应当定期组织开展安全检查", "应当畅通投诉举报渠道并及时处理",
          "可以委托第三方机构开展评估", "应当保障残疾人、老年人等群体的合理需求", "不得以任何形式变相收取费用",
          "应当在规定期限内作出答复并说明理由"]
DECISIONS = ["adopted", "partly", "not_adopted"]
DECISION_REASONS = ["已在修改稿中采纳。", "部分采纳，其余由配套文件规定。", "已有规定，不再重复。"]
KEYWORDS = ["办理期限", "公开", "监督", "经费", "评估"]
PURPOSES = ["保障公共安全", "提高服务质量", "减轻群众负担", "促进资源合理配置", "维护当事人合法权益"]

COOKIE_LUA = """
local paths, index = {}, 0
for path in string.gmatch(os.getenv("BENCH_PATHS"), "[^\\n]+") do paths[#paths + 1] = path end
local cookie = os.getenv("BENCH_COOKIE")
init = function(args) index = math.random(0, #paths - 1) end
request = function()
  index = index + 1
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[(index % #paths) + 1], headers)
end
"""


def draft_text(articles: int, version: int) -> str:
    """A generated regulation of ``articles`` articles in ten chapters; version 2 rewords every tenth article,
    drops the 15th and 16th and adds two after the 30th (so the later articles are renumbered)."""
    lines = ["# 示例公共服务管理条例（" + ("征求意见稿" if version == 1 else "修改稿") + "）"]
    per_chapter = max(1, articles // len(CHAPTERS))
    number = 0
    for i in range(articles):
        if i % per_chapter == 0 and i // per_chapter < len(CHAPTERS):
            lines.append(f"## 第{chinese(i // per_chapter + 1)}章 {CHAPTERS[i // per_chapter]}")
        if version == 2 and i in (14, 15):
            continue
        subject, duty, purpose = SUBJECTS[i % 10], DUTIES[(i * 7) % 10], PURPOSES[(i * 3) % 5]
        published = "并向社会公布办理结果，" if version == 2 and i % 10 == 0 else ""
        text = f"为了{purpose}，{subject}{duty}，{published}具体办法由省级人民政府另行规定（第{i + 1}项规定）。"
        number += 1
        lines.append(f"第{chinese(number)}条 {text}")
        if i % 7 == 0:
            lines.append(f"{subject}应当履行下列职责：")
            lines += [f"（{chinese(k + 1)}）{DUTIES[(i + k) % 10]}；" for k in range(3)]
        if version == 2 and i == 29:
            for extra in range(2):
                number += 1
                lines.append(f"第{chinese(number)}条 新增规定{extra + 1}：{SUBJECTS[extra]}应当建立评价制度，"
                             "评价结果向社会公开。")
    return "\n".join(lines)


def chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return digits[hundreds] + "百"
    return digits[hundreds] + "百" + ("零" + digits[rest] if rest < 10 else ("一" if rest < 20 else "") + chinese(rest))


def fill(articles: int, comments: int) -> int:
    """The data; returns the draft's id."""
    from accounts import services as account_services
    from accounts.models import Body, Role, User
    from campaigns.models import Campaign, Category
    from core.extensions import db
    from core.models import utcnow
    from drafts import parsing, services
    from drafts.models import DraftProvision

    run = lambda sql, **params: db.session.execute(sa.text(sql), params)  # noqa: E731
    body = Body(name="示例省人民政府", kind="government", level="provincial", region="示例省")
    manager = User(username="drafter", display_name="起草组", password_hash=account_services._hasher.hash(PASSWORD),
                   role=Role.STAFF)
    category = Category(code="legal", name="法治", name_en="Law")
    db.session.add_all([body, manager, category])
    db.session.flush()
    account_services.add_member(None, manager, body, "manager")
    now = utcnow()
    campaign = Campaign(body=body, title="示例公共服务管理条例（征求意见稿）公开征求意见", theme="", description="",
                        region_scope="示例省", opens_at=now, allow_oppose=False, screening=False, status="open",
                        categories=[category])
    db.session.add(campaign)
    db.session.flush()
    draft = services.create_draft(manager, campaign, parsing.parse_text(draft_text(articles, 1)))
    db.session.commit()
    run("""INSERT INTO users (id, username, display_name, password_hash, role, session_version, active, created_at,
           email) SELECT 1000 + i, 'c' || i, '市民' || i, '!', 'citizen', 0, true, now(), ''
           FROM generate_series(1, :n) AS i""", n=CITIZENS)
    article_ids = [p.article_id for p in draft.current_version.provisions if p.article_id is not None]
    texts = {p.article_id: p.text for p in draft.current_version.provisions if p.article_id is not None}
    rng = random.Random(18)
    # Skewed: an article's share falls with its place (the first articles draw most comments).
    chosen = [None if rng.random() < 0.1 else article_ids[min(len(article_ids) - 1, int(len(article_ids)
                                                                                         * rng.random() ** 2))]
              for _ in range(comments)]
    run("""INSERT INTO suggestions (id, campaign_id, author_id, category_id, message_type, title, body, status,
           support_count, oppose_count, published_at, public_since, created_at, needs_investigation, source)
           SELECT i, :campaign, 1001 + (i::bigint * 7919) % :citizens, :category,
             CASE WHEN i % 9 = 0 THEN 'question' ELSE 'suggestion' END,
             '关于条例草案的意见' || i, '建议对条文作如下修改：明确办理期限，公开办理结果，接受社会监督。' || i,
             CASE WHEN i % 20 = 0 THEN 'pending' WHEN i % 20 = 1 THEN 'replied' ELSE 'published' END,
             (i * 37) % 50, 0, now(), now(), now() - (i % 1000) * interval '1 minute', false, ''
           FROM generate_series(1, :n) AS i""", n=comments, campaign=campaign.id, citizens=CITIZENS,
        category=category.id)
    version_id = draft.current_version.id
    rows = []
    for i, article_id in enumerate(chosen, start=1):
        quote = texts[article_id][2:10] if article_id is not None and i % 5 == 0 else ""
        rows.append({"s": i, "d": draft.id, "a": article_id, "v": version_id, "q": quote, "p": i % 20 != 0})
    db.session.execute(sa.text("INSERT INTO draft_comments (suggestion_id, draft_id, article_id, version_id, quote, "
                               "public, created_at) VALUES (:s, :d, :a, :v, :q, :p, now())"), rows)
    # Clusters: the public comments of one article, about twenty to a cluster.
    members: dict[int | None, list[int]] = {}
    for i, article_id in enumerate(chosen, start=1):
        if i % 20 != 0:  # the public ones (published or replied)
            members.setdefault(article_id, []).append(i)
    cluster_rows, member_rows, decision_rows = [], [], []
    for article_id, ids in members.items():
        for start in range(0, len(ids), 20):
            group = ids[start:start + 20]
            number = len(cluster_rows) + 1
            keywords = " ".join(KEYWORDS[(number + k) % len(KEYWORDS)] for k in range(3))
            cluster_rows.append({"id": number, "c": campaign.id, "r": group[0], "n": len(group), "k": keywords})
            member_rows += [{"s": s, "c": number, "k": "representative" if s == group[0] else "near"} for s in group]
            if number % 4 == 0:  # a quarter of the groups decided on, before version 2 (linked to it on import)
                decision_rows.append({"d": draft.id, "s": group[0], "ids": json.dumps(group), "a": article_id,
                                      "x": DECISIONS[number % 3], "u": manager.id,
                                      "r": f"第{number}组意见：{DECISION_REASONS[number % 3]}"})
    db.session.execute(sa.text("INSERT INTO clusters (id, campaign_id, representative_id, size, supporter_count, "
                               "keywords, created_at) VALUES (:id, :c, :r, :n, :n * 3, :k, now())"), cluster_rows)
    db.session.execute(sa.text("INSERT INTO cluster_members (suggestion_id, cluster_id, kind, score) "
                               "VALUES (:s, :c, :k, 0.8)"), member_rows)
    db.session.execute(sa.text("INSERT INTO draft_decisions (draft_id, suggestion_id, comment_ids, article_id, "
                               "decision, reason, decided_by_id, created_at) VALUES (:d, :s, :ids, :a, :x, :r, :u, "
                               "now())"), decision_rows)
    for table in ("users", "suggestions", "clusters"):
        run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    db.session.commit()
    started = time.perf_counter()
    services.import_version(manager, draft, parsing.parse_text(draft_text(articles, 2)), note="修改稿")
    db.session.commit()
    kept = db.session.scalar(sa.select(sa.func.count()).select_from(DraftProvision).where(
        DraftProvision.version_id == draft.current_version.id, DraftProvision.article_id.in_(article_ids)))
    print(f"version 2 imported in {time.perf_counter() - started:.2f} s: {kept} of {len(article_ids)} articles "
          f"matched to version 1's; {len(cluster_rows):,} clusters, {len(decision_rows):,} of them decided on")
    run("ANALYZE")
    db.session.commit()
    return draft.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="reuse the data of the previous run")
    parser.add_argument("--page-cache", action="store_true",
                        help="leave the page cache on, as make run does (10 s for anonymous readers); off by default")
    args = parser.parse_args()

    from app import create_app
    from core.extensions import db
    from drafts.models import Draft, DraftProvision

    url = scratch_database(args.admin_url, DATABASE, args.keep)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_INDEX_ON_REQUEST": False,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if not args.keep:
            db.create_all()
            started = time.perf_counter()
            fill(args.articles, args.comments)
            print(f"filled in {time.perf_counter() - started:.0f} s")
        draft = db.session.scalar(sa.select(Draft))
        draft_id = draft.id
        article_ids = [p.article_id for p in db.session.scalars(sa.select(DraftProvision).where(
            DraftProvision.version_id == draft.current_version.id, DraftProvision.article_id.is_not(None)))]
        per_article = dict(db.session.execute(sa.text(
            "SELECT article_id, count(*) FROM draft_comments WHERE draft_id = :d AND article_id IS NOT NULL "
            "GROUP BY article_id"), {"d": draft_id}).all())
        counts = sorted(per_article.get(a, 0) for a in article_ids)
        print(f"draft {draft_id}: {len(article_ids)} articles in the current version; comments per article: "
              f"min {counts[0]}, median {counts[len(counts) // 2]}, max {counts[-1]:,}")
    server = Server({"JIANYAN_DATABASE_URL": url, "JIANYAN_SEARCH_BACKEND": "postgres",
                     **({} if args.page_cache else {"JIANYAN_PAGE_CACHE_SECONDS": "0"})})
    server.start()
    try:
        cookie, _token = _login(server.url, "drafter", PASSWORD)
        table = [
            ("draft page /drafts/<id> (anonymous)", [f"/drafts/{draft_id}"], False),
            ("article view, staff, most supported", [f"/drafts/{draft_id}/articles/{a}" for a in article_ids], True),
            ("article view, staff, newest, passage only",
             [f"/drafts/{draft_id}/articles/{a}?sort=newest&passage=1" for a in article_ids], True),
            ("summary by article (staff)", [f"/drafts/{draft_id}/summary"], True),
            ("what changed /drafts/<id>/changes", [f"/drafts/{draft_id}/changes"], False),
            ("feedback report (staff preview)", [f"/drafts/{draft_id}/report"], True),
        ]
        print(f"{'page':44s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
        for label, paths, staff in table:
            run_wrk(server.url, paths, 3, args.connections, script=COOKIE_LUA + DONE_LUA,
                    extra_env={"BENCH_COOKIE": cookie if staff else ""})  # warm
            result = run_wrk(server.url, paths, args.duration, args.connections, script=COOKIE_LUA + DONE_LUA,
                             extra_env={"BENCH_COOKIE": cookie if staff else ""})
            print(f"{label:44s} {result['rps']:7.1f} {result['p50']:8.1f} {result['p95']:8.1f} {result['p99']:8.1f} "
                  f"{result['errors'] + result['non2xx']:7d}")
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
