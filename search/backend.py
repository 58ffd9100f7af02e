"""The search protocol every backend implements, and the registry that picks one by ``SEARCH_BACKEND``."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

SORTS = ("relevance", "newest", "supported")
FILTERS = ("campaign_id", "body_id", "category", "message_type", "status")
FACETS = ("category", "message_type", "status", "campaign_id")


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
        """Remove every document (before a full rebuild)."""


_REGISTRY: dict[str, Callable[[dict], SearchBackend]] = {}


def register(name: str):
    """Class decorator: make a backend available under ``SEARCH_BACKEND = name``."""
    def decorator(factory):
        _REGISTRY[name] = factory
        return factory
    return decorator


def backend_from_config(config: dict) -> SearchBackend:
    """Build the configured backend (``SEARCH_BACKEND``, default "whoosh")."""
    import search.whoosh_backend  # noqa: F401 - registers itself
    name = config.get("SEARCH_BACKEND", "whoosh")
    if name not in _REGISTRY:
        raise ValueError(f"unknown SEARCH_BACKEND {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](config)
