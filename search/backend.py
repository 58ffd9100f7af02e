"""The search protocol every backend implements, and the registry that picks one by ``SEARCH_BACKEND``."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from markupsafe import escape

from core.chinese import TOKENS_VERSION, fold, word_spans
from core.privacy import MASKING_VERSION

SORTS = ("relevance", "newest", "supported")
FILTERS = ("campaign_id", "body_id", "category", "message_type", "status")
FACETS = ("category", "message_type", "status", "campaign_id")
MAX_QUERY_WORDS = 32
SNIPPET_CHARS = 120
MATCH_SAMPLE = 10_000
"""A backend may count and rank about this many matches of a query exactly; beyond it the total and the facet
counts may be scaled up from a sample of about this size (PostgreSQL: see ``postgres_backend.bucket_of``), and the
result says so (``approximate``). A word in every proposal then costs what one in 10,000 does."""
# What an index was built with: jieba words (core.chinese) over text masked by core.privacy. An index of another
# version is rebuilt by `flask search catch-up` (an index from before masking holds personal data).
INDEX_VERSION = f"{TOKENS_VERSION}.{MASKING_VERSION}"


@dataclass(frozen=True)
class SearchDocument:
    """What is indexed for one public proposal."""
    id: int
    title: str
    body: str
    campaign_id: int
    body_id: int
    category: str
    message_type: str
    status: str
    region: str
    created_at: datetime
    support_count: int


@dataclass(frozen=True)
class SearchQuery:
    text: str
    filters: dict[str, str | int] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class SearchHit:
    id: int
    title_html: str  # highlighted, HTML-escaped
    snippet_html: str
    score: float


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    approximate: bool = False  # total and facets scaled up from a sample of about MATCH_SAMPLE matches

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SearchBackend(Protocol):
    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents; returns how many were written."""

    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents (unknown ids are ignored)."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Documents matching every word of the query, filtered, sorted and paginated, with facet counts."""

    def clear(self) -> None:
        """Remove every document (before a full rebuild); the index then carries the current INDEX_VERSION."""

    def is_current(self) -> bool:
        """False if the index was built with another tokeniser or masking version (``INDEX_VERSION``)."""


_REGISTRY: dict[str, Callable[[dict], SearchBackend]] = {}


def register(name: str):
    """Class decorator: make a backend available under ``SEARCH_BACKEND = name``."""
    def decorator(factory):
        _REGISTRY[name] = factory
        return factory
    return decorator


def highlight_words(words: list[str]) -> list[str]:
    """The query words worth marking: a single character inside a longer query word (学 in 护学) is left out,
    so 护学岗 lights up where it stands, not every 学 of the text."""
    return [w for w in words if len(w) > 1 or not any(w in longer for longer in words if len(longer) > 1)]


def query_words(text: str) -> list[str]:
    """The distinct words of a query, as the index cut them (folded, jieba); a document must hold them all."""
    return list(dict.fromkeys(word for word, _, _ in word_spans(fold(text))))[:MAX_QUERY_WORDS]


def mark(text: str, words: list[str], window: int | None = None) -> str:
    """HTML-escaped ``text`` with the query words wrapped in <mark>, cut to ``window`` characters around the
    first match. Matching is on the folded text (so 停車 marks 停车), which keeps the original's offsets:
    cheaper than Whoosh's highlighter, which would run jieba over every hit again."""
    folded = fold(text)
    if len(folded) != len(text):  # NFKC changed the length (rare): mark nothing rather than the wrong spans
        folded = ""
    spans = sorted((i, i + len(w)) for w in words for i in _occurrences(folded, w))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    begin, finish = 0, len(text)
    if window and len(text) > window:
        begin = max(0, (merged[0][0] if merged else 0) - window // 4)
        finish = min(len(text), begin + window)
    parts, cursor = [], begin
    for start, end in merged:
        if end <= begin or start >= finish:
            continue
        start, end = max(start, begin), min(end, finish)
        parts += [str(escape(text[cursor:start])), f'<mark class="hl">{escape(text[start:end])}</mark>']
        cursor = end
    parts.append(str(escape(text[cursor:finish])))
    return ("…" if begin else "") + "".join(parts) + ("…" if finish < len(text) else "")


def _occurrences(haystack: str, needle: str):
    start = haystack.find(needle)
    while needle and start != -1:
        yield start
        start = haystack.find(needle, start + 1)


def backend_from_config(config: dict) -> SearchBackend:
    """Build the configured backend (``SEARCH_BACKEND``, default "whoosh")."""
    import search.postgres_backend  # noqa: F401 - each registers itself
    import search.whoosh_backend  # noqa: F401
    name = config.get("SEARCH_BACKEND", "whoosh")
    if name not in _REGISTRY:
        raise ValueError(f"unknown SEARCH_BACKEND {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](config)
