"""Clusters by issue: groups of copies (``suggestions.dedup``) joined when they are one problem at one place.

Pure, like the copies engine: texts and the copies clustering in, a new grouping out. Each campaign's texts are
read once (``issue_texts.IssueTexts``); the candidate pairs are the copies engine's own (each text's rarest shared
n-grams) plus every pair of texts naming the same rare place (a name, mined from the campaign, that at most
``NAME_SHARERS`` texts use: estates and roads people write about in other words). Pairs already in one group are
skipped; the rest are scored with the learned same-issue model and joined best first (single link) while the
probability reaches the model's threshold, unless the join would put two places of one kind under two names in
one group (``places.Places.conflicts``, checked against every member naming one), keep apart two proposals staff
separated, or bring together two representatives staff chose.

Measured end to end (``python -m bench.dedup issues-e2e``): docs/benchmarks.md.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from suggestions.issue_text_words import Text
from suggestions.issue_texts import IssueTexts
from suggestions.places import Places
from suggestions.same_issue import SameIssueModel

NAME_SHARERS = 30
"""A place name used by more texts than this names a district or a main road, not one issue's place."""
CANDIDATE_FLOOR = 0.3
"""Groups left apart whose best link reaches this probability are offered to staff as merge candidates."""
CANDIDATES_PER_GROUP = 5


@dataclass(frozen=True)
class Candidate:
    """Two groups left apart that may be one issue: their representatives, the best link between them (rows a
    and b, its probability), why they were not joined ("below": the model was not sure enough; "places": two
    places of one kind; "apart": a staff separation; "pinned": two chosen representatives) and the evidence."""
    group: int
    other_group: int
    a: int
    b: int
    probability: float
    why: str
    evidence: dict


@dataclass(frozen=True)
class IssueGrouping:
    """Each row's group (named by its representative row); for a row whose group was joined to another, the
    probability of the link that joined it (rows that kept their copy group's representative: None); and the
    merge candidates for staff."""
    representative: list[int]
    joined_by: list[float | None]
    candidates: list[Candidate] = field(default_factory=list)


def join_issues(texts: Sequence[Text], copy_representative: Sequence[int], pairs: tuple[np.ndarray, np.ndarray,
                np.ndarray], model: SameIssueModel, *, apart: Collection[tuple[int, int]] = (),
                pinned_representatives: Collection[int] = (), n_jobs: int = 1,
                words: Sequence[tuple[str, str]] | None = None) -> IssueGrouping:
    """Join the copy groups of one campaign (rows of ``texts``; ``copy_representative[r]`` is the row naming
    row r's group) that are the same issue. ``pairs`` = (i, j, copies score) rows the copies engine scored;
    ``apart`` are pairs of rows staff keep apart; a group holding one of ``pinned_representatives`` keeps it.
    The texts are read in ``n_jobs`` processes; ``words``: their ``issue_text_words.words_of`` when the caller
    kept them."""
    n = len(texts)
    issue_texts = IssueTexts(texts, n_jobs, words=words, copies_rows_kept=False)
    i, j, copies = _candidates(issue_texts, copy_representative, pairs)
    probability = model.probability(issue_texts.features(i, j, copies)) if len(i) else np.zeros(0)
    groups = _Groups(copy_representative, [Places.of(f"{t.title}\n{t.body}") for t in texts], apart,
                     set(pinned_representatives))
    joined_by: list[float | None] = [None] * n  # the first link that joined the row's copy group to another
    refused: dict[int, str] = {}  # pair position → why the join was refused
    for k in np.argsort(-probability, kind="stable").tolist():
        p = float(probability[k])
        if p < model.threshold:
            break
        rows, why = groups.join(int(i[k]), int(j[k]))
        if why:
            refused[k] = why
        for row in rows:
            if joined_by[row] is None:
                joined_by[row] = p
    representative = groups.representatives(i, j, probability, model.threshold)
    return IssueGrouping(representative, [None if copy_representative[r] == copy_representative[representative[r]]
                                          else joined_by[r] for r in range(n)],
                         _near_misses(issue_texts, representative, i, j, probability, refused))


def _near_misses(issue_texts: IssueTexts, representative: list[int], i: np.ndarray, j: np.ndarray,
                 probability: np.ndarray, refused: dict[int, str]) -> list[Candidate]:
    """The best link between each two groups left apart, from CANDIDATE_FLOOR up, at most CANDIDATES_PER_GROUP
    per group (the most likely first)."""
    best: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(probability >= CANDIDATE_FLOOR).tolist():
        ga, gb = representative[int(i[k])], representative[int(j[k])]
        if ga != gb:
            key = (min(ga, gb), max(ga, gb))
            if key not in best or probability[k] > probability[best[key]]:
                best[key] = k
    offered: dict[int, int] = defaultdict(int)
    candidates = []
    for (ga, gb), k in sorted(best.items(), key=lambda item: -probability[item[1]]):
        if offered[ga] >= CANDIDATES_PER_GROUP and offered[gb] >= CANDIDATES_PER_GROUP:
            continue
        offered[ga] += 1
        offered[gb] += 1
        a, b = int(i[k]), int(j[k])
        candidates.append(Candidate(ga, gb, a, b, round(float(probability[k]), 3), refused.get(k, "below"),
                                    issue_texts.evidence(a, b)))
    return candidates


def _candidates(issue_texts: IssueTexts, copy_representative: Sequence[int],
                pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The engine's pairs and the pairs sharing a rare place name, not already in one copy group, once each;
    with their copies score (computed for the place-name pairs the engine had not scored). Pairs are numbered
    min × n + max and held in arrays: a campaign's name pairs run to millions."""
    rep = np.asarray(copy_representative, dtype=np.int64)
    n = len(rep)
    i, j, scores = (np.asarray(x) for x in pairs)
    i, j = i.astype(np.int64), j.astype(np.int64)
    keep = rep[i] != rep[j]
    # a pair the engine scored twice keeps its last score
    known, last = np.unique(((np.minimum(i, j) * n + np.maximum(i, j))[keep])[::-1], return_index=True)
    known_scores = np.asarray(scores[keep], dtype=np.float64)[::-1][last]
    extra = np.setdiff1d(_name_pairs(issue_texts.names, rep), known, assume_unique=True)
    keys = np.concatenate([known, extra])
    a, b = keys // n, keys % n
    copies = np.empty(len(keys))
    copies[:len(known)] = known_scores
    if len(extra):
        copies[len(known):] = issue_texts.copies_scores(a[len(known):], b[len(known):])
    return a, b, copies


def _name_pairs(names: Sequence[frozenset[str]], rep: np.ndarray) -> np.ndarray:
    """Every pair of rows (numbered min × n + max, sorted, once) naming one place that 2 to NAME_SHARERS rows
    name, in two copy groups."""
    n = len(rep)
    number: dict[str, int] = {}
    rows = np.fromiter((row for row, held in enumerate(names) for _ in held), dtype=np.int64)
    named = np.fromiter((number.setdefault(name, len(number)) for held in names for name in held), dtype=np.int64,
                        count=len(rows))
    order = np.lexsort((rows, named))  # by name, then row
    rows, named = rows[order], named[order]
    starts = np.flatnonzero(np.r_[True, named[1:] != named[:-1]])
    sizes = np.diff(np.r_[starts, len(named)])
    found = [np.zeros(0, dtype=np.int64)]
    for size in range(2, NAME_SHARERS + 1):
        sharers = rows[starts[sizes == size][:, None] + np.arange(size)]  # one line per name, rows ascending
        first, second = np.triu_indices(size, 1)
        a, b = sharers[:, first].ravel(), sharers[:, second].ravel()
        found.append((a * n + b)[rep[a] != rep[b]])
    return np.unique(np.concatenate(found))


class _Groups:
    """Union-find over copy groups, refusing joins that mix places, staff separations or pinned
    representatives."""

    def __init__(self, copy_representative: Sequence[int], places: list[Places],
                 apart: Collection[tuple[int, int]], pinned: set[int]):
        self.copy_of = list(copy_representative)
        self.parent = list(copy_representative)
        self.members: dict[int, list[int]] = defaultdict(list)
        for row, rep in enumerate(copy_representative):
            self.members[rep].append(row)
        self.named = {rep: [places[r] for r in rows if places[r].names] for rep, rows in self.members.items()}
        self.apart: dict[int, set[int]] = defaultdict(set)
        for a, b in apart:
            self.apart[a].add(b)
            self.apart[b].add(a)
        self.pinned = set(pinned)
        self.has_pinned = {self.copy_of[r] for r in pinned}

    def find(self, row: int) -> int:
        while self.parent[row] != row:
            self.parent[row] = self.parent[self.parent[row]]
            row = self.parent[row]
        return row

    def join(self, a: int, b: int) -> tuple[list[int], str]:
        """Join the groups of rows a and b; returns the rows of both, or none and why the join was refused."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return [], ""
        if ra in self.has_pinned and rb in self.has_pinned:
            return [], "pinned"
        members_b = set(self.members[rb])
        if any(self.apart[x] & members_b for x in self.members[ra] if x in self.apart):
            return [], "apart"
        if any(x.conflicts(y) for x in self.named[ra] for y in self.named[rb]):
            return [], "places"
        keep, moved = (ra, rb) if len(self.members[ra]) >= len(self.members[rb]) else (rb, ra)
        self.parent[moved] = keep
        self.members[keep] += self.members.pop(moved)
        self.named[keep] += self.named.pop(moved)
        if moved in self.has_pinned:
            self.has_pinned.add(keep)
        return self.members[keep], ""

    def representatives(self, i: np.ndarray, j: np.ndarray, probability: np.ndarray,
                        threshold: float) -> list[int]:
        """Each row's final representative: a pinned one, or else the copy group representative whose copy group
        is most linked to the rest of its issue group (the sum of its links' probabilities): the clearest
        statement of the issue; the earlier one on a tie."""
        root = [self.find(r) for r in range(len(self.parent))]
        links: dict[int, float] = defaultdict(float)  # copy group → the sum of its links inside its issue group
        strong = probability >= threshold
        for a, b, p in zip(i[strong].tolist(), j[strong].tolist(), probability[strong].tolist(), strict=True):
            if root[a] == root[b] and self.copy_of[a] != self.copy_of[b]:
                links[self.copy_of[a]] += p
                links[self.copy_of[b]] += p
        chosen: dict[int, int] = {}
        for group_root, rows in self.members.items():
            heads = sorted({self.copy_of[r] for r in rows})
            pinned = [h for h in heads if h in self.pinned]
            chosen[group_root] = pinned[0] if pinned else max(heads, key=lambda h: (links[h], -h))
        return [chosen[root[r]] for r in range(len(root))]
