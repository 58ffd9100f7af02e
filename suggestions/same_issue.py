"""The same issue in other words: a learned score over features of a pair of proposals (issue 13, first slice).

*Copies* (``suggestions.dedup``) are one text reworded; *the same issue* is one problem at one place or entity,
written independently by different citizens ("丽发新城小区旁建搅拌厂严重扰民" and "投诉A2区丽发新城附近建搅拌站噪音
扰民"). One cosine cannot tell those from the same complaint template about another estate, or another problem at
the same estate, so the score here is a logistic regression over several pieces of evidence:

- character and word (jieba) TF-IDF cosines: title with title, body with body, whole with whole, title with the
  other's body, and the copies engine's own score;
- the words both share, weighted by rarity (an estate's name is rare, 小区 is not);
- place and entity names: a name is the few characters before a place suffix (小区, 花园, 路, 村, 学校, 公司 …),
  cut where the corpus itself stops repeating them (a gazetteer mined from the campaign's texts, since a
  dictionary knows no housing estates); how many of each text's names the other mentions, and a conflict when
  both name places and neither mentions the other's;
- numbers, and the two lengths;
and, over a corpus, a path through one other text (``through_one_other``): a third proposal plainly the same issue
as each of two vouches for them.

The texts are read once by ``suggestions.issue_texts.IssueTexts`` (idf and the gazetteer learned from a corpus),
which gives those features for any pairs of them. ``SameIssueModel`` is trained on labelled pairs and saved as a
small JSON file (the weights a person can read): ``flask suggestions train-similarity`` writes one into instance/;
without it the model shipped beside this module (trained on the demo's own labelled pairs) is used.
``suggestions.issue_groups`` uses the score to join clusters of copies that are one issue. ``python -m bench.dedup
issues FILE --cv 5`` measures it (docs/benchmarks.md).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suggestions.issue_text_words import Text, texts_of_pairs
from suggestions.issue_texts import FEATURES, IssueTexts, shipped_background
from suggestions.places import Places

SHIPPED_MODEL = Path(__file__).with_name("same_issue_model.json")
"""The default model, trained on the demo's own labelled pairs (``demo.issue_pairs``) by
``flask suggestions train-similarity --demo --output suggestions/same_issue_model.json``."""


@dataclass
class SameIssueModel:
    """A logistic regression over standardised FEATURES; ``probability`` is P(same issue). Kept as its numbers
    (means, scales, weights), so the saved file is a few lines of JSON that a person can read and diff."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    scale: np.ndarray = field(default_factory=lambda: np.ones(len(FEATURES)))
    coef: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    intercept: float = 0.0
    threshold: float = 0.5
    trained_on: dict = field(default_factory=dict)

    def fit(self, features: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None,
            C: float = 0.3) -> SameIssueModel:  # noqa: N803 (scikit-learn's name)
        """Train on labelled pairs; the classes are weighted equally, so 0.5 means as likely one as the other
        whatever share of the training pairs were the same issue."""
        from sklearn.linear_model import LogisticRegression  # here, as in issue_chars._weighed
        from sklearn.preprocessing import StandardScaler
        scaler = StandardScaler().fit(features)
        regression = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(
            scaler.transform(features), labels, sample_weight=sample_weight)
        self.mean, self.scale = scaler.mean_, scaler.scale_
        self.coef, self.intercept = regression.coef_[0], float(regression.intercept_[0])
        return self

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = ((np.asarray(features, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def weights(self) -> dict[str, float]:
        """Each feature's weight (on standardised features): what the model learned, for people to read."""
        return dict(zip(FEATURES, np.round(self.coef, 3).tolist(), strict=True))

    def save(self, path: Path | str) -> None:
        """Write the model as JSON, one line per feature."""
        lines = [f'  "{name}": {{"mean": {m:.6g}, "scale": {s:.6g}, "weight": {c:.6g}}}'
                 for name, m, s, c in zip(FEATURES, self.mean, self.scale, self.coef, strict=True)]
        rest = json.dumps({"intercept": round(self.intercept, 6), "threshold": self.threshold,
                           "trained_on": self.trained_on}, ensure_ascii=False)[1:-1]
        Path(path).write_text('{"features": {\n' + ",\n".join(lines) + "\n },\n " + rest + "}\n",
                              encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> SameIssueModel:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        numbers = saved["features"]
        if set(numbers) != set(FEATURES):
            raise ValueError(f"{path}: a model of other features ({', '.join(sorted(numbers))})")
        column = lambda key: np.array([numbers[name][key] for name in FEATURES])  # noqa: E731
        return cls(column("mean"), column("scale"), column("weight"), float(saved["intercept"]),
                   float(saved.get("threshold", 0.5)), saved.get("trained_on", {}))


def issue_probabilities(text: Text, others: Sequence[Text], model: SameIssueModel,
                        paths: bool = True) -> np.ndarray:
    """P(the same issue) of ``text`` with each of ``others`` (a draft and its candidate hints): each pair's own or,
    when higher, that of its best path through another candidate (``through_one_other``). idf and the gazetteer
    come from these texts and the counts of ``shipped_background``. Paths are tried only through candidates the
    model already finds the same issue (at least its threshold) and likelier than the pair itself: the others
    cannot lift a pair to the threshold, so every figure at or above it is exact and the rest are lower bounds, at
    least the pair's own. Without ``paths``, each pair's own only (placing a proposal between batches: a path may
    go through a candidate staff or the place rule keep it apart from). About 20 ms for 20 candidates
    (docs/benchmarks.md, hints)."""
    if not others:
        return np.zeros(0)
    corpus = IssueTexts([text, *others], background=shipped_background())
    rows = np.arange(1, len(others) + 1)
    draft = np.zeros(len(others), dtype=np.int64)
    direct = model.probability(corpus.features(draft, rows))
    sure = [int(c) for c in rows if direct[c - 1] >= model.threshold] if paths else []
    through = [[c for c in sure if direct[c - 1] > direct[k]] for k in range(len(others))]
    if not any(through):
        return direct
    places = [Places.of(f"{t.title}\n{t.body}") for t in corpus.texts]

    def link_probability(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        apart = [places[x].conflicts(places[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
        scored = np.empty(len(a))
        own = a == 0  # the draft's links, scored above (a link is (lower, higher) row)
        scored[own] = direct[b[own] - 1]
        if not own.all():
            scored[~own] = model.probability(corpus.features(a[~own], b[~own]))
        return np.where(apart, 0.0, scored)
    return through_one_other(draft, rows, direct, through, link_probability)


def through_one_other(i: np.ndarray, j: np.ndarray, direct: np.ndarray, through: Sequence[Collection[int]],
                      link_probability: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """For each pair (i[k], j[k]): ``direct[k]``, or, when higher, its best path through one other text c of
    ``through[k]``: the smaller of P(i[k], c) and P(c, j[k]), as ``link_probability`` (vectorised over pairs)
    gives them; it counts 0 for a link the place rule keeps apart. A third proposal that is plainly the same issue
    as each of two is evidence that the two are, which one pair's words may not show (two citizens describing one
    mixing plant, one by its noise, one by its dust): what clustering does by single link over a whole campaign
    (``issue_groups``), here for one pair among its nearest texts. On issue_pairs_dev.csv it lifts the precision at
    recall 0.90 from 0.894 to 0.912 in the grouped CV, and from 0.734 to 0.834 on 292 other labelled pairs of that
    board that no choice of it was made on; on a board with few messages per issue it adds nothing
    (docs/benchmarks.md)."""
    wanted = sorted({(min(end, c), max(end, c)) for k in range(len(i)) for c in through[k]
                     if c != i[k] and c != j[k] for end in (int(i[k]), int(j[k]))})
    if not wanted:
        return np.asarray(direct, dtype=np.float64).copy()
    links = np.array(wanted, dtype=np.int64)
    probability = dict(zip(wanted, link_probability(links[:, 0], links[:, 1]).tolist(), strict=True))
    best = np.asarray(direct, dtype=np.float64).copy()
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        for c in through[k]:
            if c != a and c != b:
                best[k] = max(best[k], min(probability[(min(a, c), max(a, c))],
                                           probability[(min(b, c), max(b, c))]))
    return best


def read_pairs_csv(path: Path | str) -> list[tuple[Text, Text, int]]:
    """Labelled pairs from a CSV file with columns title1, body1, title2, body2, label (1 = the same issue), as
    ../shared/data/issue_pairs_dev.csv."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"title1", "body1", "title2", "body2", "label"} - set(rows[0] if rows else ())
    if missing:
        raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
    return [(Text(r["title1"].strip(), r["body1"].strip()), Text(r["title2"].strip(), r["body2"].strip()),
             int(r["label"])) for r in rows]


def connected_groups(pairs: Sequence[tuple[Hashable, Hashable]]) -> np.ndarray:
    """A group number per pair: pairs that share a message (directly or through other pairs) share one."""
    parent: dict[Hashable, Hashable] = {}

    def root(message: Hashable) -> Hashable:
        while parent.setdefault(message, message) != message:
            parent[message] = parent[parent[message]]
            message = parent[message]
        return message
    for a, b in pairs:
        parent[root(a)] = root(b)
    roots: dict[Hashable, int] = {}
    return np.array([roots.setdefault(root(a), len(roots)) for a, _ in pairs], dtype=np.int64)


def group_weights(groups: np.ndarray) -> np.ndarray:
    """Training weights under which each group of connected pairs counts as much as any other (1 / its size,
    scaled to a mean of 1): a complaint campaign from which a hundred pairs were labelled does not outweigh a
    hundred issues labelled once each (docs/benchmarks.md: in the grouped CV, ROC-AUC 0.931 to 0.942)."""
    weights = 1.0 / np.bincount(groups)[groups]
    return weights / weights.mean() if len(weights) else weights


def train_model(labelled: Sequence[tuple[Text, Text, int]], trained_on: dict,
                weights: np.ndarray | None = None) -> SameIssueModel:
    """A model trained on labelled pairs (``weights``: one per pair, e.g. ``group_weights``; default all 1); idf and
    the gazetteer are learned from the pairs' own texts."""
    labels = np.array([label for _, _, label in labelled])
    if len(set(labels.tolist())) < 2:
        raise ValueError("training needs pairs of both kinds: the same issue and not")
    texts, i, j = texts_of_pairs([(a, b) for a, b, _ in labelled])
    model = SameIssueModel().fit(IssueTexts(texts).features(i, j), labels, sample_weight=weights)
    model.trained_on = {**trained_on, "pairs": len(labels), "same_issue": int(labels.sum())}
    return model
