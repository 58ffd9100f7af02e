"""Near-duplicate proposals: normalisation, similarity, a top-k index and clustering. Pure: texts in, results out.

No Flask and no database here; the caller passes (id, text, author_id) triples of one campaign.

normalise   NFKC, Traditional → Simplified (OpenCC t2s), lower case, greetings and sign-offs dropped, every run
            of punctuation/whitespace folded to one space (a clause boundary).
features    hashed character uni-, bi- and trigrams (bi/trigrams within a clause), all computed with numpy over
            the code points, weighted (1 + log tf) · idf² with idf fitted on the campaign's own corpus. Each block
            is L2-normalised and scaled by √ of a length-aware weight — (0.7, 0.2, 0.1) up to 40 characters,
            (0.2, 0.4, 0.4) from 120 on, linear in between — so one dot product is the similarity for pairs,
            top-k queries and clusters alike: unigrams carry short questions, bi/trigrams long proposals, where
            shared characters mostly mean a shared topic.
Measured and not kept (LCQMC dev, best-threshold F1 ≈ 0.73 for all): jieba words as a block (no gain over
trigrams, and jieba was most of the featurisation time), truncated SVD / LSA, idf-weighted containment
("mismatch") penalties on characters or words (+0.006 at best) and a question-word mismatch penalty (lower).

Clustering is "leader" clustering in the given (chronological) order: an item joins the most similar existing
cluster only if it is similar enough to that cluster's *representative* (its first member), otherwise it starts a
new cluster. Comparing with the representative, never with any member, is the guard against chaining A~B~C.
``assign`` applies the same rule to one new item, so incremental and batch clustering agree.

Clustering a whole campaign (``cluster`` without an index) never holds the weighted rows: ``_Rows`` keeps capped
raw counts (uint8) under int32 columns plus a per-row, per-block scale (about 5 bytes per feature; ~3.2 GB for a
million 320-character proposals) and weighs entries on the fly, to the same values ``Featuriser`` gives.
Normalisation and counting run in ``n_jobs`` forked processes, chunk by chunk. Candidate pairs: each row's 32
rarest bi/trigrams with df ≥ 2 (``_sketch``, by quarter-octave df buckets, no sort), sketch features shared by
more than 400 rows dropped, then a chunked sparse product over the sketches keeps each row's 10 best partners
among those reaching 0.3 × its best, plus exact duplicates (64-bit digests of the exact key). Only those pairs are
scored exactly (``_pair_dots``, in ``n_jobs`` processes).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from core.chinese import load_jieba, to_simplified

THRESHOLD = 0.55
"""Configured similarity at or above which two proposals count as near-duplicates."""

SHORT_WEIGHTS, LONG_WEIGHTS = (0.7, 0.2, 0.1), (0.2, 0.4, 0.4)
SHORT, LONG = 40, 120
"""Weights of the character uni-, bi- and trigram cosines: SHORT_WEIGHTS for texts of at most SHORT characters,
LONG_WEIGHTS from LONG characters on, linearly in between (each text's blocks are scaled by √ its weights)."""

IDF_POWER = 2.0
"""idf is raised to this power: rare characters and n-grams (names, places, figures) dominate."""

GREETINGS = ("尊敬的各位领导您好", "尊敬的领导您好", "尊敬的领导你好", "尊敬的领导", "各位领导好", "各位领导",
             "领导您好", "领导你好", "领导好", "您好", "你好")
SIGN_OFFS = ("希望领导重视", "恳请领导重视", "请领导重视", "望领导重视", "此致敬礼", "此致", "敬礼", "望采纳",
             "望领导采纳", "请采纳", "谢谢领导", "谢谢您", "谢谢")
STOCK_PHRASES = tuple(sorted(GREETINGS + SIGN_OFFS, key=len, reverse=True))

_TF_MAX = 255
"""A term count is capped here (rows of a whole campaign store counts as uint8); only a character repeated more
than 255 times in one text is affected."""
_ONE_PLUS_LOG = (1 + np.log(np.maximum(np.arange(_TF_MAX + 1), 1))).astype(np.float32)
_ONE_PLUS_LOG[0] = 0.0

_UNI_BITS, _BI_BITS, _TRI_BITS = 20, 22, 22
_OFFSETS = (0, 1 << _UNI_BITS, (1 << _UNI_BITS) + (1 << _BI_BITS))
N_FEATURES = _OFFSETS[2] + (1 << _TRI_BITS)
_CANDIDATE_START = _OFFSETS[1]  # unigrams are too common to propose candidates

Id = Hashable

# --- normalisation ---------------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Text as similarity sees it: NFKC, Simplified, lower case, stock phrases dropped, clauses split by one space.

    >>> normalise("尊敬的領導您好！停車難，ＡＢＣ。謝謝")
    '停车难 abc'
    """
    folded = _NON_WORD.sub(" ", to_simplified(unicodedata.normalize("NFKC", text or "")).lower())
    for phrase in STOCK_PHRASES:
        if phrase in folded:
            folded = folded.replace(phrase, " ")
    return " ".join(folded.split())


def exact_key(normalised: str) -> str:
    """What two texts must share to be exact duplicates: the normalised text without clause boundaries."""
    return normalised.replace(" ", "")


_keyword_extractor = None
KEYWORD_STOPWORDS = frozenset("建议 希望 问题 我们 他们 你们 一个 这个 那个 没有 可以 能够 已经 相关 有关 部门 领导 "
                              "政府 进行 目前 现在 非常 一些 很多 情况 反映 解决 尽快 谢谢 居民 群众 大家 这样 "
                              "如果 因为 所以 但是".split())


def keywords(texts: Sequence[str], k: int = 5) -> list[str]:
    """The k most distinctive words of a cluster's member texts: jieba's TF-IDF keyword extraction (its bundled
    idf table) over the normalised texts, without stock proposal words such as 建议 or 问题."""
    global _keyword_extractor
    if _keyword_extractor is None:
        load_jieba()
        import jieba.analyse
        _keyword_extractor = jieba.analyse.TFIDF()
        _keyword_extractor.stop_words = _keyword_extractor.stop_words | KEYWORD_STOPWORDS
    text = "\n".join(normalise(t) for t in texts)
    return [w for w in _keyword_extractor.extract_tags(text, topK=k * 3) if not w.isdigit() and len(w) > 1][:k]


# --- features ------------------------------------------------------------------------------------------------

def _counts(normalised: Sequence[str]) -> sp.csr_matrix:
    """Raw term counts of already normalised texts, hashed into the three column blocks."""
    rows, cols = [], []
    lengths = np.fromiter((len(t) + 1 for t in normalised), dtype=np.int64, count=len(normalised))
    cps = np.frombuffer("\0".join(normalised).encode("utf-32-le") + b"\0\0\0\0", dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(len(normalised), dtype=np.int64), lengths)
    char = (cps != 0) & (cps != 32)
    rows.append(doc[char])
    cols.append(cps[char] & ((1 << _UNI_BITS) - 1))
    pair = char[:-1] & char[1:]
    bigram = (cps[:-1][pair] * np.uint64(0x9E3779B1) + cps[1:][pair]) & np.uint64((1 << _BI_BITS) - 1)
    rows.append(doc[:-1][pair])
    cols.append(bigram + np.uint64(_OFFSETS[1]))
    triple = pair[:-1] & pair[1:]
    trigram = ((cps[:-2][triple] * np.uint64(0x9E3779B1) + cps[1:-1][triple]) * np.uint64(0x85EBCA77)
               + cps[2:][triple]) & np.uint64((1 << _TRI_BITS) - 1)
    rows.append(doc[:-2][triple])
    cols.append(trigram + np.uint64(_OFFSETS[2]))
    r, c = np.concatenate(rows), np.concatenate(cols).astype(np.int32)
    m = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(normalised), N_FEATURES))
    m.sum_duplicates()
    return m


def _counts_parallel(normalised: Sequence[str], n_jobs: int, chunk: int = 20_000) -> sp.csr_matrix:
    parts = [normalised[i:i + chunk] for i in range(0, len(normalised), chunk)] or [[]]
    if n_jobs > 1 and len(parts) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
            mats = pool.map(_counts, parts)
    else:
        mats = [_counts(p) for p in parts]
    return sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]


def _normalise_all(texts: Sequence[str], n_jobs: int) -> list[str]:
    if n_jobs > 1 and len(texts) > 50_000:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
            return pool.map(normalise, texts, chunksize=5_000)
    return [normalise(t) for t in texts]


class Featuriser:
    """Turns normalised texts into weighted, block-normalised sparse rows; idf is fitted once on a corpus."""

    def __init__(self, df: np.ndarray, n_docs: int):
        self.df = df
        self.n_docs = n_docs
        self.idf = ((np.log((1 + n_docs) / (1 + df)) + 1) ** IDF_POWER).astype(np.float32)

    @classmethod
    def fit(cls, normalised: Sequence[str], n_jobs: int = 1) -> tuple[Featuriser, sp.csr_matrix]:
        """Fit idf on the corpus and return (featuriser, rows of that corpus)."""
        counts = _counts_parallel(normalised, n_jobs)
        df = np.bincount(counts.indices, minlength=N_FEATURES).astype(np.int32)
        featuriser = cls(df, counts.shape[0])
        return featuriser, featuriser._weigh(counts)

    def transform(self, normalised: Sequence[str], n_jobs: int = 1) -> sp.csr_matrix:
        """Rows of texts not necessarily in the fitted corpus (unknown features get the highest idf)."""
        return self._weigh(_counts_parallel(normalised, n_jobs))

    def _weigh(self, counts: sp.csr_matrix, chunk: int = 20_000) -> sp.csr_matrix:
        """(1 + log tf) · idf, each block L2-normalised and scaled by √ its length-dependent weight; in row
        chunks, so the temporaries stay small."""
        for s in range(0, counts.shape[0], chunk):
            lo, hi = counts.indptr[s], counts.indptr[min(s + chunk, counts.shape[0])]
            cols, data = counts.indices[lo:hi], counts.data[lo:hi]
            row = np.repeat(np.arange(min(chunk, counts.shape[0] - s)), np.diff(counts.indptr[s:s + chunk + 1]))
            block = np.searchsorted(np.asarray(_OFFSETS[1:]), cols, side="right")
            length = np.bincount(row[block == 0], weights=data[block == 0], minlength=row[-1] + 1 if len(row) else 0)
            data = (1 + np.log(np.minimum(data, _TF_MAX))) * self.idf[cols]
            key = row * 3 + block
            norms = np.sqrt(np.bincount(key, weights=data.astype(np.float64) ** 2, minlength=len(length) * 3))
            counts.data[lo:hi] = np.sqrt(block_weights(length)[row, block]) * data / np.maximum(norms[key], 1e-12)
        return counts


def block_weights(lengths: np.ndarray) -> np.ndarray:
    """Per-text weights of the three blocks (n × 3) for texts of the given lengths in characters."""
    t = np.clip((np.asarray(lengths, dtype=np.float64) - SHORT) / (LONG - SHORT), 0.0, 1.0)[:, None]
    return (1 - t) * np.asarray(SHORT_WEIGHTS) + t * np.asarray(LONG_WEIGHTS)


def pair_similarities(a: Sequence[str], b: Sequence[str], n_jobs: int = 1) -> np.ndarray:
    """Similarity of a[i] and b[i] for every i, with idf fitted on the sentences of both lists."""
    featuriser, rows = Featuriser.fit(_normalise_all(list(a) + list(b), n_jobs), n_jobs)
    return _pair_dots(_CsrRows(rows, featuriser), np.arange(len(a)), np.arange(len(a), len(a) + len(b)))


def _kind(exact: bool, same_author: bool, score: float, threshold: float) -> str:
    if same_author and (exact or score >= threshold):
        return "same_author_repost"
    if exact:
        return "exact"
    return "similar" if score >= threshold else "related"


# --- index ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """One hit: ``kind`` is "exact", "same_author_repost", "similar" (score ≥ threshold) or "related"."""
    id: Id
    score: float
    kind: str


class Index:
    """Top-k similar items of one campaign, with add and remove.

    Rows are kept column-wise (CSC), so a query only reads the postings of its own bi- and trigrams whose
    document frequency is at most ``max_df`` (common features would touch every row and say little); the best
    ``candidates`` rows are then scored exactly. Items added after the fit are transformed with the fitted idf
    into a small buffer that is scanned directly and merged into the column store when it grows; ``refit()``
    refits idf on the live items.
    """

    def __init__(self, items: Iterable[tuple[Id, str, Id | None]] = (), *, n_jobs: int = 1,
                 max_df: float = 0.05, candidates: int = 200, buffer_size: int = 2_000):
        items = list(items)
        self.max_df, self.n_candidates, self.buffer_size = max_df, candidates, buffer_size
        self._build([i for i, _, _ in items], _normalise_all([t for _, t, _ in items], n_jobs),
                    [a for _, _, a in items], n_jobs)

    def _build(self, ids: list[Id], normalised: list[str], authors: list[Id | None], n_jobs: int = 1) -> None:
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate item ids")
        self.ids, self.texts, self.authors = ids, normalised, authors
        self.keys = [exact_key(t) for t in normalised]
        self._row_of = {item_id: r for r, item_id in enumerate(ids)}
        self._alive = np.ones(len(ids), dtype=bool)
        self.featuriser, self.rows = Featuriser.fit(normalised, n_jobs)
        self._merge()

    def _merge(self) -> None:
        """Move buffered rows into the row (CSR) and column (CSC) stores."""
        if getattr(self, "_buffer", None):
            self.rows = sp.vstack([self.rows, *self._buffer], format="csr")
        self._buffer: list[sp.csr_matrix] = []
        self._extra = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
        self._columns = self.rows.tocsc()
        self._postings_limit = max(20, int(self.max_df * self.featuriser.n_docs))

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item_id: Id) -> bool:
        return item_id in self._row_of

    def add(self, item_id: Id, text: str, author: Id | None = None) -> None:
        """Add one item (transformed with the fitted idf)."""
        if item_id in self._row_of:
            raise ValueError(f"item {item_id!r} is already indexed")
        normalised = normalise(text)
        self._row_of[item_id] = len(self.ids)
        self.ids.append(item_id)
        self.texts.append(normalised)
        self.authors.append(author)
        self.keys.append(exact_key(normalised))
        self._alive = np.append(self._alive, True)
        self._buffer.append(self.featuriser.transform([normalised]))
        if len(self._buffer) >= self.buffer_size:
            self._merge()
        else:
            self._extra = sp.vstack(self._buffer, format="csr")

    def remove(self, item_id: Id) -> None:
        """Forget one item; it is never returned again."""
        self._alive[self._row_of.pop(item_id)] = False

    def refit(self, n_jobs: int = 1) -> None:
        """Refit idf on the live items (e.g. after many additions); ids, authors and order are kept."""
        live = np.flatnonzero(self._alive)
        self._buffer = []
        self._build([self.ids[r] for r in live], [self.texts[r] for r in live], [self.authors[r] for r in live],
                    n_jobs)

    def row_of(self, item_id: Id) -> int:
        """Internal row number of an indexed item (rows follow insertion order)."""
        return self._row_of[item_id]

    def vector(self, text: str) -> sp.csr_matrix:
        """The row of any text under the fitted idf."""
        return self.featuriser.transform([normalise(text)])

    def query(self, text: str, k: int = 5, *, author: Id | None = None, exclude: Collection[Id] = (),
              threshold: float = THRESHOLD) -> list[Match]:
        """The k live items most similar to ``text``, best first (only items sharing some feature)."""
        normalised = normalise(text)
        q = self.featuriser.transform([normalised])
        rows = self._candidates(q)
        scores = self._scores(rows, q)
        keep = self._alive[rows] & (scores > 0)
        for item_id in exclude:
            if item_id in self._row_of:
                keep &= rows != self._row_of[item_id]
        rows, scores = rows[keep], scores[keep]
        key = exact_key(normalised)
        out = []
        for i in np.argsort(-scores, kind="stable")[:k]:
            r, s = rows[i], float(scores[i])
            same_author = author is not None and self.authors[r] == author
            out.append(Match(self.ids[r], s, _kind(self.keys[r] == key, same_author, s, threshold)))
        return out

    def scores(self, text: str, ids: Sequence[Id]) -> np.ndarray:
        """Exact similarity of ``text`` to each of the given indexed items."""
        rows = np.asarray([self._row_of[i] for i in ids], dtype=np.int64)
        return self._scores(rows, self.vector(text))

    def _candidates(self, q: sp.csr_matrix) -> np.ndarray:
        use = q.indices >= _CANDIDATE_START
        cols, weights = q.indices[use], q.data[use]
        use = np.diff(self._columns.indptr)[cols] <= self._postings_limit
        partial = self._columns[:, cols[use]] @ weights[use]
        stored = np.flatnonzero(partial)
        if len(stored) > self.n_candidates:
            stored = stored[np.argpartition(-partial[stored], self.n_candidates)[:self.n_candidates]]
        return np.concatenate([stored, np.arange(self.rows.shape[0], len(self.ids))]).astype(np.int64)

    def _scores(self, rows: np.ndarray, q: sp.csr_matrix) -> np.ndarray:
        n = self.rows.shape[0]
        stored = rows < n
        out = np.empty(len(rows), dtype=np.float32)
        out[stored] = (self.rows[rows[stored]] @ q.T).toarray().ravel()
        out[~stored] = (self._extra[rows[~stored] - n] @ q.T).toarray().ravel()
        return np.minimum(out, 1.0)


# --- compact rows for clustering a whole campaign -------------------------------------------------------------

def _key_hash(key: str) -> int:
    """64-bit digest of an exact key (stable across processes): equal keys ⇔ equal digests, up to ~n²/2⁶⁴."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _featurise_chunk(texts: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Raw texts → (exact-key digests, lengths, indptr, columns, capped counts) of their count rows."""
    normalised = [normalise(t) for t in texts]
    keys = [exact_key(t) for t in normalised]
    digests = np.fromiter((_key_hash(k) for k in keys), dtype=np.int64, count=len(keys))
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int32, count=len(keys))
    counts = _counts(normalised)
    return (digests, lengths, counts.indptr.astype(np.int64), counts.indices.astype(np.int32),
            np.minimum(counts.data, _TF_MAX).astype(np.uint8))


class _Rows:
    """A campaign's rows in compact form: capped raw counts (uint8) under int32 columns, plus, per row and block,
    the scale √weight / ‖block‖. An entry's weight is (1 + log tf) · idf · scale[row, block], exactly what
    ``Featuriser`` stores, at 5 bytes per stored feature instead of 8 and without a second copy while building."""

    def __init__(self, texts: Sequence[str], n_jobs: int = 1, chunk: int = 10_000):
        parts = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
        pool = None
        if n_jobs > 1 and len(parts) > 1:
            import multiprocessing
            pool = multiprocessing.get_context("fork").Pool(n_jobs)
            results = pool.imap(_featurise_chunk, parts)
        else:
            results = map(_featurise_chunk, parts)
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
        if pool is not None:
            pool.close()
            pool.join()
        self.indices, self.tf = self.indices[:at], self.tf[:at]
        self.featuriser = Featuriser(df, len(texts))
        self.scale = np.empty((len(texts), 3), dtype=np.float32)
        weights = np.sqrt(block_weights(lengths))
        for s in range(0, len(texts), 20_000):
            e = min(s + 20_000, len(texts))
            lo, hi = self.indptr[s], self.indptr[e]
            row = np.repeat(np.arange(e - s), np.diff(self.indptr[s:e + 1]))
            cols = self.indices[lo:hi]
            value = _ONE_PLUS_LOG[self.tf[lo:hi]].astype(np.float64) * self.featuriser.idf[cols]
            norms = np.sqrt(np.bincount(row * 3 + _block_of(cols), weights=value ** 2, minlength=(e - s) * 3))
            self.scale[s:e] = weights[s:e] / np.maximum(norms.reshape(-1, 3), 1e-12)

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
        data *= self.featuriser.idf[cols]
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


class _CsrRows:
    """The same interface over already weighted rows (an Index's)."""

    def __init__(self, rows: sp.csr_matrix, featuriser: Featuriser):
        self.rows, self.featuriser = rows, featuriser

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
    return np.minimum(_SHARED["rows"].dots(*pairs), 1.0).astype(np.float32)


def _pair_dots(rows, i: np.ndarray, j: np.ndarray, n_jobs: int = 1, chunk: int = 20_000) -> np.ndarray:
    """Exact similarity of rows i[k] and j[k], in chunks (in ``n_jobs`` forked processes when worth it)."""
    chunks = [(i[s:s + chunk], j[s:s + chunk]) for s in range(0, len(i), chunk)]
    out = _map(_score_chunk, chunks, n_jobs if len(chunks) > 2 else 1, rows=rows)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


# --- clustering ----------------------------------------------------------------------------------------------

@dataclass
class Pins:
    """Staff decisions a batch must never undo.

    together:        groups of ids that must share one cluster
    apart:           pairs of ids that must never share a cluster
    representatives: ids that must each be the representative of their cluster (at most one per group)
    """
    together: Sequence[Collection[Id]] = ()
    apart: Collection[tuple[Id, Id]] = ()
    representatives: Collection[Id] = ()


@dataclass(frozen=True)
class Member:
    """An item's place: its cluster (named by the representative's id), how it relates to it, and the score."""
    id: Id
    cluster: Id
    kind: str  # "representative", "exact", "same_author_repost", "similar" or "pinned"
    score: float


@dataclass
class Clustering:
    """Result of ``cluster``: every item's ``Member`` row, in input order."""
    members: list[Member] = field(default_factory=list)

    def clusters(self, min_size: int = 2) -> dict[Id, list[Id]]:
        """Representative id → member ids (representative first), for clusters of at least ``min_size``."""
        groups: dict[Id, list[Id]] = {}
        for m in self.members:
            groups.setdefault(m.cluster, []).append(m.id)
        return {c: ids for c, ids in groups.items() if len(ids) >= min_size}

    def labels(self) -> dict[Id, Id]:
        """Item id → cluster id."""
        return {m.id: m.cluster for m in self.members}


def cluster(items: Sequence[tuple[Id, str, Id | None]], *, pins: Pins | None = None, threshold: float = THRESHOLD,
            n_jobs: int = 1, index: Index | None = None) -> Clustering:
    """Cluster one campaign's (id, text, author_id) items, given in chronological order, honouring ``pins``.

    With ``index`` (holding every item), its rows and idf are reused instead of featurising again. Never compares
    all pairs: candidates come from each item's rarest bi/trigrams (``_candidate_pairs``) and exact duplicates,
    and only those are scored exactly. Then each item, in order, joins the cluster whose representative it is
    most similar to (score ≥ threshold) or founds one.
    """
    ids = [i for i, _, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate item ids")
    if index is None:
        rows = _Rows([t for _, t, _ in items], n_jobs)
        keys = rows.digests
    else:
        at = np.asarray([index.row_of(i) for i in ids], dtype=np.int64)
        keys = np.fromiter((_key_hash(index.keys[r]) for r in at), dtype=np.int64, count=len(at))
        rows = _CsrRows(sp.vstack([index.rows, index._extra], format="csr")[at], index.featuriser)
    i, j = _candidate_pairs(rows, rows.featuriser.df, keys, n_jobs=n_jobs)
    scores = _pair_dots(rows, i, j, n_jobs)
    pairs = scores >= threshold
    return _leader(ids, keys.tolist(), [a for _, _, a in items], rows, i[pairs], j[pairs], scores[pairs],
                   pins or Pins())


def assign(index: Index, item_id: Id, *, membership: Mapping[Id, Id], representatives: Mapping[Id, Id],
           apart: Collection[Id] = (), threshold: float = THRESHOLD, candidates: int = 20) -> Member:
    """Place one new, already indexed item among existing clusters, by the same rule as ``cluster``.

    membership maps item id → cluster key, representatives maps cluster key → representative item id, and
    ``apart`` lists items this one must not share a cluster with. Returns a ``Member`` whose ``cluster`` is the
    key to join, or None (and kind "representative") when the item starts a new cluster.
    """
    row = index.row_of(item_id)
    text = index.texts[row]
    clusters = {membership[m.id] for m in index.query(text, candidates, exclude={item_id}) if m.id in membership}
    blocked = {membership[a] for a in apart if a in membership}
    options = [(c, representatives[c]) for c in clusters - blocked if representatives[c] in index]
    if options:
        scores = index.scores(text, [rep for _, rep in options])
        best = int(np.argmax(scores))
        score = float(scores[best])
        if score >= threshold:
            c, rep = options[best]
            rep_row = index.row_of(rep)
            same_author = index.authors[row] is not None and index.authors[row] == index.authors[rep_row]
            return Member(item_id, c, _kind(index.keys[row] == index.keys[rep_row], same_author, score, threshold),
                          score)
    return Member(item_id, None, "representative", 1.0)


def _sketch(rows, df: np.ndarray, top_k: int, n_jobs: int = 1, chunk: int = 20_000) -> sp.csr_matrix:
    """Each row's ``top_k`` rarest bi- and trigrams seen in at least two documents, with their weights. Rarity is
    compared in quarter-octave buckets of df (a counting pass per row chunk instead of a sort), ties in the last
    bucket taken in column order."""
    spans = [(s, min(s + chunk, len(rows))) for s in range(0, len(rows), chunk)]
    parts = _map(_sketch_span, spans, n_jobs, rows=rows, df=df, top_k=top_k)
    r, c, v = (np.concatenate(x) for x in zip(*parts, strict=True)) if parts else (np.zeros(0, dtype=np.int64),) * 3
    return sp.csr_matrix((v.astype(np.float32), (r, c.astype(np.int32))), shape=(len(rows), N_FEATURES))


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
    return local[take] + s, cols[take], vals[take]


_SHARED: dict = {}


def _map(function, tasks: list, n_jobs: int, **shared) -> list:
    """function over tasks, in ``n_jobs`` forked processes when there is more than one task; ``shared`` is
    handed to the workers through the fork (module global ``_SHARED``), not pickled."""
    _SHARED.update(shared)
    try:
        if n_jobs > 1 and len(tasks) > 1:
            import multiprocessing
            with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
                return pool.map(function, tasks, chunksize=1)
        return [function(t) for t in tasks]
    finally:
        _SHARED.clear()


def _candidate_pairs(rows, df: np.ndarray, keys: np.ndarray, top_k: int = 32, per_row: int = 10,
                     max_postings: int = 400, near: float = 0.3, n_jobs: int = 1,
                     work: int = 20_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) worth scoring exactly, plus exact duplicates (equal ``keys``).

    Each row keeps its ``top_k`` rarest bi- and trigrams seen in at least two documents (``_sketch``: what a
    rewrite keeps — names, places, figures); a sketch feature shared by more than ``max_postings`` rows is
    dropped (it costs the square of its postings and names a topic, not a text). A row's candidates are its
    ``per_row`` best partners by the dot product over the sketches, among those reaching ``near`` × its best.
    Rows go in chunks whose product touches about ``work`` postings, so memory stays bounded whatever n is."""
    n = len(rows)
    rare = _sketch(rows, df, top_k, n_jobs)
    col_df = np.bincount(rare.indices, minlength=N_FEATURES)
    rare.data[col_df[rare.indices] > max_postings] = 0
    rare.eliminate_zeros()
    col_df = np.bincount(rare.indices, minlength=N_FEATURES)
    rare_t = rare.T.tocsr()
    cost = np.cumsum(np.bincount(np.repeat(np.arange(n), np.diff(rare.indptr)), weights=col_df[rare.indices],
                                 minlength=n))
    pi, pj = [], []
    s = 0
    while s < n:
        e = max(s + 1, int(np.searchsorted(cost, cost[s] + work)))
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
        pi.append(r[rank < per_row])
        pj.append(c[rank < per_row].astype(np.int32))
        s = e
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


def _leader(ids: list[Id], keys: list[int], authors: list[Id | None], rows, i: np.ndarray,
            j: np.ndarray, scores: np.ndarray, pins: Pins) -> Clustering:
    """Leader clustering over the scored edges, with pinned groups, representatives and separations seeded."""
    row_of = {item_id: r for r, item_id in enumerate(ids)}
    rep = [-1] * len(ids)
    pinned_reps = {row_of[x] for x in pins.representatives}
    for group in pins.together:
        members = sorted(row_of[x] for x in group)
        named = [r for r in members if r in pinned_reps]
        if len(named) > 1:
            raise ValueError("a pinned group names more than one representative")
        leader = named[0] if named else members[0]
        for r in members:
            if rep[r] != -1:
                raise ValueError("an item is pinned into two groups")
            rep[r] = leader
    for r in pinned_reps:
        if rep[r] == -1:
            rep[r] = r
    apart: dict[int, set[int]] = {}
    for a, b in pins.apart:
        ra, rb = row_of[a], row_of[b]
        if rep[ra] != -1 and rep[ra] == rep[rb]:
            raise ValueError(f"{a!r} and {b!r} are pinned both together and apart")
        apart.setdefault(ra, set()).add(rb)
        apart.setdefault(rb, set()).add(ra)
    pinned = [r != -1 for r in rep]

    neighbours: dict[int, list[tuple[float, int]]] = {}
    for a, b, s in zip(i.tolist(), j.tolist(), scores.tolist(), strict=True):
        neighbours.setdefault(a, []).append((s, b))
        neighbours.setdefault(b, []).append((s, a))
    score_to_rep = [1.0] * len(ids)
    for r in range(len(ids)):
        if rep[r] != -1:
            continue
        rep[r] = r
        for s, other in sorted(neighbours.get(r, ()), reverse=True):
            if rep[other] == other and not any(rep[x] == other for x in apart.get(r, ())):
                rep[r], score_to_rep[r] = other, s
                break

    pinned_rows = [r for r in range(len(ids)) if pinned[r] and rep[r] != r]
    if pinned_rows:
        pr = np.asarray(pinned_rows)
        for r, s in zip(pinned_rows, _pair_dots(rows, pr, np.asarray([rep[x] for x in pinned_rows])), strict=True):
            score_to_rep[r] = float(s)
    members = []
    for r, leader in enumerate(rep):
        if leader == r:
            kind = "representative"
        elif pinned[r]:
            kind = "pinned"
        else:
            same_author = authors[r] is not None and authors[r] == authors[leader]
            kind = _kind(keys[r] == keys[leader], same_author, score_to_rep[r], 0.0)
        members.append(Member(ids[r], ids[leader], kind, score_to_rep[r]))
    return Clustering(members)
