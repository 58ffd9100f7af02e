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


def fill(n: int) -> None:
    """Generate the data in SQL; every value is a function of the row number, so runs are repeatable."""
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
           timestamp '2016-01-01', 10, 20 FROM generate_series(1, :n) AS i""", n=CAMPAIGNS, bodies=BODIES)
    # Proposals: spread over 2016-2026; 80% accepted a day after writing; 70% replied 1-60 days later.
    run("""INSERT INTO suggestions (id, campaign_id, author_id, category_id, message_type, title, body, status,
           support_count, oppose_count, handling_body_id, published_at, accepted_at, replied_at, created_at,
           reply_due_on, needs_investigation, first_replied_at, handling_days, handling_working_days, source)
           SELECT i, c, 101 + (i::bigint * 7919) % (:users - 100), 1 + (i * 31) % :categories,
             (ARRAY['suggestion','complaint','help','question','thanks'])[1 + (i * 13) % 5], '建议' || i, '内容' || i,
             CASE WHEN i % 10 < 7 THEN 'replied' WHEN i % 10 < 8 THEN 'accepted' ELSE 'published' END, 2, 0,
             CASE WHEN i % 10 < 8 THEN 1 + c % :bodies END, t, CASE WHEN i % 10 < 8 THEN t + interval '1 day' END,
             CASE WHEN i % 10 < 7 THEN t + interval '1 day' + d * interval '1 day' END, t,
             CASE WHEN i % 10 < 8 THEN (t + interval '15 days')::date END, false,
             CASE WHEN i % 10 < 7 THEN t + interval '1 day' + d * interval '1 day' END,
             CASE WHEN i % 10 < 7 THEN d END, CASE WHEN i % 10 < 7 THEN (d * 5) / 7 END, ''
           FROM (SELECT i, 1 + i % :campaigns AS c, 1 + (i * 37) % 60 AS d,
                        timestamp '2016-01-01' + (i::float / :n) * interval '3950 days' AS t
                 FROM generate_series(1, :n) AS i) AS g""",
        n=n, users=USERS, categories=CATEGORIES, bodies=BODIES, campaigns=CAMPAIGNS)
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
    # Clusters of five consecutive proposals of one campaign: every (CAMPAIGNS * 5)-block forms CAMPAIGNS clusters.
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
    name = "jianyan_bench_analytics"
    if args.keep:
        url = sa.engine.make_url(args.admin_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
            database=name).render_as_string(hide_password=False)
    else:
        url = create_database(args.admin_url, name)
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
