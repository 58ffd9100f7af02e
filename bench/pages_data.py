"""Data for ``bench.pages``: the million on PostgreSQL (bench.analytics's fill), the same shape on SQLite from
Python, then what the pages read: clusters and related proposals of every campaign, the search index, the figures;
and the voters of the hot-proposal run."""
import random
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.analytics import CLOSINGS, PLACES, TOPICS, fill
from core.extensions import db

HOT_VOTERS = 200
VOTER_PASSWORD = "bench-voter-password"


def prepare_postgres(app, n: int, campaigns: int) -> None:
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        fill(n, campaigns)
        print(f"filled in {time.perf_counter() - started:.0f} s")
        derive(postgres_search=True)


def prepare_sqlite(app, n: int) -> None:
    """The same shape as bench.analytics's fill, generated in Python (SQLite has no generate_series)."""
    with app.app_context():
        db.create_all()
        users, bodies, campaigns, categories = 20_000, 40, 30, 12
        start = datetime(2016, 1, 1, tzinfo=UTC)
        run = lambda table, rows: db.session.execute(sa.table(table, *map(sa.column, rows[0])).insert(), rows)  # noqa: E731
        run("users", [{"id": i, "username": f"u{i}", "display_name": f"市民{i}", "password_hash": "!",
                       "role": "citizen", "session_version": 0, "active": True, "created_at": start, "email": ""}
                      for i in range(1, users + 1)])
        run("bodies", [{"id": i, "name": f"机构{i}", "name_en": f"Body {i}", "kind": "department",
                        "level": ["national", "provincial", "municipal", "county"][i % 4], "region": "江南省",
                        "contact_email": "", "created_at": start} for i in range(1, bodies + 1)])
        run("categories", [{"id": i, "code": f"c{i}", "name": f"类别{i}", "name_en": f"Category {i}"}
                           for i in range(1, categories + 1)])
        run("campaigns", [{"id": i, "body_id": 1 + i % bodies, "title": f"征集活动{i}", "theme": "", "description": "",
                           "region_scope": "", "opens_at": start, "allow_oppose": True, "screening": False,
                           "status": "open", "created_at": start, "reply_working_days": 10,
                           "investigation_working_days": 20} for i in range(1, campaigns + 1)])
        for lo in range(1, n + 1, 20_000):
            rows, votes = [], []
            for i in range(lo, min(lo + 20_000, n + 1)):
                place, (topic, topic_body) = PLACES[i % 40], TOPICS[(i // 40) % 40]
                at = start + timedelta(days=3950 * i / n)
                rows.append({"id": i, "campaign_id": 1 + i % campaigns, "author_id": 1 + (i * 7919) % users,
                             "category_id": 1 + (i * 31) % categories, "message_type": "suggestion",
                             "title": f"关于{place}{topic}的建议",
                             "body": f"{place}{topic_body}，{CLOSINGS[(i // 1600) % 10]}",
                             "status": "published" if i % 10 >= 8 else "replied", "support_count": 2,
                             "oppose_count": 0, "published_at": at, "created_at": at, "needs_investigation": False,
                             "source": ""})
                votes += [{"suggestion_id": i, "user_id": 1 + (i * 13 + r * 100003) % users, "value": 1,
                           "created_at": at} for r in (0, 1)]
            run("suggestions", rows)
            run("votes", votes)
        db.session.commit()
        derive(postgres_search=False)


def derive(*, postgres_search: bool) -> None:
    """Clusters and related proposals of every campaign (the batch replaces the fill's synthetic clusters), the
    search index, the figures. Safe to run again."""
    from analytics import rollup
    from campaigns.models import Campaign
    from search.indexing import get_backend, reindex
    from suggestions import clustering, similarity_index

    for table in ("related_proposals", "cluster_members", "clusters"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.commit()
    started = time.perf_counter()
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.id)).all()
    for campaign in campaigns:
        clustering.cluster_campaign(campaign)
        db.session.commit()
    print(f"clustered every campaign in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    for campaign in campaigns:
        similarity_index.save_campaign_index(campaign.id)
    print(f"similarity index of every campaign saved in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    if postgres_search:
        _postgres_search_index()
    else:
        reindex(get_backend(), progress=False)
    print(f"search index built in {time.perf_counter() - started:.0f} s")
    rollup.refresh()
    db.session.commit()
    _vacuum()


def _vacuum() -> None:
    """What autovacuum keeps a live site at (visibility maps for index-only scans, fresh statistics): this
    machine's PostgreSQL runs with autovacuum off, and without it the lists read the heap for every row."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _postgres_search_index() -> None:
    """The PostgreSQL search tables, as `flask search reindex` would write them, jieba run once per distinct text
    (the fill has about 16,000)."""
    from search.indexing import get_backend
    from search.postgres_backend import BUCKETS, SCHEMA, bucket_of, bucket_sql, bucket_word, word_ids

    backend = get_backend()
    backend.clear()
    texts = db.session.execute(sa.text("SELECT DISTINCT title, body FROM suggestions WHERE public")).all()
    db.session.execute(sa.text("CREATE TEMP TABLE bench_words (title text, body text, title_words integer[], "
                               "words integer[])"))
    rows = []
    for title, body in texts:
        title_words = word_ids(title)
        rows.append({"title": title, "body": body, "title_words": title_words,
                     "words": sorted(set(title_words) | set(word_ids(body)))})
    db.session.execute(sa.text("INSERT INTO bench_words VALUES (:title, :body, :title_words, :words)"), rows)
    db.session.execute(sa.text(f"""
        INSERT INTO {SCHEMA}.proposal_words (id, campaign_id, body_id, category, message_type, status, created_at,
                                             support_count, title_words, words)
        SELECT s.id, s.campaign_id::text, c.body_id::text, k.code, s.message_type, s.status,
               s.created_at AT TIME ZONE 'UTC', s.support_count, w.title_words,
               w.words || (CAST(:buckets AS integer[]))[{bucket_sql("s.id::bigint")}::int + 1]
        FROM suggestions s JOIN campaigns c ON c.id = s.campaign_id JOIN categories k ON k.id = s.category_id
        JOIN bench_words w ON w.title = s.title AND w.body = s.body WHERE s.public"""),
        {"buckets": [bucket_word(b) for b in range(BUCKETS)]})
    db.session.execute(sa.text(f"""
        INSERT INTO {SCHEMA}.proposal_texts (id, title, body, region)
        SELECT s.id, s.title, s.body, c.region_scope FROM suggestions s JOIN campaigns c ON c.id = s.campaign_id
        WHERE s.public"""))
    db.session.commit()
    with backend.engine.begin() as conn:
        for doc_id in conn.execute(sa.text(f"SELECT id FROM {SCHEMA}.proposal_words ORDER BY id LIMIT 200")).scalars():
            assert conn.execute(sa.text(f"SELECT words @> ARRAY[:w] FROM {SCHEMA}.proposal_words WHERE id = :id"),
                                {"w": bucket_word(bucket_of(doc_id)), "id": doc_id}).scalar(), "bucket_sql != bucket_of"


def prepare_hot_voters(app) -> tuple[int, list[tuple[str, str]]]:
    """A proposal supported by every citizen of the fill (200,000) and HOT_VOTERS more citizens (with a password)
    who have not voted on it. PostgreSQL only."""
    from accounts.services import _hasher

    with app.app_context():
        proposal_id = db.session.scalar(sa.text(
            "SELECT id FROM suggestions WHERE status IN ('published', 'accepted', 'replied') AND campaign_id = 1 "
            "ORDER BY id LIMIT 1"))
        top = db.session.scalar(sa.text("SELECT max(id) FROM users WHERE username NOT LIKE 'voter%'"))
        db.session.execute(sa.text(
            "INSERT INTO votes (suggestion_id, user_id, value, created_at) SELECT :p, u, 1, now() "
            "FROM generate_series(1, :top) AS u ON CONFLICT DO NOTHING"), {"p": proposal_id, "top": top})
        db.session.execute(sa.text(
            "INSERT INTO users (id, username, display_name, password_hash, role, session_version, active, created_at,"
            " email) SELECT :top + i, 'voter' || i, '投票者' || i, '!', 'citizen', 0, true, now(), '' "
            "FROM generate_series(1, :voters) AS i ON CONFLICT DO NOTHING"), {"top": top, "voters": HOT_VOTERS})
        voter_ids = list(range(top + 1, top + HOT_VOTERS + 1))
        db.session.execute(sa.text("DELETE FROM votes WHERE suggestion_id = :p AND user_id = ANY(:ids)"),
                           {"p": proposal_id, "ids": voter_ids})
        db.session.execute(sa.text(
            "UPDATE suggestions SET oppose_count = 0, support_count = "
            "(SELECT count(*) FROM votes WHERE suggestion_id = :p AND value = 1) WHERE id = :p"), {"p": proposal_id})
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                                   "(SELECT max(id) FROM users))"))
        password_hash = _hasher.hash(VOTER_PASSWORD)
        db.session.execute(sa.text("UPDATE users SET password_hash = :h, active = true WHERE id = ANY(:ids)"),
                           {"h": password_hash, "ids": voter_ids})
        names = list(db.session.scalars(sa.text("SELECT username FROM users WHERE id = ANY(:ids) ORDER BY id"),
                                        {"ids": voter_ids}))
        count = db.session.scalar(sa.text("SELECT support_count FROM suggestions WHERE id = :p"), {"p": proposal_id})
        db.session.commit()
    print(f"hot proposal {proposal_id}: {count:,} supports; {len(names)} voters")
    random.shuffle(names)
    return proposal_id, [(name, VOTER_PASSWORD) for name in names]
