"""The shared backend: jieba words in a PostgreSQL ``tsvector`` with a GIN index.

A Whoosh index lives on one machine's disk; when several app servers share one database they share this
index too. PostgreSQL's own parsers do not segment Chinese, so the words come from the same jieba
tokeniser as the Whoosh backend (``core.text.word_spans``) and are stored as lexemes directly
(``array_to_tsvector``); queries are built from lexemes the same way, never parsed by ``to_tsquery``, so no
user input reaches a query parser.

The table lives in its own schema, ``search``, created on first use: it is a cache rebuilt from the
database by ``flask search reindex``, not part of the application's migrated schema (which stays the same
on SQLite and PostgreSQL).
"""
from collections.abc import Iterable

import sqlalchemy as sa

from core.config import resolve_database_url
from core.text import fold, word_spans
from search.backend import (
    FACETS,
    FILTERS,
    SNIPPET_CHARS,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
    mark,
    query_words,
    register,
)

SCHEMA = "search"
_ADVISORY_LOCK = 73_915_201  # serialises CREATE ... IF NOT EXISTS when several servers start at once
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.documents (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    campaign_id text NOT NULL,
    body_id text NOT NULL,
    category text NOT NULL,
    message_type text NOT NULL,
    status text NOT NULL,
    region text NOT NULL,
    created_at timestamptz NOT NULL,
    support_count integer NOT NULL,
    terms tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_terms ON {SCHEMA}.documents USING gin (terms);
CREATE INDEX IF NOT EXISTS documents_newest ON {SCHEMA}.documents (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS documents_supported ON {SCHEMA}.documents (support_count DESC, id DESC);
"""
_UPSERT = sa.text(f"""
INSERT INTO {SCHEMA}.documents (id, title, body, campaign_id, body_id, category, message_type, status, region,
                                created_at, support_count, terms)
VALUES (:id, :title, :body, :campaign_id, :body_id, :category, :message_type, :status, :region, :created_at,
        :support_count,
        setweight(array_to_tsvector(CAST(:title_terms AS text[])), 'A')
        || setweight(array_to_tsvector(CAST(:body_terms AS text[])), 'B'))
ON CONFLICT (id) DO UPDATE SET
    title = excluded.title, body = excluded.body, campaign_id = excluded.campaign_id,
    body_id = excluded.body_id, category = excluded.category, message_type = excluded.message_type,
    status = excluded.status, region = excluded.region, created_at = excluded.created_at,
    support_count = excluded.support_count, terms = excluded.terms
""")
_ORDER = {"relevance": "ts_rank(terms, q) DESC, id DESC", "newest": "created_at DESC, id DESC",
          "supported": "support_count DESC, id DESC"}


def terms_of(text: str) -> list[str]:
    """The distinct lexemes stored for ``text``: folded jieba words, as the Whoosh backend indexes them."""
    return list(dict.fromkeys(word for word, _, _ in word_spans(fold(text))))


def lexeme(word: str) -> str:
    """``word`` quoted as a tsquery lexeme (quotes and backslashes escaped), so it is taken verbatim."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _row(doc: SearchDocument) -> dict:
    return {"id": doc.id, "title": doc.title, "body": doc.body, "campaign_id": str(doc.campaign_id),
            "body_id": str(doc.body_id), "category": doc.category, "message_type": doc.message_type,
            "status": doc.status, "region": doc.region or "-", "created_at": doc.created_at,
            "support_count": doc.support_count, "title_terms": terms_of(doc.title), "body_terms": terms_of(doc.body)}


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
        rows = [_row(doc) for doc in documents]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_UPSERT, rows)
        return len(rows)

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            with self.engine.begin() as conn:
                conn.execute(sa.text(f"DELETE FROM {SCHEMA}.documents WHERE id = ANY(:ids)"), {"ids": ids})

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {SCHEMA}.documents")

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.text(f"SELECT count(*) FROM {SCHEMA}.documents"))

    def search(self, query: SearchQuery) -> SearchResult:
        words = query_words(query.text)
        page = max(1, query.page)
        if not words:
            return SearchResult(hits=[], total=0, page=page, per_page=query.per_page, facets={})
        params: dict = {"q": " & ".join(lexeme(w) for w in words)}
        conditions = ["terms @@ q"]
        for name, value in query.filters.items():
            if name in FILTERS and value not in (None, ""):
                conditions.append(f"{name} = :{name}")
                params[name] = str(value)
        matches = f"{SCHEMA}.documents, CAST(:q AS tsquery) AS q WHERE {' AND '.join(conditions)}"
        facet_sql = (f"SELECT {', '.join(FACETS)}, count(*) FROM {matches} "
                     f"GROUP BY GROUPING SETS ({', '.join(f'({name})' for name in FACETS)})")
        hits_sql = (f"SELECT id, title, body, ts_rank(terms, q) FROM {matches} "
                    f"ORDER BY {_ORDER.get(query.sort, _ORDER['relevance'])} LIMIT :limit OFFSET :offset")
        with self.engine.connect() as conn:
            facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
            for row in conn.execute(sa.text(facet_sql), params):
                for name, value in zip(FACETS, row[:-1], strict=True):
                    if value is not None:
                        facets[name][value] = row[-1]
            rows = conn.execute(sa.text(hits_sql), {**params, "limit": query.per_page,
                                                    "offset": (page - 1) * query.per_page}).all()
        hits = [SearchHit(id=row.id, title_html=mark(row.title, words),
                          snippet_html=mark(row.body, words, window=SNIPPET_CHARS), score=float(row[3]))
                for row in rows]
        return SearchResult(hits=hits, total=sum(facets["status"].values()), page=page, per_page=query.per_page,
                            facets=facets)
