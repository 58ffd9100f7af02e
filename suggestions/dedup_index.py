"""The similarity index of one campaign: the k items most similar to a text, with add and remove, and saved to a
folder of arrays that every serving process of a machine maps into memory (one copy in the page cache, not one
per process; loading takes milliseconds whatever the campaign's size).

Rows are kept twice: row-wise (CSR) to score candidates exactly, and column-wise (CSC) so that a query reads only
the postings of its own bi- and trigrams whose document frequency is at most ``max_df`` (common features would
touch every row and say little), the rarest first and at most ``POSTINGS_BUDGET`` of them; the best ``candidates``
rows by that partial score are then scored exactly. Items added after the fit
are transformed with the fitted idf into a buffer that is scanned directly. An index built in memory merges its
buffer into the stores when it grows; an index loaded from a folder never does (that would copy the whole store
into each process): whoever keeps it saves a fresh one instead (``suggestions.similarity_index``).

Per row the index keeps the item's id, its author, and the digest and length of its exact key, never its text
(an index built in memory keeps the normalised texts too, for ``refit``).
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import (
    _CANDIDATE_START,
    IDF_POWER,
    IDF_RARITY,
    N_FEATURES,
    STOCK_PHRASES,
    THRESHOLD,
    CompactFeaturiser,
    Featuriser,
    Id,
    _kind,
    _normalise_all,
    exact_key,
    normalise,
    similarity,
)
from suggestions.dedup_scale import key_hash
from suggestions.sparse_rows import columns_of, csr_over, ranges, row_dots, take_rows

FORMAT = 2  # of a saved folder; a folder of another format is not loaded
# What a saved folder's weights depend on besides the texts: a folder saved under other constants is not loaded.
FEATURES = hashlib.blake2b(repr((N_FEATURES, IDF_POWER, IDF_RARITY, STOCK_PHRASES)).encode(),
                           digest_size=8).hexdigest()
NO_AUTHOR = -1  # an item without an author, in a saved folder's authors array
# Postings a query reads at most, its rarest features first (about 2 ms of work; a million proposals' query read
# 5 million postings before, p95 537 ms). Below about 40,000 proposals a query reads all of them anyway.
POSTINGS_BUDGET = 200_000


@dataclass(frozen=True)
class Match:
    """One hit: ``kind`` is "exact", "same_author_repost", "similar" (score ≥ threshold) or "related"."""
    id: Id
    score: float
    kind: str


class Index:
    """Top-k similar items of one campaign, with add and remove (see the module's docstring)."""

    postings_budget = POSTINGS_BUDGET

    def __init__(self, items: Iterable[tuple[Id, str, Id | None]] = (), *, n_jobs: int = 1,
                 max_df: float = 0.05, candidates: int = 200, buffer_size: int | None = 2_000):
        items = list(items)
        self.max_df, self.n_candidates, self.buffer_size = max_df, candidates, buffer_size
        self._build([i for i, _, _ in items], _normalise_all([t for _, t, _ in items], n_jobs),
                    [a for _, _, a in items], n_jobs)

    def _build(self, ids: list[Id], normalised: list[str], authors: list[Id | None], n_jobs: int = 1) -> None:
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate item ids")
        featuriser, rows = Featuriser.fit(normalised, n_jobs)
        keys = [exact_key(t) for t in normalised]
        self._texts: list[str] | None = list(normalised)
        self._set_stores(_array_of(ids), _array_of(authors),
                         np.fromiter((key_hash(k) for k in keys), dtype=np.int64, count=len(keys)),
                         np.fromiter((len(k) for k in keys), dtype=np.int32, count=len(keys)),
                         rows, featuriser.compact(), columns=None)

    def _set_stores(self, ids: np.ndarray, authors: np.ndarray, digests: np.ndarray, lengths: np.ndarray,
                    rows: sp.csr_matrix, featuriser: CompactFeaturiser, columns: sp.csc_matrix | None,
                    ids_ascend: bool | None = None) -> None:
        """The stored rows (and an empty buffer); ``columns`` is derived from ``rows`` when not given, and whether
        the ids ascend is checked when not said."""
        self.ids, self.authors, self.digests, self.lengths = ids, authors, digests, lengths
        self.rows, self.featuriser = rows, featuriser
        self._columns = columns_of(rows, featuriser) if columns is None else columns
        self._postings_limit = max(20, int(self.max_df * featuriser.n_docs))
        # Finding an id's row: a saved index's ids ascend (searched as they are); others are searched through
        # their sort order, or a dict for ids that are not integers.
        ascending = ids_ascend if ids_ascend is not None else (
            ids.dtype != object and bool(np.all(ids[1:] > ids[:-1])))
        self._order = None if ids.dtype == object or ascending else np.argsort(ids, kind="stable")
        self._stored_row_of = ({item_id: r for r, item_id in enumerate(ids.tolist())} if ids.dtype == object
                               else None)
        self._alive = np.ones(len(ids), dtype=bool)  # in this process's memory, also for a loaded index
        self._live = len(ids)
        self._added: dict[Id, int] = {}  # id → row, for rows after the stored ones
        self._added_ids: list[Id] = []
        self._added_authors: list[Id | None] = []
        self._added_digests: list[int] = []
        self._added_lengths: list[int] = []
        self._added_texts: list[str] = []
        self._buffer: list[sp.csr_matrix] = []
        self._extra = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)

    # --- saving and loading --------------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike, **meta) -> None:
        """Write the live items, ids ascending, into ``folder`` (made; must not exist): one file of arrays
        (``index.bin``, so a process that maps it holds one file open) and ``meta.json`` (``meta``, JSON values,
        beside the arrays' places). Ids and authors must be integers."""
        self.merge()
        order = np.argsort(self.ids, kind="stable")
        if np.any(order != np.arange(len(order))):  # a merged index: sorted, so readers search ids as they are
            self._set_stores(self.ids[order], self.authors[order], self.digests[order], self.lengths[order],
                             self.rows[order], self.featuriser, columns=None)
            self._texts = None if self._texts is None else [self._texts[r] for r in order.tolist()]
        authors = np.asarray([NO_AUTHOR if a is None else a for a in self.authors.tolist()], dtype=np.int64)
        arrays = {"ids": self.ids.astype(np.int64), "authors": authors, "digests": self.digests,
                  "lengths": self.lengths, "rows_data": self.rows.data, "rows_indices": self.rows.indices,
                  "rows_indptr": self.rows.indptr, "columns_data": self._columns.data,
                  "columns_indices": self._columns.indices, "columns_indptr": self._columns.indptr,
                  "vocab": self.featuriser.vocab, "vocab_df": self.featuriser.vocab_df,
                  "vocab_idf": self.featuriser.vocab_idf}
        folder = Path(folder)
        folder.mkdir(parents=True)
        places, offset = {}, 0
        with open(folder / "index.bin", "wb") as out:
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                out.write(b"\0" * (-offset % 64))  # each array starts on a 64-byte boundary
                offset += -offset % 64
                places[name] = [offset, array.dtype.str, list(array.shape)]
                out.write(array.tobytes())
                offset += array.nbytes
            out.flush()
            os.fsync(out.fileno())
        (folder / "meta.json").write_text(json.dumps({
            "format": FORMAT, "features": FEATURES, "n_docs": int(self.featuriser.n_docs),
            "shape": [int(self.rows.shape[0]), int(self.rows.shape[1])], "max_df": self.max_df, "arrays": places,
            **meta}))

    @classmethod
    def load(cls, folder: str | os.PathLike, *, candidates: int = 200) -> tuple[Index, dict]:
        """(the index saved in ``folder``, memory-mapped read-only; its meta). Items added later stay in a buffer
        of this process (``buffer_size`` None). Raises ValueError for a folder of another format or of other
        feature constants."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") != FORMAT or meta.get("features") != FEATURES:
            raise ValueError(f"{folder}: an index of another format or other features")
        mapped = np.memmap(folder / "index.bin", dtype=np.uint8, mode="r")  # one open file per index
        # A query reads a few postings and rows here and there: no read-ahead, so a process's resident pages are
        # the ones its queries used, not their neighbours.
        mapped._mmap.madvise(mmap.MADV_RANDOM)
        a = {name: mapped[offset:offset + np.dtype(dtype).itemsize * int(np.prod(shape))].view(dtype).reshape(shape)
             for name, (offset, dtype, shape) in meta["arrays"].items()}
        shape = tuple(meta["shape"])
        rows = csr_over(a["rows_data"], a["rows_indices"], a["rows_indptr"], shape)
        columns = sp.csc_matrix((a["columns_data"], a["columns_indices"], a["columns_indptr"]),
                                shape=(shape[0], len(a["vocab"])), copy=False)
        featuriser = CompactFeaturiser(a["vocab"], a["vocab_df"], meta["n_docs"], idf=a["vocab_idf"])
        index = cls.__new__(cls)
        index.max_df, index.n_candidates, index.buffer_size = meta["max_df"], candidates, None
        index._texts = None
        index._set_stores(a["ids"], a["authors"], a["digests"], a["lengths"], rows, featuriser, columns,
                          ids_ascend=True)  # saved so: a loaded index never scans its ids
        return index, meta

    # --- items ---------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._live

    def __contains__(self, item_id: Id) -> bool:
        return self._row(item_id) is not None

    @property
    def added(self) -> int:
        """How many items were added after the stored ones (held in this process's memory)."""
        return len(self._added_ids)

    def _row(self, item_id: Id) -> int | None:
        """The live row of an item, or None."""
        row = self._added.get(item_id)
        if row is not None:
            return row
        if self._stored_row_of is not None:
            row = self._stored_row_of.get(item_id)
        elif isinstance(item_id, (int, np.integer)) and len(self.ids):
            at = int(np.searchsorted(self.ids, item_id, sorter=self._order))
            if at < len(self.ids):
                row = at if self._order is None else int(self._order[at])
                row = row if self.ids[row] == item_id else None
        return row if row is not None and self._alive[row] else None

    def row_of(self, item_id: Id) -> int:
        """Internal row number of a live item (stored rows first, then added ones in the order added)."""
        row = self._row(item_id)
        if row is None:
            raise KeyError(item_id)
        return row

    def id_at(self, row: int) -> Id:
        stored = len(self.ids)
        return self.ids[row].item() if row < stored and self.ids.dtype != object else (
            self.ids[row] if row < stored else self._added_ids[row - stored])

    def author_at(self, row: int) -> Id | None:
        stored = len(self.ids)
        if row >= stored:
            return self._added_authors[row - stored]
        author = self.authors[row]
        if self.authors.dtype == object:
            return author
        return None if author == NO_AUTHOR else int(author)

    def digest_at(self, row: int) -> int:
        stored = len(self.ids)
        return int(self.digests[row]) if row < stored else self._added_digests[row - stored]

    def text_at(self, row: int) -> str:
        """The normalised text of a row: kept for an index built in memory and for items added to a loaded one."""
        stored = len(self.ids)
        if row >= stored:
            return self._added_texts[row - stored]
        if self._texts is None:
            raise LookupError("a loaded index keeps no texts")
        return self._texts[row]

    def add(self, item_id: Id, text: str, author: Id | None = None) -> None:
        """Add one item (transformed with the fitted idf)."""
        if item_id in self:
            raise ValueError(f"item {item_id!r} is already indexed")
        normalised = normalise(text)
        key = exact_key(normalised)
        self._added[item_id] = len(self.ids) + len(self._added_ids)
        self._added_ids.append(item_id)
        self._added_authors.append(author)
        self._added_digests.append(key_hash(key))
        self._added_lengths.append(len(key))
        self._added_texts.append(normalised)
        self._alive = np.append(self._alive, True)
        self._live += 1
        self._buffer.append(self.featuriser.transform([normalised]))
        self._extra = sp.vstack(self._buffer, format="csr")
        if self.buffer_size is not None and len(self._buffer) >= self.buffer_size:
            self.merge()

    def remove(self, item_id: Id) -> None:
        """Forget one item; it is never returned again."""
        row = self.row_of(item_id)
        self._alive[row] = False
        self._live -= 1
        self._added.pop(item_id, None)

    def merge(self) -> None:
        """Move added items into the stores and drop removed ones (in this process's memory: meant for an index
        built in memory; row numbers change)."""
        if not self._added_ids and self._live == len(self.ids):
            return
        live = np.flatnonzero(self._alive)
        stored, added = live[live < len(self.ids)], live[live >= len(self.ids)] - len(self.ids)
        texts = None if self._texts is None else [self.text_at(r) for r in live.tolist()]
        ids = _array_of([*self.ids[stored].tolist(), *(self._added_ids[r] for r in added)])
        authors = _array_of([*(self.author_at(r) for r in stored.tolist()),
                             *(self._added_authors[r] for r in added)])
        digests = np.concatenate([self.digests[stored], np.asarray(self._added_digests, dtype=np.int64)[added]])
        lengths = np.concatenate([self.lengths[stored], np.asarray(self._added_lengths, dtype=np.int32)[added]])
        rows = self.all_rows()[live]
        self._set_stores(ids, authors, digests, lengths, rows, self.featuriser, columns=None)
        self._texts = texts

    def refit(self, n_jobs: int = 1) -> None:
        """Refit idf on the live items (e.g. after many additions); ids, authors and order are kept. Only for an
        index built in memory (a loaded one keeps no texts)."""
        self.merge()
        if self._texts is None:
            raise LookupError("a loaded index keeps no texts: save a fresh one instead")
        live = np.flatnonzero(self._alive)
        self._build([self.id_at(r) for r in live], [self._texts[r] for r in live],
                    [self.author_at(r) for r in live], n_jobs)

    # --- queries -------------------------------------------------------------------------------------------

    def query(self, text: str, k: int = 5, *, author: Id | None = None, exclude: Collection[Id] = (),
              threshold: float = THRESHOLD) -> list[Match]:
        """The k live items most similar to ``text``, best first (only items sharing some feature)."""
        normalised = normalise(text)
        q = self.featuriser.transform([normalised])
        key = exact_key(normalised)
        rows = self._candidates(q)
        dots = self._dots(rows, q)
        scores = similarity(dots)
        keep = self._alive[rows] & (dots > 0)
        for item_id in exclude:
            row = self._row(item_id)
            if row is not None:
                keep &= rows != row
        rows, scores = rows[keep], scores[keep]
        digest = key_hash(key)
        out = []
        for i in np.argsort(-scores, kind="stable")[:k]:
            r, s = int(rows[i]), float(scores[i])
            same_author = author is not None and self.author_at(r) == author
            out.append(Match(self.id_at(r), s, _kind(self.digest_at(r) == digest, same_author, s, threshold)))
        return out

    def scores(self, text: str, ids: Sequence[Id]) -> np.ndarray:
        """Exact similarity of ``text`` to each of the given indexed items."""
        rows = np.asarray([self.row_of(i) for i in ids], dtype=np.int64)
        normalised = normalise(text)
        dots = self._dots(rows, self.featuriser.transform([normalised]))
        return similarity(dots)

    def all_rows(self) -> sp.csr_matrix:
        """Every row, stored then added, in row order (for clustering with this index's idf)."""
        return sp.vstack([self.rows, self._extra], format="csr") if self._added_ids else self.rows

    def lengths_of(self, rows: np.ndarray) -> np.ndarray:
        return self._lengths(rows)

    def _candidates(self, q: sp.csr_matrix) -> np.ndarray:
        at, known = self.featuriser.positions(q.indices)
        use = (q.indices >= _CANDIDATE_START) & known
        cols, weights = at[use], q.data[use]
        indptr = self._columns.indptr
        starts, lengths = indptr[cols], indptr[cols + 1] - indptr[cols]
        # The rarest features first, until the postings budget is spent: in a large campaign a query's common
        # features would each read tens of thousands of rows, and rare ones are what copies share.
        rarest = np.argsort(lengths, kind="stable")
        rarest = rarest[lengths[rarest] <= self._postings_limit]
        rarest = rarest[np.cumsum(lengths[rarest]) <= max(self.postings_budget, int(lengths[rarest[:1]].sum()))]
        starts, lengths, weights = starts[rarest], lengths[rarest], weights[rarest]
        # The postings of those columns, read directly: scipy's column indexing would scan the whole store.
        at = ranges(starts, lengths)
        partial = np.bincount(self._columns.indices[at], weights=self._columns.data[at] * np.repeat(weights, lengths),
                              minlength=len(self.ids))
        stored = np.flatnonzero(partial)
        if len(stored) > self.n_candidates:
            stored = stored[np.argpartition(-partial[stored], self.n_candidates)[:self.n_candidates]]
        added = np.arange(len(self.ids), len(self.ids) + len(self._added_ids))
        return np.concatenate([stored, added]).astype(np.int64)

    def _dots(self, rows: np.ndarray, q: sp.csr_matrix) -> np.ndarray:
        n = self.rows.shape[0]
        stored = rows < n
        out = np.empty(len(rows), dtype=np.float32)
        out[stored] = row_dots(take_rows(self.rows, rows[stored]), q)
        out[~stored] = row_dots(self._extra[rows[~stored] - n], q)
        return out

    def _lengths(self, rows: np.ndarray) -> np.ndarray:
        n = len(self.ids)
        added = np.asarray(self._added_lengths, dtype=np.int64)
        return np.where(rows < n, self.lengths[np.minimum(rows, max(n - 1, 0))] if n else 0,
                        added[np.maximum(rows - n, 0)] if len(added) else 0).astype(np.int64)


def _array_of(values: Sequence) -> np.ndarray:
    """An int64 array of integer values, else an object array (ids and authors may be any hashable)."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
