"""Clustering a whole campaign at scale, for ``suggestions.dedup.cluster``: compact rows, candidate pairs, exact
scores on the candidates in worker processes.

Clustering a whole campaign (``cluster`` without an index) never holds the weighted rows: ``CompactRows`` keeps capped
raw counts (uint8) under int32 columns plus a per-row, per-block scale (about 5 bytes per feature; ~3.2 GB for a
million 320-character proposals) and weighs entries on the fly, to the same values ``Featuriser`` gives.
Normalisation and counting run in ``n_jobs`` forked processes, chunk by chunk. Candidate pairs: each row's 64
rarest bi/trigrams with df ≥ 2 (``_sketch``, by quarter-octave df buckets, no sort), sketch features shared by
more than 400 rows dropped, then a chunked sparse product over the sketches (chunks shared out among ``n_jobs``
processes) keeps each row's 10 best partners among those reaching 0.3 × its best, plus exact duplicates (64-bit
digests of the exact key). Only those pairs are scored exactly (``pair_dots``, in ``n_jobs`` processes), by
``dedup.similarity``.

Worker functions (``_featurise_chunk``, ``_sketch_span``, ``_partners``, ``_score_chunk``) are module-level so the
pool can name them; the big arrays reach them through the fork (``_SHARED``), not by pickling.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import (
    _CANDIDATE_START,
    _OFFSETS,
    _ONE_PLUS_LOG,
    _TF_MAX,
    N_FEATURES,
    Featuriser,
    _counts,
    block_weights,
    exact_key,
    forked_pool,
    normalise,
    similarity,
)

# --- compact rows for clustering a whole campaign -------------------------------------------------------------

def key_hash(key: str) -> int:
    """64-bit digest of an exact key (stable across processes): equal keys ⇔ equal digests, up to ~n²/2⁶⁴."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _featurise_chunk(texts: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Raw texts → (exact-key digests, lengths, indptr, columns, capped counts) of their count rows."""
    normalised = [normalise(t) for t in texts]
    keys = [exact_key(t) for t in normalised]
    digests = np.fromiter((key_hash(k) for k in keys), dtype=np.int64, count=len(keys))
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int32, count=len(keys))
    counts = _counts(normalised)
    return (digests, lengths, counts.indptr.astype(np.int64), counts.indices.astype(np.int32),
            np.minimum(counts.data, _TF_MAX).astype(np.uint8))


class CompactRows:
    """A campaign's rows in compact form: capped raw counts (uint8) under int32 columns, plus, per row and block,
    the scale √weight / ‖block‖. An entry's weight is (1 + log tf) · idf · scale[row, block], exactly what
    ``Featuriser`` stores, at 5 bytes per stored feature instead of 8 and without a second copy while building."""

    def __init__(self, texts: Sequence[str], n_jobs: int = 1, chunk: int = 10_000):
        parts = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
        if n_jobs > 1 and len(parts) > 1:
            with forked_pool(n_jobs) as pool:
                df = self._gather(texts, pool.imap(_featurise_chunk, parts))
        else:
            df = self._gather(texts, map(_featurise_chunk, parts))
        self.featuriser = Featuriser(df, len(texts))
        self.scale = np.empty((len(texts), 3), dtype=np.float32)
        weights = np.sqrt(block_weights(self.lengths))
        for s in range(0, len(texts), 20_000):
            e = min(s + 20_000, len(texts))
            lo, hi = self.indptr[s], self.indptr[e]
            row = np.repeat(np.arange(e - s), np.diff(self.indptr[s:e + 1]))
            cols = self.indices[lo:hi]
            value = _ONE_PLUS_LOG[self.tf[lo:hi]].astype(np.float64) * self.featuriser.idf_of(cols)
            norms = np.sqrt(np.bincount(row * 3 + _block_of(cols), weights=value ** 2, minlength=(e - s) * 3))
            self.scale[s:e] = weights[s:e] / np.maximum(norms.reshape(-1, 3), 1e-12)

    def _gather(self, texts: Sequence[str], results) -> np.ndarray:
        """The featurised parts (``_featurise_chunk``), in order, into this object's arrays; returns the document
        frequencies."""
        # Parts are written straight into arrays sized by an upper bound (≤ 3 features per character, pages never
        # written cost nothing), so the rows never exist twice; the bound only fails if NFKC lengthens a text.
        capacity = 3 * sum(map(len, texts)) + 1024
        self.indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        self.indices = np.empty(capacity, dtype=np.int32)
        self.tf = np.empty(capacity, dtype=np.uint8)
        self.digests = np.empty(len(texts), dtype=np.int64)
        lengths = np.empty(len(texts), dtype=np.int32)
        df = np.zeros(N_FEATURES, dtype=np.int32)
        at, row = 0, 0
        for digests, part_lengths, indptr, indices, tf in results:
            if at + len(indices) > len(self.indices):
                self.indices = np.concatenate([self.indices[:at], np.empty(len(indices) + capacity // 4, np.int32)])
                self.tf = np.concatenate([self.tf[:at], np.empty(len(indices) + capacity // 4, np.uint8)])
            df += np.bincount(indices, minlength=N_FEATURES).astype(np.int32)
            self.digests[row:row + len(digests)] = digests
            lengths[row:row + len(digests)] = part_lengths
            self.indptr[row + 1:row + len(indptr)] = indptr[1:] + at
            self.indices[at:at + len(indices)] = indices
            self.tf[at:at + len(tf)] = tf
            at, row = at + len(indices), row + len(digests)
        self.indices, self.tf = self.indices[:at], self.tf[:at]
        self.lengths = lengths
        return df

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def _unscaled(self, rows: np.ndarray) -> sp.csr_matrix:
        """(1 + log tf) · idf of the given rows (float32 CSR), before the per-block scale."""
        starts, sizes = self.indptr[rows], self.indptr[rows + 1] - self.indptr[rows]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        at = np.arange(indptr[-1], dtype=np.int64)
        at += np.repeat(starts - indptr[:-1], sizes)
        cols = self.indices[at]
        data = _ONE_PLUS_LOG[self.tf[at]]
        data *= self.featuriser.idf_of(cols)
        return sp.csr_matrix((data, cols, indptr), shape=(len(rows), N_FEATURES))

    def weighted(self, rows: np.ndarray) -> sp.csr_matrix:
        """The weighted rows (float32 CSR) of the given row numbers."""
        rows = np.asarray(rows, dtype=np.int64)
        out = self._unscaled(rows)
        out.data *= self.scale.ravel()[np.repeat(rows * 3, np.diff(out.indptr)) + _block_of(out.indices)]
        return out

    def span(self, s: int, e: int) -> sp.csr_matrix:
        return self.weighted(np.arange(s, e))

    def dots(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exact similarity of rows i[k] and j[k]: per-block sums of the unscaled products, then scaled."""
        unique_i, at_i = np.unique(i, return_inverse=True)
        shared = self._unscaled(unique_i)[at_i].multiply(self._unscaled(np.asarray(j, dtype=np.int64))).tocsr()
        owner = np.repeat(np.arange(len(i)) * 3, np.diff(shared.indptr))
        sums = np.bincount(owner + _block_of(shared.indices), weights=shared.data, minlength=len(i) * 3)
        return (sums.reshape(-1, 3) * self.scale[i] * self.scale[j]).sum(axis=1)


class CsrRows:
    """The same interface over already weighted rows (an Index's) and their texts' lengths."""

    def __init__(self, rows: sp.csr_matrix, featuriser: Featuriser, lengths: Sequence[int]):
        self.rows, self.featuriser, self.lengths = rows, featuriser, np.asarray(lengths, dtype=np.int32)

    def __len__(self) -> int:
        return self.rows.shape[0]

    def weighted(self, rows: np.ndarray) -> sp.csr_matrix:
        return self.rows[np.asarray(rows, dtype=np.int64)]

    def span(self, s: int, e: int) -> sp.csr_matrix:
        return self.rows[s:e]

    def dots(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.asarray(self.rows[i].multiply(self.rows[j]).sum(axis=1)).ravel()


def _block_of(cols: np.ndarray) -> np.ndarray:
    """Block (0 uni-, 1 bi-, 2 trigram) of each column, as int8."""
    return (cols >= _OFFSETS[1]).view(np.int8) + (cols >= _OFFSETS[2]).view(np.int8)


def _score_chunk(pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    rows, (i, j) = _SHARED["rows"], pairs
    return similarity(rows.dots(i, j))


def pair_dots(rows, i: np.ndarray, j: np.ndarray, n_jobs: int = 1, chunk: int = 20_000) -> np.ndarray:
    """Similarity (``dedup.similarity``: the dot product) of rows i[k] and j[k], in chunks (in
    ``n_jobs`` forked processes when worth it)."""
    chunks = [(i[s:s + chunk], j[s:s + chunk]) for s in range(0, len(i), chunk)]
    out = _map(_score_chunk, chunks, n_jobs if len(chunks) > 2 else 1, rows=rows)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def _sketch(rows, df: np.ndarray, top_k: int, n_jobs: int = 1, chunk: int = 20_000) -> sp.csr_matrix:
    """Each row's ``top_k`` rarest bi- and trigrams seen in at least two documents, with their weights. Rarity is
    compared in quarter-octave buckets of df (a counting pass per row chunk instead of a sort), ties in the last
    bucket taken in column order."""
    spans = [(s, min(s + chunk, len(rows))) for s in range(0, len(rows), chunk)]
    parts = _map(_sketch_span, spans, n_jobs, rows=rows, df=df, top_k=top_k)
    # written straight into the CSR arrays, part by part (a million rows' sketches are half a GB)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([sizes for sizes, _, _ in parts] or [np.zeros(0, np.int64)]), out=indptr[1:])
    indices, data = np.empty(indptr[-1], dtype=np.int32), np.empty(indptr[-1], dtype=np.float32)
    at = 0
    parts.reverse()
    while parts:
        _, cols, vals = parts.pop()
        indices[at:at + len(cols)], data[at:at + len(cols)] = cols, vals
        at += len(cols)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))


def _sketch_span(span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, df, top_k, buckets = _SHARED["rows"], _SHARED["df"], _SHARED["top_k"], 128
    s, e = span
    w = rows.span(s, e)
    local = np.repeat(np.arange(e - s, dtype=np.int64), np.diff(w.indptr))
    cols, vals = w.indices, w.data
    ok = (cols >= _CANDIDATE_START) & (df[cols] >= 2)
    local, cols, vals = local[ok], cols[ok], vals[ok]
    bucket = (np.log2(df[cols]) * 4).astype(np.int64)
    cum = np.bincount(local * buckets + bucket, minlength=(e - s) * buckets).reshape(e - s, buckets).cumsum(1)
    cut = (cum < top_k).sum(1)
    below = np.where(cut > 0, cum[np.arange(e - s), np.maximum(cut - 1, 0)], 0)
    take = bucket < cut[local]
    edge = np.flatnonzero(bucket == cut[local])
    owner = local[edge]
    take[edge] = np.arange(len(edge)) - np.searchsorted(owner, owner) < (top_k - below)[owner]
    return np.bincount(local[take], minlength=e - s), cols[take].astype(np.int32), vals[take].astype(np.float32)


_SHARED: dict = {}


def _map(function, tasks: list, n_jobs: int, **shared) -> list:
    """function over tasks, in ``n_jobs`` forked processes when there is more than one task; ``shared`` is
    handed to the workers through the fork (module global ``_SHARED``), not pickled."""
    _SHARED.update(shared)
    try:
        if n_jobs > 1 and len(tasks) > 1:
            with forked_pool(n_jobs) as pool:
                return pool.map(function, tasks, chunksize=1)
        return [function(t) for t in tasks]
    finally:
        _SHARED.clear()


def map_in_slices(function, values: list, n_jobs: int, size: int) -> list:
    """``function`` (a list of values in, a list of results out) over ``values`` a slice of ``size`` at a time, in
    ``n_jobs`` forked processes when there is more than one slice; the results in the order of ``values``."""
    slices = [values[start:start + size] for start in range(0, len(values), size)]
    return [result for part in _map(function, slices, n_jobs) for result in part]


def candidate_pairs(rows, df: np.ndarray, keys: np.ndarray, top_k: int = 64, per_row: int = 10,
                     max_postings: int = 400, near: float = 0.3, n_jobs: int = 1,
                     work: int = 20_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) worth scoring exactly, plus exact duplicates (equal ``keys``).

    Each row keeps its ``top_k`` rarest bi- and trigrams seen in at least two documents (``_sketch``: what a
    rewrite keeps — names, places, figures); a sketch feature shared by more than ``max_postings`` rows is
    dropped (it costs the square of its postings and names a topic, not a text). A row's candidates are its
    ``per_row`` best partners by the dot product over the sketches, among those reaching ``near`` × its best.
    Rows go in chunks whose product touches about ``work`` postings, so memory stays bounded whatever n is;
    chunks are shared out among ``n_jobs`` forked processes.

    ``top_k`` was 32 until the 1M benchmark: as a campaign grows, a row's 32 rarest features are more and more
    its own edits and noise (df 2-5, shared with strangers) and fewer are shared with its rewrites; with 64,
    planted pairs found as candidates at 200,000 texts went from 0.964 to 0.999 (0.958 at 1,000,000, where most
    sketch features exceed ``max_postings``)."""
    n = len(rows)
    rare = _sketch(rows, df, top_k, n_jobs)
    col_df = np.bincount(rare.indices, minlength=N_FEATURES).astype(np.int32)
    for lo in range(0, len(rare.data), 1 << 24):  # in slices: these temporaries would be GBs at a million rows
        rare.data[lo:lo + (1 << 24)][col_df[rare.indices[lo:lo + (1 << 24)]] > max_postings] = 0
    rare.eliminate_zeros()
    col_df = np.bincount(rare.indices, minlength=N_FEATURES).astype(np.int32)
    rare_t = rare.T.tocsr()
    cost = np.zeros(n + 1, dtype=np.int64)  # cost[r + 1]: postings touched by the sketches of rows 0..r
    for s in range(0, n, 100_000):
        e = min(s + 100_000, n)
        lo = rare.indptr[s]
        touched = np.r_[0, np.cumsum(col_df[rare.indices[lo:rare.indptr[e]]], dtype=np.int64)]
        cost[s + 1:e + 1] = cost[s] + touched[rare.indptr[s + 1:e + 1] - lo]
    cost = cost[1:]
    spans, s = [], 0
    while s < n:
        e = max(s + 1, int(np.searchsorted(cost, cost[s] + work)))
        spans.append((s, e))
        s = e
    found = _map(_partners, spans, n_jobs, rare=rare, rare_t=rare_t, per_row=per_row, near=near)
    pi, pj = [r for r, _ in found], [c for _, c in found]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
    if len(same):
        group_start = np.maximum.accumulate(np.where(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]],
                                                     np.arange(n), 0))
        pi.append(order[group_start[same]])
        pj.append(order[same])
    if not pi:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = np.concatenate(pi).astype(np.int64), np.concatenate(pj).astype(np.int64)
    pairs = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    return pairs // n, pairs % n


def _partners(span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each row of the span with its ``per_row`` best partners by the sketch product (see ``candidate_pairs``)."""
    rare, rare_t, per_row, near = (_SHARED[k] for k in ("rare", "rare_t", "per_row", "near"))
    s, e = span
    block = (rare[s:e] @ rare_t).tocsr()
    sizes = np.diff(block.indptr)
    r = np.repeat(np.arange(s, e, dtype=np.int32), sizes)
    c, v = block.indices, np.where(np.repeat(np.arange(s, e), sizes) == block.indices, 0, block.data)
    best = np.zeros(e - s, dtype=np.float32)
    if len(v):
        best[sizes > 0] = np.maximum.reduceat(v, block.indptr[:-1][sizes > 0])
    ok = (v > 0) & (v >= near * best[r - s])
    r, c, v = r[ok], c[ok], v[ok]
    order = np.lexsort((-v, r))
    r, c = r[order], c[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r)
    return r[rank < per_row], c[rank < per_row].astype(np.int32)
