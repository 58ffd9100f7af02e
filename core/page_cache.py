"""A short-lived cache of the pages anonymous visitors read, so that a spike of readers costs one render per page
and interval instead of one per visit.

Only GET requests to the endpoints in ``CACHED_ENDPOINTS`` are cached, only for visitors who are not logged in and
have no message waiting to be flashed, only answers 200 that are not streamed, and per language, host and full URL.
Nobody's page is shown to anybody else: the only per-visitor thing an anonymous page holds is the CSRF token of
the language switch, which is rendered as a placeholder into the cached copy and replaced by the visitor's own token
on every answer. Pages live ``PAGE_CACHE_SECONDS`` (10; 0 turns the cache off): an anonymous reader may see a
support count up to that old, a logged-in citizen never does.

The store is this process's memory (a bounded dict), or Redis when ``PAGE_CACHE_URL`` names one, shared by every
worker and server; a Redis that does not answer is skipped, never an error.
"""
import threading
import time
from collections import OrderedDict

from flask import Response, current_app, g, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

CACHED_ENDPOINTS = frozenset({
    "home", "campaigns.index", "campaigns.detail", "suggestions.detail", "suggestions.timeliness", "search.results",
    "clusters.index", "clusters.page", "outcomes.index", "outcomes.detail", "analytics.dashboard",
    "analytics.yearly_report", "editions.index", "editions.home", "editions.proposals", "drafts.read",
    "drafts.article", "drafts.changes", "drafts.report"})
PLACEHOLDER = "\x00csrf-placeholder\x00"  # NUL never occurs in a page (requests carrying one are refused)
MEMORY_ENTRIES = 2_000


class MemoryStore:
    """Pages in this process, oldest dropped first beyond ``MEMORY_ENTRIES``."""

    def __init__(self):
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    def set(self, key: str, page: bytes, seconds: int) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + seconds, page)
            self._pages.move_to_end(key)
            while len(self._pages) > MEMORY_ENTRIES:
                self._pages.popitem(last=False)


class RedisStore:
    """Pages in Redis, shared by every serving process; failures count as misses."""

    def __init__(self, url: str):
        import redis
        self._redis = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)

    def get(self, key: str) -> bytes | None:
        try:
            return self._redis.get("page:" + key)
        except Exception:  # noqa: BLE001 - a cache that is away is a miss
            return None

    def set(self, key: str, page: bytes, seconds: int) -> None:
        try:
            self._redis.set("page:" + key, page, ex=seconds)
        except Exception:  # noqa: BLE001
            pass


def _store():
    store = current_app.extensions.get("page_cache")
    if store is None:
        url = current_app.config.get("PAGE_CACHE_URL")
        store = current_app.extensions["page_cache"] = RedisStore(url) if url else MemoryStore()
    return store


def _cacheable() -> bool:
    return (request.method == "GET" and request.endpoint in CACHED_ENDPOINTS
            and current_app.config.get("PAGE_CACHE_SECONDS", 0) > 0
            and "_user_id" not in session and "_flashes" not in session
            and "remember_token" not in request.cookies)


def _key() -> str:
    return f"{get_locale()}|{request.host}|{request.full_path}"  # an edition's own host name has its own "/"


def _with_token(page: bytes) -> bytes:
    return page.replace(PLACEHOLDER.encode(), generate_csrf().encode())


def serve_cached():
    """before_request: answer from the cache when this request may be and the page is there."""
    if not _cacheable():
        return None
    page = _store().get(_key())
    if page is None:
        g.page_cache_fill = True  # render the CSRF token as the placeholder, then store the page
        return None
    response = Response(_with_token(page), mimetype="text/html")
    response.headers["X-Page-Cache"] = "hit"
    return response


def store_page(response):
    """after_request: keep a freshly rendered anonymous page, and give this visitor their own token in it."""
    if not g.pop("page_cache_fill", False):
        return response
    if response.status_code == 200 and not response.is_streamed and response.mimetype == "text/html":
        page = response.get_data()
        _store().set(_key(), page, current_app.config["PAGE_CACHE_SECONDS"])
        response.set_data(_with_token(page))
        response.headers["X-Page-Cache"] = "miss"
    elif not response.is_streamed:
        response.set_data(_with_token(response.get_data()))
    return response


def csrf_token_for_template() -> str:
    """The template's ``csrf_token()``: the placeholder while a page is rendered for the cache."""
    return PLACEHOLDER if g.get("page_cache_fill") else generate_csrf()


def install(app) -> None:
    app.before_request(serve_cached)
    app.after_request(store_page)
    app.jinja_env.globals["csrf_token"] = csrf_token_for_template
    app.context_processor(lambda: {"csrf_token": csrf_token_for_template})  # after Flask-WTF's, so it wins
