"""The default backend: a Whoosh index under instance/, jieba words, Traditional folded to Simplified.

Whoosh allows one writer per index across threads and processes, so every write holds an exclusive
file lock (``fcntl.flock``) around the Whoosh writer: writers queue instead of failing with LockError.
The index is a cache: ``flask search reindex`` rebuilds it from the database at any time.
"""
import fcntl
import os
import threading
from collections.abc import Iterable
from contextlib import contextmanager

from markupsafe import escape
from whoosh import fields, index, sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.query import And, Or, Term

from core.text import fold, word_spans
from search.backend import FACETS, FILTERS, SearchDocument, SearchHit, SearchQuery, SearchResult, register

MAX_QUERY_WORDS = 32
SNIPPET_CHARS = 120


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def index_spans(folded: str):
    """jieba words plus every pair of adjacent Chinese characters.

    jieba segments the same phrase differently in different contexts (锦绣华庭 alone → 锦绣|华庭, but
    锦绣华庭到 → 锦绣|华庭到), so word terms alone miss; the character pairs let a query word match
    through its pairs instead (see ``word_query``).
    """
    seen = set()
    for word, start, end in word_spans(folded):
        seen.add((word, start))
        yield word, start, end
    for i in range(len(folded) - 1):
        pair = folded[i:i + 2]
        if _is_cjk(pair[0]) and _is_cjk(pair[1]) and (pair, i) not in seen:
            yield pair, i, i + 2


def word_query(fieldnames: tuple[str, ...], word: str):
    """Match ``word`` as a term, or (for a Chinese word of 3+ characters) through all its character pairs."""
    alternatives = [Term(f, word) for f in fieldnames]
    if len(word) > 2 and all(_is_cjk(ch) for ch in word):
        pairs = [word[i:i + 2] for i in range(len(word) - 1)]
        alternatives += [And([Term(f, p) for p in pairs]) for f in fieldnames]
    return Or(alternatives)


class ChineseTokenizer(Tokenizer):
    """Folded text → jieba words and character pairs, with positions and character offsets."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for position, (word, start, end) in enumerate(index_spans(fold(value))):
            token.text = word
            token.boost = 1.0
            if keeporiginal:
                token.original = word
            token.stopped = False
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def make_schema() -> fields.Schema:
    analyzer = ChineseTokenizer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        # No positions (phrase=False): jieba's segmentation makes phrase queries unreliable, so none are offered.
        title=fields.TEXT(analyzer=analyzer, stored=True, field_boost=2.0, phrase=False),
        body=fields.TEXT(analyzer=analyzer, stored=True, phrase=False),
        campaign_id=fields.ID(sortable=True),
        body_id=fields.ID(sortable=True),
        category=fields.ID(sortable=True),
        message_type=fields.ID(sortable=True),
        status=fields.ID(sortable=True),
        region=fields.ID(sortable=True),
        created_at=fields.DATETIME(sortable=True),
        support_count=fields.NUMERIC(sortable=True, bits=32),
    )


@register("whoosh")
class WhooshBackend:
    def __init__(self, config: dict):
        self.directory = config["SEARCH_INDEX_DIR"]
        os.makedirs(self.directory, exist_ok=True)
        self._lock_path = os.path.join(self.directory, "writer.lock")
        with self._write_lock():
            if not index.exists_in(self.directory):
                index.create_in(self.directory, make_schema())
        self.ix = index.open_dir(self.directory)
        self._local = threading.local()  # one searcher per thread: Whoosh searchers are not shared safely

    def _searcher(self):
        """This thread's searcher, reopened only when the index has changed (opening one costs ~25 ms)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None or not searcher.up_to_date():
            # A new searcher, not searcher.refresh(): refresh reuses segment readers by segment id and so
            # keeps showing documents deleted from a segment since (seen with Whoosh 2.7.5).
            if searcher is not None:
                searcher.close()
            searcher = self._local.searcher = self.ix.searcher()
        return searcher

    @contextmanager
    def _write_lock(self):
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _writer(self, processes: int = 1):
        with self._write_lock():
            # Several processes (fork) tokenise in parallel for bulk loads: jieba is the slow part.
            writer = self.ix.writer(limitmb=128, procs=processes, multisegment=processes > 1)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            else:
                writer.commit(merge=False)

    def index(self, documents: Iterable[SearchDocument], replace: bool = True, processes: int = 1) -> int:
        """Add or replace documents. For a rebuild into an empty index, ``replace=False`` skips the lookups
        and ``processes=2`` tokenises on two cores."""
        count = 0
        with self._writer(processes) as writer:
            add = writer.update_document if replace else writer.add_document
            for doc in documents:
                add(
                    id=str(doc.id), title=doc.title, body=doc.body, campaign_id=str(doc.campaign_id),
                    body_id=str(doc.body_id), category=doc.category, message_type=doc.message_type,
                    status=doc.status, region=doc.region or "-", created_at=doc.created_at.replace(tzinfo=None),
                    support_count=doc.support_count)
                count += 1
        return count

    def delete(self, ids: Iterable[int]) -> None:
        with self._writer() as writer:
            for doc_id in ids:
                writer.delete_by_term("id", str(doc_id))

    def clear(self) -> None:
        with self._write_lock():
            self.ix = index.create_in(self.directory, make_schema())
        self._local = threading.local()

    def doc_count(self) -> int:
        return self.ix.doc_count()

    def search(self, query: SearchQuery) -> SearchResult:
        words = list(dict.fromkeys(word for word, _, _ in word_spans(fold(query.text))))[:MAX_QUERY_WORDS]
        if not words:
            return SearchResult(hits=[], total=0, page=1, per_page=query.per_page, facets={})
        text_query = And([word_query(("title", "body"), w) for w in words])
        filters = [Term(name, str(value)) for name, value in query.filters.items()
                   if name in FILTERS and value not in (None, "")]
        sortedby = {"newest": sorting.FieldFacet("created_at", reverse=True),
                    "supported": sorting.FieldFacet("support_count", reverse=True)}.get(query.sort)
        facets = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACETS}
        searcher = self._searcher()
        page = searcher.search_page(text_query, max(1, query.page), pagelen=query.per_page,
                                    filter=And(filters) if filters else None, sortedby=sortedby,
                                    groupedby=facets)
        results = page.results
        hits = []
        if page.pagenum == max(1, query.page):  # Whoosh clamps past-the-end pages to the last one
            for hit in page:
                hits.append(SearchHit(id=int(hit["id"]), title_html=mark(hit["title"], words),
                                      snippet_html=mark(hit["body"], words, window=SNIPPET_CHARS),
                                      score=float(hit.score or 0)))
        facet_counts = {name: dict(results.groups(name)) for name in FACETS}
        return SearchResult(hits=hits, total=page.total, page=max(1, query.page), per_page=query.per_page,
                            facets=facet_counts)


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
