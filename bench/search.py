"""Search benchmark: bulk indexing rate, index size and query latency on generated proposals.

    python -m bench.search --n 100000 [--backend whoosh|postgres] [--queries 300]
                           [--database-url postgresql://postgres@127.0.0.1:5432/test]

The PostgreSQL backend's table (schema "search") in the given database is emptied first.

The corpus comes from the project's own demo generator (demo.content), so it needs no data files.
Prints figures; asserts nothing.
"""
import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from demo.content import generate_proposals
from search.backend import SearchDocument, SearchQuery, backend_from_config

ONE_WORD = ["停车", "电梯", "学校", "公交", "噪音", "养老", "医保", "路灯", "垃圾", "拥堵", "补贴", "小区", "农村",
            "充电桩", "就业", "物业", "医院", "菜市场", "斑马线", "供暖"]
TWO_WORDS = ["小区 停车", "学校 门口", "公交 线路", "老旧小区 电梯", "夜市 噪音", "养老 补贴", "农村 饮水",
             "医保 异地", "路口 红绿灯", "停車 難"]


CHUNK = 50_000  # as search.indexing.reindex


def documents(n: int, seed: int) -> list[SearchDocument]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [SearchDocument(id=i + 1, title=p["title"], body=p["body"], campaign_id=i % 9 + 1, body_id=i % 22 + 1,
                           category=p["category"], message_type=p["message_type"], status="published",
                           region="江南省", created_at=start + timedelta(minutes=i), support_count=i % 97)
            for i, p in enumerate(generate_proposals(seed, n))]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def index_size(backend, directory: str) -> int:
    """Bytes on disk: the Whoosh directory, or the PostgreSQL table with its indexes and TOAST."""
    if hasattr(backend, "engine"):
        with backend.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT pg_total_relation_size('search.proposal_words') "
                                        "+ pg_total_relation_size('search.proposal_texts')").scalar()
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(directory) for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backend", default="whoosh", choices=["whoosh", "postgres"])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    t = time.perf_counter()
    docs = documents(args.n, args.seed)
    print(f"corpus: {len(docs)} generated proposals, mean length "
          f"{statistics.mean(len(d.title) + len(d.body) for d in docs):.0f} characters "
          f"({time.perf_counter() - t:.1f} s to generate)")

    with tempfile.TemporaryDirectory() as directory:
        backend = backend_from_config({"SEARCH_BACKEND": args.backend, "SEARCH_INDEX_DIR": directory,
                                       "SEARCH_DATABASE_URL": args.database_url})
        backend.clear()
        backend.search(SearchQuery(text="预热"))  # load jieba's dictionary before timing
        t = time.perf_counter()
        for start in range(0, len(docs), CHUNK):  # as `flask search reindex` does
            backend.index(docs[start:start + CHUNK], replace=False, processes=2)
        elapsed = time.perf_counter() - t
        print(f"bulk indexing: {len(docs) / elapsed:.0f} proposals/s ({elapsed:.1f} s)")
        if args.backend == "postgres":
            with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE search.proposal_words, search.proposal_texts")
        print(f"index size: {index_size(backend, directory) / 2**20:.1f} MiB")

        t = time.perf_counter()
        backend.search(SearchQuery(text="养老 补贴"))
        print(f"first query after indexing (cold caches): {(time.perf_counter() - t) * 1000:.1f} ms")
        rng = random.Random(args.seed)
        for label, pool in (("one-word", ONE_WORD), ("two-word", TWO_WORDS)):
            timings, totals = [], []
            for _ in range(args.queries):
                query = SearchQuery(text=rng.choice(pool), sort=rng.choice(["relevance", "newest", "supported"]))
                t = time.perf_counter()
                result = backend.search(query)
                timings.append((time.perf_counter() - t) * 1000)
                totals.append(result.total)
            print(f"{label} queries: p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms "
                  f"(n={len(timings)}, median hits {statistics.median(totals):.0f}, with facets and highlights)")


if __name__ == "__main__":
    main()
