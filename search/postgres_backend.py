"""The shared backend: jieba words as integer arrays in PostgreSQL, with a GIN index.

A Whoosh index lives on one machine's disk; when several app servers share one database they share this
index too. PostgreSQL's own parsers do not segment Chinese, so the words come from the same jieba tokeniser
as the Whoosh backend (``core.text.word_spans``). No user input reaches a query parser: a query is an array
of word ids, matched with ``@>`` (every word present).

Why word ids (a 32-bit hash of each word) rather than a ``tsvector``: answering a query reads every matching
row from the table (for the facet counts), and rows of about 1,400 bytes (tsvector, title and body, below
PostgreSQL's 2 kB TOAST threshold) made a word found in 15% of 100,000 proposals cost 50 ms in heap reads
alone. Narrow rows of word ids, with the texts in a side table read only for the page of hits, halve the
pages read. Two different words sharing a hash would match each other: with 200,000 distinct words that
concerns a handful of rare pairs.

The tables live in their own schema, ``search``, created on first use: they are a cache rebuilt from the
database by ``flask search reindex``, not part of the application's migrated schema (which stays the same
on SQLite and PostgreSQL).
"""
import json
import math
import zlib
from collections.abc import Iterable

import sqlalchemy as sa

from core.chinese import fold, word_spans
from core.config import resolve_database_url
from search.backend import (
    FACETS,
    FILTERS,
    INDEX_VERSION,
    MATCH_SAMPLE,
    SNIPPET_CHARS,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
    highlight_words,
    mark,
    query_words,
    register,
)

SCHEMA = "search"
_ADVISORY_LOCK = 73_915_201  # serialises CREATE ... IF NOT EXISTS when several servers start at once
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.proposal_words (
    id bigint PRIMARY KEY,
    campaign_id text NOT NULL,
    body_id text NOT NULL,
    category text NOT NULL,
    message_type text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    support_count integer NOT NULL,
    title_words integer[] NOT NULL,
    words integer[] NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.proposal_texts (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    region text NOT NULL
);
CREATE INDEX IF NOT EXISTS proposal_words_words ON {SCHEMA}.proposal_words USING gin (words);
CREATE INDEX IF NOT EXISTS proposal_words_created ON {SCHEMA}.proposal_words (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS proposal_words_support ON {SCHEMA}.proposal_words (support_count DESC, id DESC);
CREATE TABLE IF NOT EXISTS {SCHEMA}.settings (name text PRIMARY KEY, value text NOT NULL);
"""
_COLUMNS = ("campaign_id", "body_id", "category", "message_type", "status", "created_at", "support_count",
            "title_words", "words")
_UPSERT_WORDS = sa.text(
    f"INSERT INTO {SCHEMA}.proposal_words (id, {', '.join(_COLUMNS)}) "
    f"VALUES (:id, {', '.join(':' + c for c in _COLUMNS)}) "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS)}")
_UPSERT_TEXTS = sa.text(
    f"INSERT INTO {SCHEMA}.proposal_texts (id, title, body, region) VALUES (:id, :title, :body, :region) "
    "ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, region = excluded.region")
# Sampling: every row also holds one bucket word, a hash of its id into BUCKETS buckets (see bucket_of; ids spread
# evenly over time, campaigns and statuses, and the hash keeps any pattern in the ids out of the buckets). A query
# with very many matches is counted, faceted and ranked over the matches in its first few buckets only, found
# through the same GIN index, so it costs what ~MATCH_SAMPLE matches cost, and its sample is unbiased (the first
# rows a scan finds would be the oldest); counts are scaled up and shown as estimates.
BUCKETS = 64
LAYOUT = f"{INDEX_VERSION}+buckets{BUCKETS}"  # what is_current() compares: tokeniser, masking and the bucket words
# Relevance: proposals whose title holds every word first, then the most supported, then the newest.
_ORDER = {"relevance": "in_title DESC, support_count DESC, id DESC", "newest": "created_at DESC, id DESC",
          "supported": "support_count DESC, id DESC"}


def word_id(word: str) -> int:
    """A word as a signed 32-bit integer (CRC-32 of its UTF-8 bytes), the form stored and queried."""
    return zlib.crc32(word.encode()) - 2**31


def word_ids(text: str) -> list[int]:
    """The distinct word ids of ``text``: folded jieba words, as the Whoosh backend indexes them."""
    return sorted({word_id(word) for word, _, _ in word_spans(fold(text))})


def bucket_word(bucket: int) -> int:
    """The id of the word that marks bucket ``bucket`` (no text can hold it: it starts with a NUL)."""
    return word_id(f"\x00bucket:{bucket}")


def bucket_of(doc_id: int) -> int:
    """The bucket of a proposal: runs of 64 consecutive ids share one (rows written in id order share table pages,
    so a sample reads a few pages whole rather than one row of every page), and the runs are spread over the
    buckets by Knuth's multiplicative hash."""
    return (((doc_id >> 6) * 2654435761) & 0xFFFFFFFF) * BUCKETS >> 32


def bucket_sql(id_column: str) -> str:
    """``bucket_of`` as an SQL expression over a bigint column, for writers that fill the table in bulk."""
    return f"(((({id_column} >> 6) * 2654435761) & 4294967295) * {BUCKETS} >> 32)"


def _rows(doc: SearchDocument) -> tuple[dict, dict]:
    title_words = word_ids(doc.title)
    words = {"id": doc.id, "campaign_id": str(doc.campaign_id), "body_id": str(doc.body_id),
             "category": doc.category, "message_type": doc.message_type, "status": doc.status,
             "created_at": doc.created_at, "support_count": doc.support_count, "title_words": title_words,
             "words": sorted(set(title_words) | set(word_ids(doc.body)) | {bucket_word(bucket_of(doc.id))})}
    return words, {"id": doc.id, "title": doc.title, "body": doc.body, "region": doc.region or ""}


@register("postgres")
class PostgresBackend:
    def __init__(self, config: dict):
        url = config.get("SEARCH_DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI")
        url = resolve_database_url(url, "")
        if not url.startswith("postgresql"):
            raise ValueError("SEARCH_BACKEND 'postgres' needs a PostgreSQL SEARCH_DATABASE_URL or database")
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
            conn.exec_driver_sql(_DDL)

    def index(self, documents: Iterable[SearchDocument], replace: bool = True, processes: int = 1) -> int:
        """Add or replace documents (``replace`` and ``processes`` exist for the Whoosh backend's bulk path)."""
        rows = [_rows(doc) for doc in documents]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_UPSERT_WORDS, [words for words, _ in rows])
                conn.execute(_UPSERT_TEXTS, [texts for _, texts in rows])
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            with self.engine.begin() as conn:
                for table in ("proposal_words", "proposal_texts"):
                    conn.execute(sa.text(f"DELETE FROM {SCHEMA}.{table} WHERE id = ANY(:ids)"), {"ids": ids})

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {SCHEMA}.proposal_words, {SCHEMA}.proposal_texts")
            conn.execute(sa.text(f"INSERT INTO {SCHEMA}.settings (name, value) VALUES ('tokens_version', :v) "
                                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value"), {"v": LAYOUT})

    def is_current(self) -> bool:
        with self.engine.connect() as conn:
            version = conn.scalar(sa.text(f"SELECT value FROM {SCHEMA}.settings WHERE name = 'tokens_version'"))
        return version == LAYOUT

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.text(f"SELECT count(*) FROM {SCHEMA}.proposal_words"))

    def search(self, query: SearchQuery) -> SearchResult:
        words = query_words(query.text)
        page = max(1, query.page)
        if not words:
            return SearchResult(hits=[], total=0, page=page, per_page=query.per_page, facets={})
        params: dict = {"q": sorted({word_id(w) for w in words}), "limit": query.per_page,
                        "offset": (page - 1) * query.per_page}
        conditions = ["words @> CAST(:q AS integer[])"]
        for name, value in query.filters.items():
            if name in FILTERS and isinstance(value, tuple | list):  # any of these (an edition's campaigns)
                conditions.append(f"{name} = ANY(CAST(:{name} AS text[]))")
                params[name] = [str(v) for v in value]
            elif name in FILTERS and value not in (None, ""):
                conditions.append(f"{name} = :{name}")
                params[name] = str(value)
        where = " AND ".join(conditions)
        with self.engine.connect() as conn:
            # The planner's statistics (the word arrays' most common elements) say how common the words are; up
            # to MATCH_SAMPLE matches everything is counted, beyond that the matches of the first few buckets.
            buckets = self._buckets_for(self._estimate(conn, where, params))
            sampled = f"{where} AND words && CAST(:buckets AS integer[])" if buckets < BUCKETS else where
            params["buckets"] = [bucket_word(b) for b in range(buckets)]
            facets, counted = self._facets(conn, sampled, params)
            if buckets < BUCKETS and counted * BUCKETS / buckets <= MATCH_SAMPLE:  # the estimate was far too high
                buckets, sampled = BUCKETS, where
                facets, counted = self._facets(conn, where, params)
            # Relevance puts title matches first, which no index serves: it ranks the sample. The other orders
            # have their index and read the matches in that order, however many there are.
            ranked = sampled if query.sort not in ("newest", "supported") else where
            order = _ORDER.get(query.sort, _ORDER["relevance"])
            ids = [row.id for row in conn.execute(sa.text(
                f"SELECT id, support_count, created_at, title_words @> CAST(:q AS integer[]) AS in_title "
                f"FROM {SCHEMA}.proposal_words WHERE {ranked} ORDER BY {order} LIMIT :limit OFFSET :offset"),
                params)]
            texts = {row.id: row for row in conn.execute(
                sa.text(f"SELECT id, title, body FROM {SCHEMA}.proposal_texts WHERE id = ANY(:ids)"), {"ids": ids})}
        approximate = buckets < BUCKETS
        total = round(counted * BUCKETS / buckets)
        if approximate:
            facets = {name: {value: round(count * BUCKETS / buckets) for value, count in values.items()}
                      for name, values in facets.items()}
        marked = highlight_words(words)
        hits = [SearchHit(id=doc_id, title_html=mark(texts[doc_id].title, marked),
                          snippet_html=mark(texts[doc_id].body, marked, window=SNIPPET_CHARS), score=0.0)
                for doc_id in ids if doc_id in texts]
        return SearchResult(hits=hits, total=total, page=page, per_page=query.per_page, facets=facets,
                            approximate=approximate)

    @staticmethod
    def _buckets_for(estimate: int) -> int:
        """How many buckets to read for about MATCH_SAMPLE of ``estimate`` matches (all of them for fewer)."""
        if estimate <= MATCH_SAMPLE:
            return BUCKETS
        return min(BUCKETS, math.ceil(BUCKETS * MATCH_SAMPLE / estimate))

    @staticmethod
    def _facets(conn, where: str, params: dict) -> tuple[dict[str, dict[str, int]], int]:
        """Facet counts of the rows ``where`` selects, and how many rows that is."""
        sql = (f"SELECT {', '.join(FACETS)}, count(*) AS n FROM {SCHEMA}.proposal_words WHERE {where} "
               f"GROUP BY GROUPING SETS ({', '.join(f'({name})' for name in FACETS)})")
        facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for row in conn.execute(sa.text(sql), params):
            for name, value in zip(FACETS, row[:len(FACETS)], strict=True):
                if value is not None:
                    facets[name][value] = row.n
        return facets, sum(facets["status"].values())

    @staticmethod
    def _estimate(conn, where: str, params: dict) -> int:
        """PostgreSQL's own estimate of how many rows match (its statistics of the word arrays), without counting."""
        plan = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {SCHEMA}.proposal_words WHERE {where}"),
                            params).scalar()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])
