"""Local editions benchmark (issue 16): the body picker among 16,000 bodies, and the editions' pages at a million
proposals, on PostgreSQL, through gunicorn as `make run` starts it, under wrk.

    python -m bench.editions picker [--bodies 16000] [--duration 20] [--connections 8] [--keep]
    python -m bench.editions pages [--n 1000000] [--duration 20] [--connections 2] [--keep]

``pages``: a scratch database (jianyan_bench_editions_pages) filled by bench.analytics's fill (n proposals, 200,000
citizens, replies, ratings, supports, clusters) over 310 campaigns, then China's divisions, 16,000 bodies over
them (as ``picker``) and 31 editions, one per mainland province; each campaign belongs to a body of one province
(ten campaigns an edition), and its proposals' handling bodies, replies and ratings follow it. The figures'
rollup is rebuilt. Then wrk, with the page cache off (every request renders; ``--page-cache`` leaves it on, as
`make run` does): each edition's home page
(/r/<code>/), its proposal list (/r/<code>/proposals, pages 1-5, newest and most supported) and its dashboard
(/analytics/?edition=<code>), p50/p95/p99 each.

Creates a scratch database (jianyan_bench_editions, dropped first), loads China's divisions
(``accounts/divisions/divisions.csv``: 34 provinces, 333 cities, 2,846 counties) and generates bodies in them as
a national platform holds them: per province its 人大常委会, 政协, 人民政府 and a dozen departments; per city the same
four and eight bureaus; per county the government and a few bureaus, until there are ``--bodies`` of them (names
from the divisions' own names, so the picker meets the real spread of prefixes: 38 divisions start with 新, many
counties share names with their cities). Then it serves the site as `make run` does (gunicorn, gunicorn.conf.py)
and, with wrk (Debian's `wrk`), has a logged-in staff member "type": for each of 300 bodies chosen at random, every
prefix of its pinyin initials and of its name (吉, 吉林, 吉林省 …; j, jl, jls …), each one request to
``/accounts/bodies/find``, as static/js/body_picker.js sends them. Prints req/s and p50/p95/p99 in ms, and the
picker's own time in this process (the SQL and the ranking, no HTTP) per keystroke. Prints figures; asserts
nothing. The editions' pages (home, proposal list, dashboard at a million proposals) are not built yet: see
docs/benchmarks.md.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import sqlalchemy as sa

from bench.analytics import percentile, scratch_database
from bench.pages import DONE_LUA, Server, _login, run_wrk

DATABASE = "jianyan_bench_editions"
PASSWORD = "bench-password-1"
PROVINCE_BODIES = ("人大常委会 政协委员会 人民政府 发展和改革委员会 教育厅 科学技术厅 公安厅 民政厅 司法厅 财政厅 "
                   "人力资源和社会保障厅 自然资源厅 生态环境厅 住房和城乡建设厅 交通运输厅 水利厅 农业农村厅 商务厅 "
                   "文化和旅游厅 卫生健康委员会").split()
CITY_BODIES = ("人大常委会 政协委员会 人民政府 教育局 公安局 民政局 住房和城乡建设局 交通运输局 "
               "卫生健康委员会 生态环境局 城市管理局 市场监督管理局").split()
COUNTY_BODIES = ["人民政府", "人大常委会", "教育局", "住房和城乡建设局", "卫生健康局", "公安局交通管理大队"]

PICKER_LUA = """
local paths, index = {}, 0
for path in io.lines(os.getenv("BENCH_PATHS_FILE")) do paths[#paths + 1] = path end
local cookie = os.getenv("BENCH_COOKIE")
init = function(args) index = math.random(0, #paths - 1) end
request = function()
  index = index + 1
  return wrk.format("GET", paths[(index % #paths) + 1], {["Cookie"] = cookie, ["Accept"] = "application/json"})
end
"""


def body_rows(limit: int) -> list[dict]:
    """Bodies over the loaded divisions: provinces' first, then cities', then counties', up to ``limit``."""
    from accounts.models import Region
    from core.extensions import db
    from core.regions import spell

    divisions = list(db.session.execute(sa.select(Region.code, Region.name, Region.path, Region.level)
                                        .order_by(Region.code)))
    rows, seen = [], set()
    for level, kinds, body_level in (("province", PROVINCE_BODIES, "provincial"),
                                     ("city", CITY_BODIES, "municipal"), ("county", COUNTY_BODIES, "county")):
        for code, name, path, _ in (d for d in divisions if d.level == level):
            for kind in kinds:
                body = f"{'政协' + name + '委员会' if kind == '政协委员会' else name + kind}"
                if body in seen or len(rows) >= limit:
                    continue
                seen.add(body)
                rows.append({"name": body, "name_en": "", "kind": "department", "level": body_level,
                             "region": path, "region_code": code, "spelled": spell(body), "contact_email": ""})
    return rows


def typed(name: str, spelled: str) -> list[str]:
    """What staff type, keystroke by keystroke: the name's prefixes and the initials' prefixes."""
    initials = spelled.split()[-1]
    return [name[:k] for k in range(1, len(name) + 1)] + [initials[:k] for k in range(1, len(initials) + 1)]


MAINLAND = [f"{code}0000" for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44,
                                       45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65)]
PAGES_DATABASE = "jianyan_bench_editions_pages"
PAGES_CAMPAIGNS = 310


def fill_editions(n: int, bodies: int) -> None:
    """bench.analytics's million, then the divisions, ``bodies`` bodies and 31 editions; campaigns moved onto the
    editions' bodies (see the module's docstring)."""
    from accounts import regions
    from accounts.models import Body
    from bench.analytics import fill
    from core.extensions import db
    from editions import services

    started = time.perf_counter()
    fill(n, campaigns=PAGES_CAMPAIGNS)
    print(f"generated {n:,} proposals in {time.perf_counter() - started:.0f} s")
    regions.load_divisions()
    db.session.execute(sa.insert(Body), body_rows(bodies))
    for code in MAINLAND:
        name = db.session.scalar(sa.text("SELECT name FROM regions WHERE code = :c"), {"c": code})
        services.create_edition(None, code=code, name=f"{name}建言平台", short_name=name[:2])
    by_province: dict[str, list[int]] = {}
    for body_id, code in db.session.execute(sa.select(Body.id, Body.region_code).where(Body.region_code.is_not(None))
                                            .order_by(Body.id)):
        by_province.setdefault(code[:2], []).append(body_id)
    moves = []
    for campaign_id in range(1, PAGES_CAMPAIGNS + 1):
        province = MAINLAND[(campaign_id - 1) % len(MAINLAND)][:2]
        choices = by_province[province]
        moves.append({"c": campaign_id, "b": choices[((campaign_id - 1) // len(MAINLAND) * 7) % len(choices)]})
    run = lambda sql, params=None: db.session.execute(sa.text(sql), params or {})  # noqa: E731
    run("UPDATE campaigns SET body_id = :b WHERE id = :c", moves)
    run("UPDATE campaigns c SET region_scope = b.region FROM bodies b WHERE b.id = c.body_id")
    run("""UPDATE suggestions s SET handling_body_id = c.body_id FROM campaigns c
           WHERE c.id = s.campaign_id AND s.handling_body_id IS NOT NULL""")
    run("UPDATE replies r SET body_id = s.handling_body_id FROM suggestions s WHERE s.id = r.suggestion_id")
    run("UPDATE ratings t SET body_id = r.body_id FROM replies r WHERE r.id = t.reply_id")
    db.session.commit()
    run("ANALYZE")
    db.session.commit()
    print(f"{len(MAINLAND)} editions, {bodies:,} bodies, campaigns moved onto them: "
          f"{time.perf_counter() - started:.0f} s")


def pages(args) -> None:
    from analytics import rollup
    from app import create_app
    from core.extensions import db

    url = scratch_database(args.admin_url, PAGES_DATABASE, args.keep)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ANALYTICS_MAX_AGE_SECONDS": 10**9,
                      "SEARCH_INDEX_ON_REQUEST": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        if not args.keep:
            db.create_all()
            fill_editions(args.n, args.bodies)
            started = time.perf_counter()
            rollup.refresh()
            db.session.commit()
            print(f"rollup rebuilt in {time.perf_counter() - started:.0f} s")
        sizes = db.session.execute(sa.text(
            "SELECT e.code, count(s.id) FROM editions e "
            "JOIN bodies b ON b.region_code LIKE substr(e.code, 1, 2) || '%' "
            "JOIN campaigns c ON c.body_id = b.id JOIN suggestions s ON s.campaign_id = c.id GROUP BY e.code")).all()
        counts = sorted(count for _, count in sizes)
        print(f"proposals per edition: min {counts[0]:,}, median {counts[len(counts) // 2]:,}, max {counts[-1]:,}")
    codes = MAINLAND
    table = {
        "edition home /r/<code>/": [f"/r/{c}/" for c in codes],
        "edition proposals /r/<code>/proposals": [f"/r/{c}/proposals?sort={s}&page={p}" for c in codes
                                                  for s in ("newest", "supported") for p in range(1, 6)],
        "edition dashboard /analytics/?edition=": [f"/analytics/?edition={c}" for c in codes],
    }
    server = Server({"JIANYAN_DATABASE_URL": url, "JIANYAN_SEARCH_BACKEND": "postgres",
                     "JIANYAN_ANALYTICS_MAX_AGE_SECONDS": str(10**9),
                     **({} if args.page_cache else {"JIANYAN_PAGE_CACHE_SECONDS": "0"})})
    server.start()
    try:
        # The first views, one request at a time: templates, the planner's caches, and each worker's figures of
        # each edition (kept until the rollup is rebuilt; analytics.views._figures). Then the load, warm.
        first: dict[str, list[float]] = {label: [] for label in table}
        for _round in range(3):
            for label, paths in table.items():
                for path in paths[:len(codes)]:
                    started = time.perf_counter()
                    urllib.request.urlopen(server.url + path, timeout=60).read()  # noqa: S310 - local
                    first[label].append((time.perf_counter() - started) * 1000)
        for label, took in first.items():
            print(f"first views of {label}: median {statistics.median(took[:len(codes)]):.1f} ms, "
                  f"max {max(took[:len(codes)]):.1f} ms (then {statistics.median(took[len(codes):]):.1f} ms)")
        print(f"{'page':42s} {'req/s':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'KiB':>6s}")
        for label, paths in table.items():
            size = len(urllib.request.urlopen(server.url + paths[0], timeout=60).read()) / 1024  # noqa: S310
            result = run_wrk(server.url, paths, args.duration, args.connections)
            print(f"{label:42s} {result['rps']:7.1f} {result['p50']:8.1f} {result['p95']:8.1f} {result['p99']:8.1f} "
                  f"{result['errors'] + result['non2xx']:7d} {size:6.0f}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("pages", help="the editions' pages at a million proposals")
    q.add_argument("--n", type=int, default=1_000_000)
    q.add_argument("--bodies", type=int, default=16_000)
    q.add_argument("--duration", type=int, default=20)
    q.add_argument("--connections", type=int, default=2)
    q.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    q.add_argument("--keep", action="store_true", help="reuse the data of the previous run")
    q.add_argument("--page-cache", action="store_true",
                   help="leave the page cache on, as make run does (10 s for anonymous readers); off by default")
    p = sub.add_parser("picker", help="the body picker among N bodies")
    p.add_argument("--bodies", type=int, default=16_000)
    p.add_argument("--targets", type=int, default=300, help="bodies whose names are typed")
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--keep", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    if args.command == "pages":
        return pages(args)

    from accounts import regions, services
    from accounts.models import Body, Membership
    from app import create_app
    from core.extensions import db

    url = scratch_database(args.admin_url, DATABASE, args.keep)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        if not args.keep:
            db.create_all()
            started = time.perf_counter()
            regions.load_divisions()
            rows = body_rows(args.bodies)
            db.session.execute(sa.insert(Body), rows)
            staff = services.register_user("bench_staff", PASSWORD)
            db.session.add(Membership(user_id=staff.id, body_id=db.session.scalar(sa.select(sa.func.min(Body.id))),
                                      role="staff"))
            db.session.commit()
            print(f"{len(rows):,} bodies over {db.session.scalar(sa.text('SELECT count(*) FROM regions')):,} "
                  f"divisions in {time.perf_counter() - started:.1f} s")
        bodies = list(db.session.execute(sa.select(Body.name, Body.spelled).order_by(Body.id)))
        print(f"bodies: {len(bodies):,}")
        rng = random.Random(16)
        keystrokes = [q for name, spelled in rng.sample(bodies, min(args.targets, len(bodies)))
                      for q in typed(name, spelled)]
        in_process, sizes = [], []
        for query in keystrokes:
            started = time.perf_counter()
            sizes.append(len(regions.find_bodies(query)))
            in_process.append((time.perf_counter() - started) * 1000)
        print(f"find_bodies in this process, {len(keystrokes):,} keystrokes: "
              f"p50 {statistics.median(in_process):.1f} ms, p95 {percentile(in_process, 95):.1f} ms, "
              f"p99 {percentile(in_process, 99):.1f} ms, "
              f"max {max(in_process):.1f} ms; {sum(s == 0 for s in sizes)} found nothing")
        found_first = sum(1 for name, spelled in rng.sample(bodies, 200)
                          if regions.find_bodies(spelled.split()[-1])[:1]
                          and regions.find_bodies(spelled.split()[-1])[0].name == name)
        print(f"typing a body's whole initials puts it first for {found_first} of 200 bodies")

    server = Server({"JIANYAN_DATABASE_URL": url, "JIANYAN_SEARCH_BACKEND": "postgres"})
    server.start()
    try:
        cookie, _token = _login(server.url, "bench_staff", PASSWORD)
        paths = ["/accounts/bodies/find?q=" + urllib.parse.quote(q) for q in keystrokes]
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:  # too many for an environment variable
            listed.write("\n".join(paths) + "\n")
            listed.flush()
            result = run_wrk(server.url, [], args.duration, args.connections, script=PICKER_LUA + DONE_LUA,
                             extra_env={"BENCH_COOKIE": cookie, "BENCH_PATHS_FILE": listed.name})
    finally:
        server.stop()
    print(f"GET /accounts/bodies/find through gunicorn, {args.connections} connections for {args.duration} s over "
          f"{len(paths):,} keystrokes: {result['rps']:.1f} req/s, p50 {result['p50']:.1f} ms, "
          f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, errors {result['errors']}, "
          f"non-2xx {result['non2xx']}")

if __name__ == "__main__":
    sys.exit(main())
