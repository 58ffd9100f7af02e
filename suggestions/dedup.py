"""Near-duplicate proposals: normalisation, similarity, the top-k index and clustering. Pure: texts in, results out.

No Flask and no database here; the caller passes (id, text, author_id) triples of one campaign.

normalise, features, similarity: ``suggestions.dedup_features`` (re-exported here); see its docstring.
Measured and not kept (LCQMC dev, best-threshold F1 ≈ 0.73 for all): jieba words as a block (no gain over
trigrams, and jieba was most of the featurisation time), truncated SVD / LSA, idf-weighted containment
("mismatch") penalties on characters or words (+0.006 at best) and a question-word mismatch penalty (lower).

Clustering is "leader" clustering in the given (chronological) order: an item joins the most similar existing
cluster only if it is similar enough to that cluster's *representative* (its first member), otherwise it starts a
new cluster. Comparing with the representative, never with any member, is the guard against chaining A~B~C.
``assign`` applies the same rule to one new item, so incremental and batch clustering agree.

The top-k index (saved to and mapped from a folder) lives in ``suggestions.dedup_index`` (re-exported here).
Clustering a whole campaign at scale (compact rows, candidate pairs, worker processes) lives in
``suggestions.dedup_scale``; ``cluster`` here is its entry point. Layers: dedup_features ← dedup_scale ←
dedup_index ← dedup.
Copies of one template (flood detection) are grouped by ``near_identical`` (``suggestions.dedup_copies``).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from suggestions.dedup_copies import near_identical  # noqa: F401  (re-exported)
from suggestions.dedup_features import (  # noqa: F401  (re-exported: this module is the public face)
    _CANDIDATE_START,
    IDF_POWER,
    IDF_RARITY,
    KEYWORD_STOPWORDS,
    LONG,
    LONG_WEIGHTS,
    N_FEATURES,
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
    load_keyword_tools,
    normalise,
    similarity,
)
from suggestions.dedup_index import Index, Match  # noqa: F401  (re-exported)
from suggestions.dedup_scale import CompactRows, CsrRows, candidate_pairs, pair_dots
from suggestions.places import Places


def pair_similarities(a: Sequence[str], b: Sequence[str], n_jobs: int = 1) -> np.ndarray:
    """Similarity of a[i] and b[i] for every i, with idf fitted on the sentences of both lists."""
    normalised = _normalise_all(list(a) + list(b), n_jobs)
    featuriser, rows = Featuriser.fit(normalised, n_jobs)
    rows = CsrRows(rows, featuriser, [len(exact_key(t)) for t in normalised])
    return pair_dots(rows, np.arange(len(a)), np.arange(len(a), len(a) + len(b)))


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
    similar other items as (item id, other id, score, kind) tuples, best first per item; ``pairs`` are the
    candidate pairs it scored, as (row i, row j, score) arrays over the input order (for ``issue_groups``)."""
    members: list[Member] = field(default_factory=list)
    neighbours: list[tuple[Id, Id, float, str]] = field(default_factory=list)
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))

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
        keys = np.fromiter((index.digest_at(r) for r in at.tolist()), dtype=np.int64, count=len(at))
        rows = CsrRows(index.all_rows()[at], index.featuriser, index.lengths_of(at))
    i, j = candidate_pairs(rows, rows.featuriser.df, keys, n_jobs=n_jobs)
    scores = pair_dots(rows, i, j, n_jobs)
    pairs = scores >= threshold
    authors = [a for _, _, a in items]
    result = _leader(ids, keys.tolist(), authors, rows, i[pairs], j[pairs], scores[pairs], pins or Pins(),
                     [t for _, t, _ in items])
    if neighbours:
        result.neighbours = _nearest(ids, keys, authors, i, j, scores, neighbours, neighbour_floor, threshold)
    result.pairs = (i, j, scores)
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
           apart: Collection[Id] = (), threshold: float = THRESHOLD, candidates: int = 20,
           text: str | None = None, member_texts: Mapping[Id, Sequence[str]] | None = None) -> Member:
    """Place one new, already indexed item among existing clusters, by the same rule as ``cluster``.

    membership maps item id → cluster key, representatives maps cluster key → representative item id, and
    ``apart`` lists items this one must not share a cluster with; ``text`` is the item's (a loaded index keeps
    none) and ``member_texts`` the members' texts of each candidate cluster (the start of each is enough): the
    item joins no cluster holding the same kind of place under another name (``places``). Returns a ``Member``
    whose ``cluster`` is the key to join, or None (and kind "representative") when the item starts a new cluster.
    """
    row = index.row_of(item_id)
    text = index.text_at(row) if text is None else text
    clusters = {membership[m.id] for m in index.query(text, candidates, exclude={item_id}) if m.id in membership}
    blocked = {membership[a] for a in apart if a in membership}
    options = [(c, representatives[c]) for c in clusters - blocked if representatives[c] in index]
    if options:
        scores = index.scores(text, [rep for _, rep in options])
        places = Places.of(text)
        for best in np.argsort(-scores, kind="stable").tolist():
            score = float(scores[best])
            if score < threshold:
                break
            c, rep = options[best]
            texts = (member_texts or {}).get(c, ())
            if places.names and any(places.conflicts(Places.of(other)) for other in texts):
                continue
            rep_row = index.row_of(rep)
            same_author = index.author_at(row) is not None and index.author_at(row) == index.author_at(rep_row)
            return Member(item_id, c, _kind(index.digest_at(row) == index.digest_at(rep_row), same_author, score,
                                            threshold), score)
    return Member(item_id, None, "representative", 1.0)


def _leader(ids: list[Id], keys: list[int], authors: list[Id | None], rows, i: np.ndarray,
            j: np.ndarray, scores: np.ndarray, pins: Pins, texts: Sequence[str]) -> Clustering:
    """Leader clustering over the scored edges, with pinned groups, representatives and separations seeded. An
    item joins no cluster one of whose members names the same kind of place under another name (``places``)."""
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
    named = _NamedMembers(texts)  # only items in an edge or a pinned group can share a cluster: only they are read
    for r in range(len(ids)):
        if rep[r] != -1:
            named.join(r, rep[r])
            continue
        rep[r] = r
        for s, other in sorted(neighbours.get(r, ()), reverse=True):
            if rep[other] == other and not any(rep[x] == other for x in apart.get(r, ())) \
                    and not named.conflicts(r, other):
                rep[r], score_to_rep[r] = other, s
                break
        if r in neighbours:
            named.join(r, rep[r])

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


class _NamedMembers:
    """Per cluster, the places (``places.Places``) of its members that name any: what a joining item is checked
    against, so that no two members name one kind of place under two names. Only texts met in edges are read."""

    def __init__(self, texts: Sequence[str]):
        self.texts, self.places, self.by_cluster = texts, {}, {}

    def _of(self, row: int) -> Places:
        if row not in self.places:
            self.places[row] = Places.of(self.texts[row])
        return self.places[row]

    def conflicts(self, row: int, cluster: int) -> bool:
        members = self.by_cluster.get(cluster, ())
        return bool(members) and bool(self._of(row).names) and any(self._of(row).conflicts(m) for m in members)

    def join(self, row: int, cluster: int) -> None:
        places = self._of(row)
        if places.names:
            self.by_cluster.setdefault(cluster, []).append(places)
