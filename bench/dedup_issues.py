"""Same-issue pairs: how well the learned score (suggestions.same_issue) and the copies score tell real citizens'
messages about one issue from the rest. ``python -m bench.dedup issues FILE.csv [--cv 5] [--shuffles 5]
[--train-first N]``; FILE has columns title1, body1, title2, body2, label (1 = the same issue).

- Grouped cross-validation: the pairs are grouped by connected messages (two pairs sharing a message, directly or
  through others, are one group), so a whole complaint campaign is held out at once and no message is in both the
  training and the test part; repeated with several shuffles of the groups into folds, and the spread given.
- ``--train-first N``: trained on the file's first N pairs, measured on the rest (the pairs after N were sampled
  for hard cases).
- ``--train-labels LABELS.csv``: trained only on other labelled pairs (columns file, id1, id2, label, unsure:
  message numbers of ``<file>.csv`` in FILE's folder; bench/labels/ holds the project's own), the judgement calls
  left out, and measured on the whole of FILE, none of whose labels it saw.
idf and the place gazetteer are learned from the file's distinct messages (no labels), as a campaign's own
proposals would be. Prints figures; asserts nothing.
"""
import csv
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import GroupKFold

from suggestions.dedup import THRESHOLD
from suggestions.places import places_conflict
from suggestions.same_issue import FEATURES, PairFeaturiser, SameIssueModel, Text


def read_pairs(path: str) -> tuple[list[tuple[Text, Text]], np.ndarray]:
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(Text(r["title1"].strip(), r["body1"].strip()), Text(r["title2"].strip(), r["body2"].strip()))
             for r in rows]
    return pairs, np.array([int(r["label"]) for r in rows])


def read_labelled_ids(labels_path: str, data_folder: Path) -> tuple[list[tuple[list[str], list]], np.ndarray]:
    """Pairs named by message number in LABELS (judgement calls left out), per source file: (every message of the
    file, which is its corpus as a campaign's proposals would be; its labelled pairs), and the labels in order."""
    with open(labels_path, encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["unsure"] == "0"]
    by_file, labels = [], []
    for name in sorted({r["file"] for r in rows}):
        with open(data_folder / f"{name}.csv", encoding="utf-8") as handle:
            messages = {m["留言编号"]: Text(m["留言主题"].strip(), m["留言详情"].strip())
                        for m in csv.DictReader(handle)}
        chosen = [r for r in rows if r["file"] == name]
        by_file.append((sorted({m.whole for m in messages.values()}),
                        [(messages[r["id1"]], messages[r["id2"]]) for r in chosen]))
        labels += [int(r["label"]) for r in chosen]
    return by_file, np.array(labels)


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


def run_issues(path: str, folds: int, shuffles: int, train_first: int, train_labels: str | None = None) -> None:
    pairs, labels = read_pairs(path)
    groups = message_groups(pairs)
    corpus = sorted({message.whole for pair in pairs for message in pair})
    print(f"{len(pairs)} pairs ({labels.sum()} the same issue), {len(set(groups))} groups of connected messages, "
          f"{len(corpus)} distinct messages")
    features = PairFeaturiser(corpus).features(pairs)
    copies = features[:, FEATURES.index("copies_score")]
    apart = np.array([places_conflict(a.whole, b.whole) for a, b in pairs])
    print(f"place rule (clusters never join these): {apart[labels == 1].sum()} of {labels.sum()} same-issue pairs "
          f"({apart[labels == 1].mean():.1%}), {apart[labels == 0].sum()} of {(labels == 0).sum()} others "
          f"({apart[labels == 0].mean():.1%})")
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
    if train_labels:
        by_file, other_labels = read_labelled_ids(train_labels, Path(path).parent)
        other = np.vstack([PairFeaturiser(corpus).features(pairs_of_file) for corpus, pairs_of_file in by_file])
        model = SameIssueModel().fit(other, other_labels)
        show(f"same-issue score trained only on {len(other_labels)} pairs of {train_labels} "
             f"({other_labels.sum()} the same issue), on the whole file",
             [figures(labels, model.probability(features), SameIssueModel.THRESHOLD)])
        print("its weights: " + ", ".join(f"{name} {weight:+.2f}" for name, weight in model.weights().items()))
    model = SameIssueModel().fit(features, labels)
    print("weights on the whole file (standardised features): " + ", ".join(
        f"{name} {weight:+.2f}" for name, weight in model.weights().items()))
