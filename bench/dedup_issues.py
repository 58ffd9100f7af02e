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
- ``--train-demo``: the project's own labelled pairs of the demo's proposals (``demo.issue_pairs``, what the shipped
  model is trained on) join every fold's training too, and the "trained only on other pairs" line.
With both, the other pairs are the two together.
- ``--more-labels LABELS.csv``: more labelled pairs among FILE's own messages (columns file, key1, key2, label,
  unsure: ``message_key`` of each message, judgement calls left out; bench/labels/issue_pairs_city.csv holds the
  project's own for issue_pairs_dev.csv). They join the grouping, so a group held out takes its added pairs with it,
  and the training of every fold whose training part holds their group; the figures stay those of FILE's own pairs.
  With ``--train-labels`` or ``--train-demo`` the model trained only on those other pairs is also measured on
  these added pairs: labels of the same board that no choice of the score was made on.
- ``--test-labels LABELS.csv``: also trained on the whole of FILE (and the demo's pairs with ``--train-demo``) and
  measured on the pairs of LABELS, another board's, each board's own messages as its corpus.
Each figure is given for the pair alone, with the place rule, and with a path through one other message
(``same_issue.through_one_other``, through the 19 messages nearest either end by the copies engine's rows).
idf and the place gazetteer are learned from the file's distinct messages (no labels), as a campaign's own
proposals would be. Prints figures; asserts nothing.
"""
import csv
import hashlib
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import GroupKFold

from suggestions.dedup import THRESHOLD
from suggestions.issue_text_words import Text, texts_of_pairs
from suggestions.issue_texts import FEATURES, IssueTexts
from suggestions.places import Places, places_conflict
from suggestions.same_issue import (
    SameIssueModel,
    connected_groups,
    group_weights,
    read_pairs_csv,
    through_one_other,
)


def read_pairs(path: str) -> tuple[list[tuple[Text, Text]], np.ndarray]:
    labelled = read_pairs_csv(path)
    return [(a, b) for a, b, _ in labelled], np.array([label for _, _, label in labelled])


def read_labelled_ids(labels_path: str, data_folder: Path) -> tuple[list[tuple[list[Text], np.ndarray, np.ndarray]],
                                                                    np.ndarray]:
    """Pairs named by message number in LABELS (judgement calls left out), per source file: (every message of the
    file, which is its corpus as a campaign's proposals would be; the labelled pairs as positions in it), and the
    labels in order."""
    with open(labels_path, encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["unsure"] == "0"]
    by_file, labels = [], []
    for name in sorted({r["file"] for r in rows}):
        with open(data_folder / f"{name}.csv", encoding="utf-8") as handle:
            messages = {m["留言编号"]: Text(m["留言主题"].strip(), m["留言详情"].strip())
                        for m in csv.DictReader(handle)}
        distinct = sorted(set(messages.values()), key=lambda t: t.whole)
        position = {text: k for k, text in enumerate(distinct)}
        chosen = [r for r in rows if r["file"] == name]
        by_file.append((distinct, np.array([position[messages[r["id1"]]] for r in chosen]),
                        np.array([position[messages[r["id2"]]] for r in chosen])))
        labels += [int(r["label"]) for r in chosen]
    return by_file, np.array(labels)


def train_on_labelled_ids(labels_path: str, data_folder: Path, features_only: bool = False):
    """A model trained only on the pairs of LABELS (see ``read_labelled_ids``), each group of connected pairs
    weighing the same, and those labels; with ``features_only``, (their features, labels, weights) instead."""
    by_file, labels = read_labelled_ids(labels_path, data_folder)
    features = np.vstack([IssueTexts(texts).features(i, j) for texts, i, j in by_file])
    weights = group_weights(connected_groups([((f, a), (f, b)) for f, (_, i, j) in enumerate(by_file)
                                              for a, b in zip(i.tolist(), j.tolist(), strict=True)]))
    if features_only:
        return features, labels, weights
    return SameIssueModel().fit(features, labels, sample_weight=weights), labels


def message_key(text: Text) -> str:
    """A message's name in a label file that holds no text: the first 12 hex digits of the SHA-1 of its title, a
    newline and its body, as FILE spells them."""
    return hashlib.sha1(f"{text.title}\n{text.body}".encode()).hexdigest()[:12]


def read_more_pairs(labels_path: str, texts: list[Text]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of LABELS among ``texts`` (by ``message_key``; judgement calls left out): positions and labels."""
    position = {message_key(text): k for k, text in enumerate(texts)}
    with open(labels_path, encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["unsure"] == "0" and r["key1"] in position
                and r["key2"] in position]
    return (np.array([position[r["key1"]] for r in rows], dtype=np.int64),
            np.array([position[r["key2"]] for r in rows], dtype=np.int64), np.array([int(r["label"]) for r in rows]))


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


def demo_features() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and weights (all 1) of the project's own labelled demo pairs, idf and gazetteer from their
    own texts."""
    from demo.issue_pairs import labelled_pairs

    labelled = labelled_pairs()
    pairs = [(a, b) for a, b, _ in labelled]
    texts, i, j = texts_of_pairs(pairs)
    return (IssueTexts(texts).features(i, j), np.array([label for _, _, label in labelled]),
            np.ones(len(labelled)))  # drawn balanced by construction: not weighed by group (same_issue.train_model)


class Paths:
    """What a path through one other message needs for each pair of a file: the messages it may go through (the
    ``nearest`` of each end by the copies engine's rows, as a campaign's index offers a draft its candidates) and
    the features of every link, computed once, so that each fold's model only scores them."""

    def __init__(self, corpus: IssueTexts, i: np.ndarray, j: np.ndarray, nearest: int = 19):
        rows = corpus.copies_rows
        ends = np.unique(np.concatenate([i, j]))
        likeness = (rows[ends] @ rows.T).toarray()
        near = {int(end): [int(c) for c in np.argsort(-likeness[k], kind="stable")[:nearest + 1] if c != end][:nearest]
                for k, end in enumerate(ends.tolist())}
        self.through = [sorted(set(near[a]) | set(near[b])) for a, b in zip(i.tolist(), j.tolist(), strict=True)]
        ends_of = zip(i.tolist(), j.tolist(), strict=True)
        links = sorted({(min(end, c), max(end, c)) for (a, b), cs in zip(ends_of, self.through, strict=True)
                        for c in cs if c not in (a, b) for end in (a, b)})
        self.row = {link: r for r, link in enumerate(links)}
        u, v = np.array(links, dtype=np.int64).reshape(-1, 2).T
        self.features = corpus.features(u, v)
        places = [Places.of(f"{t.title}\n{t.body}") for t in corpus.texts]
        self.apart = np.array([places[a].conflicts(places[b]) for a, b in links], dtype=bool)

    def scores(self, model: SameIssueModel, i: np.ndarray, j: np.ndarray, direct: np.ndarray,
               which: np.ndarray) -> np.ndarray:
        """``through_one_other`` for the pairs ``which`` (positions in the file), with ``model`` scoring the links."""
        probability = np.where(self.apart, 0.0, model.probability(self.features))

        def link_probability(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return probability[[self.row[(x, y)] for x, y in zip(a.tolist(), b.tolist(), strict=True)]]
        return through_one_other(i[which], j[which], direct, [self.through[k] for k in which], link_probability)


def run_issues(path: str, folds: int, shuffles: int, train_first: int, train_labels: str | None = None,
               train_demo: bool = False, more_labels: str | None = None, test_labels: str | None = None) -> None:
    pairs, labels = read_pairs(path)
    texts, i, j = texts_of_pairs(pairs)
    more_i, more_j, more_labels_ = read_more_pairs(more_labels, texts) if more_labels else (i[:0], j[:0], labels[:0])
    grouped = connected_groups(list(zip(np.concatenate([i, more_i]).tolist(), np.concatenate([j, more_j]).tolist(),
                                        strict=True)))
    groups, more_groups = grouped[:len(pairs)], grouped[len(pairs):]
    print(f"{len(pairs)} pairs ({labels.sum()} the same issue), {len(set(groups))} groups of connected messages, "
          f"{len(texts)} distinct messages" + (f"; {len(more_labels_)} more pairs of them from {more_labels} "
                                               f"({more_labels_.sum()} the same issue)" if more_labels else ""))
    corpus = IssueTexts(texts)
    features, more_features = corpus.features(i, j), corpus.features(more_i, more_j)
    paths = Paths(corpus, i, j)
    copies = features[:, FEATURES.index("copies_score")]
    apart = np.array([places_conflict(a.whole, b.whole) for a, b in pairs])
    print(f"place rule (clusters never join these): {apart[labels == 1].sum()} of {labels.sum()} same-issue pairs "
          f"({apart[labels == 1].mean():.1%}), {apart[labels == 0].sum()} of {(labels == 0).sum()} others "
          f"({apart[labels == 0].mean():.1%})")
    show(f"copies score alone (threshold {THRESHOLD})", [figures(labels, copies, THRESHOLD)])
    sources = ([train_labels] if train_labels else []) + (["the demo's labelled pairs"] if train_demo else [])
    others = [train_on_labelled_ids(train_labels, Path(path).parent, features_only=True)] if train_labels else []
    others += [demo_features()] if train_demo else []
    added = tuple(np.vstack([part[0] for part in others]) if k == 0 else np.concatenate([part[k] for part in others])
                  for k in range(3)) if others else None
    if folds:
        for name, extra in (("", None), (f" + {' and '.join(sources)} in every fold's training", added)):
            if name and extra is None:
                continue
            runs, ruled, pathed = [], [], []
            for seed in range(shuffles):
                predicted, through = np.zeros(len(labels)), np.zeros(len(labels))
                for train, test in GroupKFold(folds, shuffle=True, random_state=seed).split(features, labels, groups):
                    more = np.isin(more_groups, groups[train])
                    x, y = np.vstack([features[train], more_features[more]]), np.concatenate([labels[train],
                                                                                              more_labels_[more]])
                    w = group_weights(np.unique(np.concatenate([groups[train], more_groups[more]]),
                                                return_inverse=True)[1])
                    if extra is not None:
                        x, y, w = np.vstack([x, extra[0]]), np.concatenate([y, extra[1]]), np.concatenate([w, extra[2]])
                    model = SameIssueModel().fit(x, y, sample_weight=w)
                    predicted[test] = model.probability(features[test])
                    through[test] = paths.scores(model, i, j, predicted[test], test)
                runs.append(figures(labels, predicted, 0.5))
                ruled.append(figures(labels, np.where(apart, 0.0, predicted), 0.5))
                pathed.append(figures(labels, np.where(apart, 0.0, through), 0.5))
            show(f"same-issue score{name}, grouped {folds}-fold CV x {shuffles} shuffles", runs)
            show("  the same with the place rule (0 for a pair the rule keeps apart, as clusters do)", ruled)
            show("  the same with a path through one of the 19 messages nearest either end", pathed)
    if train_first:
        held_out = set(i[train_first:].tolist()) | set(j[train_first:].tolist())
        more = ~np.isin(more_i, list(held_out)) & ~np.isin(more_j, list(held_out))
        model = SameIssueModel().fit(
            np.vstack([features[:train_first], more_features[more]]),
            np.concatenate([labels[:train_first], more_labels_[more]]),
            sample_weight=group_weights(connected_groups(list(zip(
                np.concatenate([i[:train_first], more_i[more]]).tolist(),
                np.concatenate([j[:train_first], more_j[more]]).tolist(), strict=True)))))
        held = np.arange(train_first, len(pairs))
        direct = model.probability(features[held])
        show(f"same-issue score trained on the first {train_first} pairs, on the other {len(pairs) - train_first}",
             [figures(labels[held], direct, 0.5)])
        show("  with the place rule", [figures(labels[held], np.where(apart[held], 0.0, direct), 0.5)])
        show("  with the place rule and a path through one other message",
             [figures(labels[held], np.where(apart[held], 0.0, paths.scores(model, i, j, direct, held)), 0.5)])
        show("copies score on those", [figures(labels[held], copies[held], THRESHOLD)])
    if added is not None:
        model = SameIssueModel().fit(added[0], added[1], sample_weight=added[2])
        scores = model.probability(features)
        show(f"same-issue score trained only on {len(added[1])} pairs of {' and '.join(sources)} "
             f"({added[1].sum()} the same issue), on the whole file", [figures(labels, scores, 0.5)])
        show("  the same with the place rule", [figures(labels, np.where(apart, 0.0, scores), 0.5)])
        show("  the same with a path through one other message", [figures(labels, np.where(
            apart, 0.0, paths.scores(model, i, j, scores, np.arange(len(pairs)))), 0.5)])
        print("its weights: " + ", ".join(f"{name} {weight:+.2f}" for name, weight in model.weights().items()))
        if len(more_labels_):  # labels the path was not chosen on, among messages with hot issues
            print(f"the same model on the {len(more_labels_)} pairs of {more_labels} ({more_labels_.sum()} the same "
                  f"issue; none of FILE's labels in its training):")
            show_three(more_labels_, three_scores(model, corpus, more_i, more_j))
    model = SameIssueModel().fit(features, labels, sample_weight=group_weights(groups))
    if test_labels:
        demo = demo_features() if train_demo else None
        trained = model if demo is None else SameIssueModel().fit(
            np.vstack([features, demo[0]]), np.concatenate([labels, demo[1]]),
            sample_weight=np.concatenate([group_weights(groups), demo[2]]))
        run_other_board(trained, test_labels, Path(path).parent,
                        f"trained on the whole of {path}" + (" and the demo's pairs" if train_demo else ""))
    print("weights on the whole file (standardised features): " + ", ".join(
        f"{name} {weight:+.2f}" for name, weight in model.weights().items()))


def three_scores(model: SameIssueModel, corpus: IssueTexts, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Each pair's score alone, with the place rule, and with the place rule and a path through one other text."""
    direct = model.probability(corpus.features(i, j))
    apart = np.array([places_conflict(corpus.texts[a].whole, corpus.texts[b].whole)
                      for a, b in zip(i.tolist(), j.tolist(), strict=True)], dtype=bool)
    return [direct, np.where(apart, 0.0, direct),
            np.where(apart, 0.0, Paths(corpus, i, j).scores(model, i, j, direct, np.arange(len(i))))]


def show_three(labels: np.ndarray, scores: list[np.ndarray]) -> None:
    for name, score in zip(("the pair alone", "with the place rule", "with the place rule and a path through one "
                            "other message"), scores, strict=True):
        show(f"  {name}", [figures(labels, score, 0.5)])


def run_other_board(model: SameIssueModel, labels_path: str, data_folder: Path, trained_on: str) -> None:
    """The model's figures on the labelled pairs of another board (message numbers, ``read_labelled_ids``), each
    board's messages being its corpus; alone, with the place rule, and with a path through one other message."""
    by_file, labels = read_labelled_ids(labels_path, data_folder)
    per_file = [three_scores(model, IssueTexts(texts), i, j) for texts, i, j in by_file]
    print(f"{labels_path} ({len(labels)} pairs, {labels.sum()} the same issue; each board's own messages as corpus), "
          f"{trained_on}:")
    show_three(labels, [np.concatenate(scores) for scores in zip(*per_file, strict=True)])


def run_hint_floor(path: str, train_labels: str | None, floors=(0.05, 0.1, 0.15, 0.2, 0.33), seed: int = 3) -> None:
    """How many same-issue pairs a typing hint would offer at each floor of the whole text's copies score
    (``suggestions.similar.RELATED_FLOOR``), against random pairs of the same messages (what a floor lets in)."""
    from suggestions.dedup import pair_similarities

    pairs, labels = read_pairs(path)
    texts = sorted({t.whole for pair in pairs for t in pair})
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(texts), 5000), rng.integers(0, len(texts), 5000)
    keep = a != b
    shown = [(f"{path}, same-issue pairs", pair_similarities([p[0].whole for p in pairs], [p[1].whole for p in pairs])
              [labels == 1]),
             (f"{path}, random pairs of its messages", pair_similarities([texts[k] for k in a[keep]],
                                                                        [texts[k] for k in b[keep]]))]
    if train_labels:
        by_file, other = read_labelled_ids(train_labels, Path(path).parent)
        scores = np.concatenate([pair_similarities([texts_[k].whole for k in i], [texts_[k].whole for k in j])
                                 for texts_, i, j in by_file])
        shown.append((f"{train_labels}, same-issue pairs", scores[other == 1]))
    print("share of pairs whose whole texts' copies score reaches each floor:")
    for name, scores in shown:
        print(f"  {name} ({len(scores)}): " + ", ".join(f"{floor} {np.mean(scores >= floor):.1%}" for floor in floors))


def run_hint_model(path: str, others: int = 19, seed: int = 3) -> None:
    """Typing hints scored by the model in use (``suggestions.same_issue.issue_probabilities``): each labelled pair
    of FILE, and as many random pairs of its messages, scored as a hint is, in a corpus of the two texts and
    ``others`` other messages of the file (a draft and its candidates); the shipped model, trained on the demo's
    own pairs only. Against the same pairs scored with the whole file as corpus."""
    import time

    from suggestions.issue_text_words import _remembered_words
    from suggestions.issue_texts import shipped_background
    from suggestions.same_issue import SHIPPED_MODEL, issue_probabilities

    pairs, labels = read_pairs(path)
    texts, i, j = texts_of_pairs(pairs)
    model = SameIssueModel.load(SHIPPED_MODEL)
    whole = model.probability(IssueTexts(texts).features(i, j))
    rng = np.random.default_rng(seed)

    def as_hint(a: Text, b: Text) -> float:
        corpus = [texts[k] for k in rng.choice(len(texts), others, replace=False)]
        return issue_probabilities(a, [b, *corpus], model)[0]
    hint = np.array([as_hint(a, b) for a, b in pairs])
    rows = IssueTexts(texts).copies_rows
    likeness = (rows @ rows.T).toarray()
    background = shipped_background()

    def among_nearest(a: int, b: int) -> tuple[float, float]:  # the draft's candidates as its index finds them
        candidates = [texts[b], *(texts[int(c)] for c in np.argsort(-likeness[a], kind="stable")
                                  if c not in (a, b))][:others + 1]
        alone = model.probability(IssueTexts([texts[a], *candidates], background=background).features([0], [1]))[0]
        return alone, issue_probabilities(texts[a], candidates, model)[0]
    alone, near = np.array([among_nearest(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)]).T
    a, b = rng.integers(0, len(texts), 1000), rng.integers(0, len(texts), 1000)
    random_scores = np.array([as_hint(texts[x], texts[y]) for x, y in zip(a, b, strict=True) if x != y])
    cold, warm = [], []  # a draft's first pause (no text's words known yet), then a later one (candidates' known)
    for start in range(0, 200 * (others + 1), others + 1):
        corpus = [texts[k % len(texts)] for k in range(start, start + others + 1)]
        _remembered_words.cache_clear()
        for seconds in (cold, warm):
            started = time.perf_counter()
            issue_probabilities(corpus[0], corpus[1:], model)
            seconds.append((time.perf_counter() - started) * 1000)
    show("shipped model, the whole file as corpus", [figures(labels, whole, model.threshold)])
    show(f"shipped model as typing hints score (a pair and {others} other messages as corpus)",
         [figures(labels, hint, model.threshold)])
    show(f"  the same, the {others} messages nearest the first of the pair as the other candidates, the pair alone",
         [figures(labels, alone, model.threshold)])
    show("  the same with a path through one other candidate (what hints show)",
         [figures(labels, near, model.threshold)])
    print(f"  labelled the same issue (≥ {model.threshold}): {np.mean(hint[labels == 1] >= model.threshold):.1%} of "
          f"same-issue pairs, {np.mean(hint[labels == 0] >= model.threshold):.1%} of the others, "
          f"{np.mean(random_scores >= model.threshold):.1%} of {len(random_scores)} random pairs of its messages")
    print(f"  scoring one draft against {others} candidates (200 drafts): at its first pause p50 "
          f"{np.percentile(cold, 50):.1f} ms, p95 {np.percentile(cold, 95):.1f} ms; at a later pause, the candidates' "
          f"words known: p50 {np.percentile(warm, 50):.1f} ms, p95 {np.percentile(warm, 95):.1f} ms")
