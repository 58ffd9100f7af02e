"""The default backend: a Whoosh index under instance/, jieba words, Traditional folded to Simplified.

Whoosh allows one writer per index across threads and processes, so every write holds an exclusive
file lock (``fcntl.flock``) around the Whoosh writer: writers queue instead of failing with LockError.
The index is a cache: ``flask search reindex`` rebuilds it from the database at any time.
"""
import fcntl
import os
import threading
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager

import numpy as np
from whoosh import fields, index
from whoosh.analysis import Token, Tokenizer

from core.chinese import fold, word_spans
from search.backend import (
    FACETS,
    FILTERS,
    INDEX_VERSION,
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
from search.whoosh_query import QueryStats, SegmentCache, match_segment


class ChineseTokenizer(Tokenizer):
    """Folded text → jieba words, with positions and character offsets."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for position, (word, start, end) in enumerate(word_spans(fold(value))):
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
        self._version_path = os.path.join(self.directory, "tokens-version")
        with self._write_lock():
            if not index.exists_in(self.directory):
                index.create_in(self.directory, make_schema())
                self._write_version()
        self.ix = index.open_dir(self.directory)
        self._local = threading.local()  # one searcher per thread: Whoosh searchers are not shared safely
        self._segments = SegmentCache()

    def _searcher(self):
        """This thread's searcher, reopened only when the index has changed (opening one costs ~25 ms)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None or not searcher.up_to_date():
            # A new searcher, not searcher.refresh(): refresh reuses segment readers by segment id and so
            # keeps showing documents deleted from a segment since (seen with Whoosh 2.7.5).
            if searcher is not None:
                searcher.close()
            searcher = self._local.searcher = self.ix.searcher()
            segments = (leaf.reader().segment() for leaf, _ in searcher.leaf_searchers())
            self._segments.keep_only({segment.segment_id() for segment in segments if segment is not None})
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
            # A bulk load gets a large sorting pool per process: with 128 MB, spilling postings to disk and
            # merging them back slowed 50,000 proposals from 967 to 645 per second.
            writer = self.ix.writer(limitmb=512 if processes > 1 else 64, procs=processes,
                                    multisegment=processes > 1)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            else:
                # A bulk load keeps its segments (merging them would double its time); everyday small writes
                # let Whoosh merge small segments, or every vote's update would leave one more segment behind.
                writer.commit(merge=processes == 1)

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
            self._write_version()
        self._local = threading.local()

    def _write_version(self) -> None:
        with open(self._version_path, "w") as handle:
            handle.write(INDEX_VERSION)

    def is_current(self) -> bool:
        try:
            with open(self._version_path) as handle:
                return handle.read().strip() == INDEX_VERSION
        except FileNotFoundError:
            return False

    def doc_count(self) -> int:
        return self.ix.doc_count()

    def search(self, query: SearchQuery) -> SearchResult:
        words = query_words(query.text)
        page = max(1, query.page)
        if not words:
            return SearchResult(hits=[], total=0, page=page, per_page=query.per_page, facets={})
        filters = {name: tuple(map(str, value)) if isinstance(value, tuple | list) else str(value)
                   for name, value in query.filters.items() if name in FILTERS and value not in (None, "")}
        searcher = self._searcher()
        facets: dict[str, Counter] = {name: Counter() for name in FACETS}
        docnums, keys, scores = [], [], []
        stats = QueryStats.of(searcher, words)
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            if reader.segment() is None:  # an empty index
                continue
            arrays = self._segments.for_reader(reader)
            matches = match_segment(reader, arrays, stats, words, filters)
            if not len(matches.docs):
                continue
            for name in FACETS:
                codes, values = arrays.codes(reader, name)
                counts = np.bincount(codes[matches.docs], minlength=len(values))
                facets[name].update({values[i]: int(counts[i]) for i in np.flatnonzero(counts)})
            docnums.append(matches.docs + offset)
            scores.append(matches.scores)
            column = {"newest": "created_at", "supported": "support_count"}.get(query.sort)
            keys.append(arrays.sort_key(reader, column)[matches.docs] if column else matches.scores)
        total = sum(len(d) for d in docnums)
        hits, marked = [], highlight_words(words)
        if total and (page - 1) * query.per_page < total:
            docnums, keys, scores = np.concatenate(docnums), np.concatenate(keys), np.concatenate(scores)
            order = np.lexsort((-docnums, -keys))[(page - 1) * query.per_page:page * query.per_page]
            for i in order:
                stored = searcher.stored_fields(int(docnums[i]))
                hits.append(SearchHit(id=int(stored["id"]), title_html=mark(stored["title"], marked),
                                      snippet_html=mark(stored["body"], marked, window=SNIPPET_CHARS),
                                      score=float(scores[i])))
        return SearchResult(hits=hits, total=total, page=page, per_page=query.per_page,
                            facets={name: dict(counts) for name, counts in facets.items()})
