"""Near-duplicate proposals: normalisation, similarity, a top-k index and clustering. Pure: texts in, results out.

No Flask and no database here; the caller passes (id, text, author_id) triples of one campaign.

normalise, features, similarity: ``suggestions.dedup_features`` (re-exported here); see its docstring.
Measured and not kept (LCQMC dev, best-threshold F1 ≈ 0.73 for all): jieba words as a block (no gain over
trigrams, and jieba was most of the featurisation time), truncated SVD / LSA, idf-weighted containment
("mismatch") penalties on characters or words (+0.006 at best) and a question-word mismatch penalty (lower).

Clustering is "leader" clustering in the given (chronological) order: an item joins the most similar existing
cluster only if it is similar enough to that cluster's *representative* (its first member), otherwise it starts a
new cluster. Comparing with the representative, never with any member, is the guard against chaining A~B~C.
``assign`` applies the same rule to one new item, so incremental and batch clustering agree.

Clustering a whole campaign at scale (compact rows, candidate pairs, worker processes) lives in
``suggestions.dedup_scale``; ``cluster`` here is its entry point. Layers: dedup_features ← dedup_scale ← dedup.
Copies of one template (flood detection) are grouped by ``near_identical`` (``suggestions.dedup_copies``).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_copies import near_identical  # noqa: F401  (re-exported)
from suggestions.dedup_features import (  # noqa: F401  (re-exported: this module is the public face)
    _CANDIDATE_START,
    IDF_POWER,
    IDF_RARITY,
    KEYWORD_STOPWORDS,
    LONG,
    LONG_WEIGHTS,
    N_FEATURES,
    PENALTY,
    PENALTY_LENGTH,
    SHORT,
    SHORT_WEIGHTS,
    STOCK_PHRASES,
    THRESHOLD,
    Featuriser,
    Id,
    _kind,
    _normalise_all,
    block_weights,
    exact_key,
    keywords,
    length_penalty,
    normalise,
    similarity,
)
from suggestions.dedup_scale import CompactRows, CsrRows, candidate_pairs, key_hash, pair_dots


def pair_similarities(a: Sequence[str], b: Sequence[str], n_jobs: int = 1) -> np.ndarray:
    """Similarity of a[i] and b[i] for every i, with idf fitted on the sentences of both lists."""
    normalised = _normalise_all(list(a) + list(b), n_jobs)
    featuriser, rows = Featuriser.fit(normalised, n_jobs)
    rows = CsrRows(rows, featuriser, [len(exact_key(t)) for t in normalised])
    return pair_dots(rows, np.arange(len(a)), np.arange(len(a), len(a) + len(b)))


def pair_features(a: Sequence[str], b: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dot products, lengths of a, lengths of b) of a[i] and b[i], idf fitted on both lists: what
    ``similarity`` combines, for refitting its constants (``bench.dedup pairs --cv``)."""
    normalised = _normalise_all(list(a) + list(b), 1)
    featuriser, rows = Featuriser.fit(normalised, 1)
    lengths = np.asarray([len(exact_key(t)) for t in normalised])
    dots = CsrRows(rows, featuriser, lengths).dots(np.arange(len(a)), np.arange(len(a), len(a) + len(b)))
    return dots, lengths[:len(a)], lengths[len(a):]


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
        featuriser, self.rows = Featuriser.fit(normalised, n_jobs)
        self.featuriser = featuriser.compact()
        self._merge()

    def _merge(self) -> None:
        """Move buffered rows into the row (CSR) and column (CSC) stores. The column store is numbered by the
        fitted vocabulary (features of added items outside it are never candidates: they were unknown to idf)."""
        if getattr(self, "_buffer", None):
            self.rows = sp.vstack([self.rows, *self._buffer], format="csr")
        self._buffer: list[sp.csr_matrix] = []
        self._extra = sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
        at, known = self.featuriser.positions(self.rows.indices)
        rows = np.repeat(np.arange(self.rows.shape[0], dtype=np.int32), np.diff(self.rows.indptr))
        self._columns = sp.csc_matrix((self.rows.data[known], (rows[known], at[known])),
                                      shape=(self.rows.shape[0], len(self.featuriser.vocab)))
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
        key = exact_key(normalised)
        rows = self._candidates(q)
        dots = self._dots(rows, q)
        scores = similarity(dots, self._lengths(rows), len(key))
        keep = self._alive[rows] & (dots > 0)
        for item_id in exclude:
            if item_id in self._row_of:
                keep &= rows != self._row_of[item_id]
        rows, scores = rows[keep], scores[keep]
        out = []
        for i in np.argsort(-scores, kind="stable")[:k]:
            r, s = rows[i], float(scores[i])
            same_author = author is not None and self.authors[r] == author
            out.append(Match(self.ids[r], s, _kind(self.keys[r] == key, same_author, s, threshold)))
        return out

    def scores(self, text: str, ids: Sequence[Id]) -> np.ndarray:
        """Exact similarity of ``text`` to each of the given indexed items."""
        rows = np.asarray([self._row_of[i] for i in ids], dtype=np.int64)
        normalised = normalise(text)
        dots = self._dots(rows, self.featuriser.transform([normalised]))
        return similarity(dots, self._lengths(rows), len(exact_key(normalised)))

    def _candidates(self, q: sp.csr_matrix) -> np.ndarray:
        at, known = self.featuriser.positions(q.indices)
        use = (q.indices >= _CANDIDATE_START) & known
        cols, weights = at[use], q.data[use]
        use = np.diff(self._columns.indptr)[cols] <= self._postings_limit
        partial = self._columns[:, cols[use]] @ weights[use]
        stored = np.flatnonzero(partial)
        if len(stored) > self.n_candidates:
            stored = stored[np.argpartition(-partial[stored], self.n_candidates)[:self.n_candidates]]
        return np.concatenate([stored, np.arange(self.rows.shape[0], len(self.ids))]).astype(np.int64)

    def _dots(self, rows: np.ndarray, q: sp.csr_matrix) -> np.ndarray:
        n = self.rows.shape[0]
        stored = rows < n
        out = np.empty(len(rows), dtype=np.float32)
        out[stored] = _row_dots(self.rows[rows[stored]], q)
        out[~stored] = _row_dots(self._extra[rows[~stored] - n], q)
        return out

    def _lengths(self, rows: np.ndarray) -> np.ndarray:
        return np.fromiter((len(self.keys[r]) for r in rows), dtype=np.int64, count=len(rows))


def _row_dots(rows: sp.csr_matrix, q: sp.csr_matrix) -> np.ndarray:
    """The dot product of each row with the one-row ``q``, by looking up the rows' columns in q's (sorted). A
    sparse product would first turn q's 9.4 million columns into a row pointer (7 ms a call)."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    order = np.argsort(q.indices)
    columns, weights = q.indices[order], q.data[order]
    at = np.minimum(np.searchsorted(columns, rows.indices), max(len(columns) - 1, 0))
    hit = (columns[at] == rows.indices) if len(columns) else np.zeros(len(rows.indices), dtype=bool)
    products = np.where(hit, rows.data * (weights[at] if len(columns) else 0), 0).astype(np.float64)
    sums = np.zeros(rows.shape[0] + 1)
    np.add.at(sums, np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), products)
    return sums[:-1].astype(np.float32)


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
    """Result of ``cluster``: every item's ``Member`` row, in input order, and (when asked for) each item's most
    similar other items as (item id, other id, score, kind) tuples, best first per item."""
    members: list[Member] = field(default_factory=list)
    neighbours: list[tuple[Id, Id, float, str]] = field(default_factory=list)

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
            n_jobs: int = 1, index: Index | None = None, neighbours: int = 0,
            neighbour_floor: float = THRESHOLD) -> Clustering:
    """Cluster one campaign's (id, text, author_id) items, given in chronological order, honouring ``pins``.

    With ``index`` (holding every item), its rows and idf are reused instead of featurising again. Never compares
    all pairs: candidates come from ``dedup_scale.candidate_pairs`` (each item's rarest bi/trigrams) and exact
    duplicates, and only those are scored exactly. Then each item, in order, joins the cluster whose
    representative it is most similar to (score ≥ threshold) or founds one. With ``neighbours`` = k, the result
    also lists each item's k most similar candidates scoring at least ``neighbour_floor``.
    """
    ids = [i for i, _, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate item ids")
    if index is None:
        rows = CompactRows([t for _, t, _ in items], n_jobs)
        keys = rows.digests
    else:
        at = np.asarray([index.row_of(i) for i in ids], dtype=np.int64)
        keys = np.fromiter((key_hash(index.keys[r]) for r in at), dtype=np.int64, count=len(at))
        rows = CsrRows(sp.vstack([index.rows, index._extra], format="csr")[at], index.featuriser,
                       [len(index.keys[r]) for r in at])
    i, j = candidate_pairs(rows, rows.featuriser.df, keys, n_jobs=n_jobs)
    scores = pair_dots(rows, i, j, n_jobs)
    pairs = scores >= threshold
    authors = [a for _, _, a in items]
    result = _leader(ids, keys.tolist(), authors, rows, i[pairs], j[pairs], scores[pairs], pins or Pins())
    if neighbours:
        result.neighbours = _nearest(ids, keys, authors, i, j, scores, neighbours, neighbour_floor, threshold)
    return result


def _nearest(ids: list[Id], keys: np.ndarray, authors: list[Id | None], i: np.ndarray, j: np.ndarray,
             scores: np.ndarray, k: int, floor: float, threshold: float) -> list[tuple[Id, Id, float, str]]:
    """Each item's k best-scoring partners among the scored pairs (both directions), at least ``floor``."""
    keep = scores >= floor
    a = np.concatenate([i[keep], j[keep]])
    b = np.concatenate([j[keep], i[keep]])
    s = np.concatenate([scores[keep], scores[keep]])
    order = np.lexsort((-s, a))  # by item, best first
    a, b, s = a[order], b[order], s[order]
    rank = np.arange(len(a)) - np.searchsorted(a, a)  # position within the item's run
    out = []
    for x, y, score in zip(a[rank < k].tolist(), b[rank < k].tolist(), s[rank < k].tolist(), strict=True):
        same_author = authors[x] is not None and authors[x] == authors[y]
        out.append((ids[x], ids[y], score, _kind(bool(keys[x] == keys[y]), same_author, score, threshold)))
    return out


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
        for r, s in zip(pinned_rows, pair_dots(rows, pr, np.asarray([rep[x] for x in pinned_rows])), strict=True):
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
