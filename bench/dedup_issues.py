"""Same-issue pairs: how well the learned score (suggestions.same_issue) and the copies score tell real citizens'
messages about one issue from the rest. ``python -m bench.dedup issues FILE.csv [--cv 5] [--shuffles 5]
[--train-first N]``; FILE has columns title1, body1, title2, body2, label (1 = the same issue).

- Grouped cross-validation: the pairs are grouped by connected messages (two pairs sharing a message, directly or
  through others, are one group), so a whole complaint campaign is held out at once and no message is in both the
  training and the test part; repeated with several shuffles of the groups into folds, and the spread given.
- ``--train-first N``: trained on the file's first N pairs, measured on the rest (the pairs after N were sampled
  for hard cases).
idf and the place gazetteer are learned from the file's distinct messages (no labels), as a campaign's own
proposals would be. Prints figures; asserts nothing.
"""
import csv

import numpy as np
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import GroupKFold

from suggestions.dedup import THRESHOLD
from suggestions.same_issue import FEATURES, PairFeaturiser, SameIssueModel, Text


def read_pairs(path: str) -> tuple[list[tuple[Text, Text]], np.ndarray]:
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(Text(r["title1"].strip(), r["body1"].strip()), Text(r["title2"].strip(), r["body2"].strip()))
             for r in rows]
    return pairs, np.array([int(r["label"]) for r in rows])


def message_groups(pairs: list[tuple[Text, Text]]) -> np.ndarray:
    """A group number per pair: pairs connected through a shared message (the same title and body) share one."""
    parent: dict[Text, Text] = {}

    def root(message: Text) -> Text:
        while parent.setdefault(message, message) != message:
            parent[message] = parent[parent[message]]
            message = parent[message]
        return message
    for a, b in pairs:
        parent[root(a)] = root(b)
    roots = {}
    return np.array([roots.setdefault(root(a), len(roots)) for a, _ in pairs])


def precision_at_recall(labels: np.ndarray, scores: np.ndarray, recall: float) -> float:
    precision, achieved, _ = precision_recall_curve(labels, scores)
    return float(precision[achieved >= recall].max())


def figures(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    return {"roc_auc": roc_auc_score(labels, scores), "p_at_r90": precision_at_recall(labels, scores, 0.90),
            "p_at_r95": precision_at_recall(labels, scores, 0.95),
            "f1": f1_score(labels, scores >= threshold), "f1_all_same": f1_score(labels, np.ones_like(labels))}


def show(name: str, runs: list[dict[str, float]]) -> None:
    parts = []
    for key, label in (("roc_auc", "ROC-AUC"), ("p_at_r90", "precision at recall 0.90"),
                       ("p_at_r95", "at 0.95"), ("f1", "F1 at the operating point")):
        values = np.array([run[key] for run in runs])
        parts.append(f"{label} {values.mean():.3f}" + (f" ± {values.std():.3f}" if len(values) > 1 else ""))
    margin = np.mean([run["f1"] - run["f1_all_same"] for run in runs])
    print(f"{name}: " + ", ".join(parts) + f"; F1 margin over calling every pair the same {margin:+.3f}")


def run_issues(path: str, folds: int, shuffles: int, train_first: int) -> None:
    pairs, labels = read_pairs(path)
    groups = message_groups(pairs)
    corpus = sorted({message.whole for pair in pairs for message in pair})
    print(f"{len(pairs)} pairs ({labels.sum()} the same issue), {len(set(groups))} groups of connected messages, "
          f"{len(corpus)} distinct messages")
    features = PairFeaturiser(corpus).features(pairs)
    copies = features[:, FEATURES.index("copies_score")]
    show(f"copies score alone (threshold {THRESHOLD})", [figures(labels, copies, THRESHOLD)])
    if folds:
        runs = []
        for seed in range(shuffles):
            predicted = np.zeros(len(labels))
            for train, test in GroupKFold(folds, shuffle=True, random_state=seed).split(features, labels, groups):
                model = SameIssueModel().fit(features[train], labels[train])
                predicted[test] = model.probability(features[test])
            runs.append(figures(labels, predicted, SameIssueModel.THRESHOLD))
        show(f"same-issue score, grouped {folds}-fold CV x {shuffles} shuffles", runs)
    if train_first:
        model = SameIssueModel().fit(features[:train_first], labels[:train_first])
        held = slice(train_first, None)
        show(f"same-issue score trained on the first {train_first} pairs, on the other {len(pairs) - train_first}",
             [figures(labels[held], model.probability(features[held]), SameIssueModel.THRESHOLD)])
        show("copies score on those", [figures(labels[held], copies[held], THRESHOLD)])
    model = SameIssueModel().fit(features, labels)
    print("weights on the whole file (standardised features): " + ", ".join(
        f"{name} {weight:+.2f}" for name, weight in model.weights().items()))
