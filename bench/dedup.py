"""Near-duplicate engine benchmark (suggestions.dedup): pair quality, cluster quality, speed at scale.

    python -m bench.dedup pairs FILE.csv [--cv 5]             # columns sentence1, sentence2, label
    python -m bench.dedup issues FILE.csv [--cv 5] [--train-labels bench/labels/issue_pairs_provincial.csv]
        [--train-demo] [--test-labels bench/labels/issue_pairs_provincial.csv]
    python -m bench.dedup hint-floor FILE.csv [--train-labels bench/labels/issue_pairs_provincial.csv]
        # also the shipped model's figures as typing hints score, and their cost
    python -m bench.dedup issues-e2e FILE.csv [--train-labels bench/labels/issue_pairs_provincial.csv]
    python -m bench.dedup clusters FILE.csv --text-col COL --label-col COL
    python -m bench.dedup speed --n 100000 [--queries 1000] [--jobs 2]
    python -m bench.dedup speed --n 1000000 --skip-index     # clustering of the whole corpus only
    python -m bench.dedup command --n 100000 --processes 1 2  # `flask suggestions cluster` itself

``speed`` builds proposals (bench/dedup_corpus.py) from the demo generator's sentences (``originals``) and
plants near-duplicates of some (``variant``: 10–30% of characters edited by synonyms, dropped, inserted or
swapped clauses, typos, a sentence in Traditional, greetings); it reports clustering precision/recall on the
planted pairs, time and memory, and top-k query latency and recall.
Prints figures; asserts nothing.
"""
import argparse
import csv
import gc
import math
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from bench.dedup_corpus import corpus, edit_fractions, planted_pair_scores
from core.config import DefaultConfig as Config
from suggestions import dedup
from suggestions.issue_groups import join_issues
from suggestions.issue_text_words import Text, words_of
from suggestions.same_issue import SHIPPED_MODEL, SameIssueModel

# --- pairs -----------------------------------------------------------------------------------------------------


def pair_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    tp = int((predicted & (labels == 1)).sum())
    precision = tp / max(predicted.sum(), 1)
    recall = tp / max((labels == 1).sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": float((predicted == labels).mean())}


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    candidates = np.unique(np.round(scores, 3))
    return round(float(max(candidates, key=lambda t: pair_metrics(scores, labels, t)["f1"])), 3)


def show(name: str, m: dict[str, float]) -> None:
    print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in m.items()))


def cross_validate(scores: np.ndarray, labels: np.ndarray, k: int) -> None:
    """k-fold estimate of F1 with the threshold picked on k − 1 folds and applied to the held-out one (the
    similarity itself has no fitted constants since the short-text penalty went; idf needs no labels)."""
    folds = np.random.default_rng(0).permutation(len(labels)) % k
    f1s = []
    for fold in range(k):
        test = folds == fold
        threshold = best_threshold(scores[~test], labels[~test])
        f1s.append(pair_metrics(scores[test], labels[test], threshold)["f1"])
        print(f"  fold {fold + 1}/{k}: threshold picked on the other folds {threshold}, held-out F1 {f1s[-1]:.4f}")
    print(f"{k}-fold cross-validation, threshold refitted per fold: held-out F1 mean {statistics.mean(f1s):.4f} "
          f"(sd {statistics.stdev(f1s):.4f})")


def run_pairs(path: str, cv: int = 0) -> None:
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    labels = np.array([int(r["label"]) for r in rows])
    t = time.perf_counter()
    scores = dedup.pair_similarities([r["sentence1"] for r in rows], [r["sentence2"] for r in rows])
    print(f"{len(rows)} pairs scored in {time.perf_counter() - t:.1f} s (idf fitted on the file's own sentences)")
    show(f"configured threshold {dedup.THRESHOLD}", pair_metrics(scores, labels, dedup.THRESHOLD))
    show("calling every pair a paraphrase", pair_metrics(np.ones(len(labels)), labels, 0.5))
    best = best_threshold(scores, labels)
    show(f"best threshold on this file {best} (in-sample)", pair_metrics(scores, labels, best))
    if cv:
        cross_validate(scores, labels, cv)


# --- clusters --------------------------------------------------------------------------------------------------


def cluster_metrics(predicted: list, truth: list) -> dict[str, float]:
    """Pairwise precision/recall/F1, adjusted Rand index and B-cubed F1 of two labelings of the same items."""
    pairs_pred = Counter(predicted)
    pairs_true = Counter(truth)
    both = Counter(zip(predicted, truth, strict=True))
    same_both = sum(c * (c - 1) / 2 for c in both.values())
    same_pred = sum(c * (c - 1) / 2 for c in pairs_pred.values())
    same_true = sum(c * (c - 1) / 2 for c in pairs_true.values())
    precision = same_both / same_pred if same_pred else 1.0
    recall = same_both / same_true if same_true else 1.0
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    b_precision = statistics.mean(both[(p, t)] / pairs_pred[p] for p, t in zip(predicted, truth, strict=True))
    b_recall = statistics.mean(both[(p, t)] / pairs_true[t] for p, t in zip(predicted, truth, strict=True))
    return {"pair_precision": precision, "pair_recall": recall, "pair_f1": f1,
            "ari": adjusted_rand_score(truth, predicted),
            "bcubed_f1": 2 * b_precision * b_recall / max(b_precision + b_recall, 1e-12)}


def run_clusters(path: str, text_col: str, label_col: str) -> None:
    with open(path, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r[text_col].strip()]
    t = time.perf_counter()
    result = dedup.cluster([(i, r[text_col], None) for i, r in enumerate(rows)])
    elapsed = time.perf_counter() - t
    labels = result.labels()
    predicted = [labels[i] for i in range(len(rows))]
    print(f"{len(rows)} texts, {len(set(predicted))} clusters ({len(result.clusters())} with ≥ 2 members) "
          f"in {elapsed:.1f} s at threshold {dedup.THRESHOLD}")
    show("against " + label_col, cluster_metrics(predicted, [r[label_col] for r in rows]))


# --- speed (the planted corpus: bench/dedup_corpus.py) -----------------------------------------------------

def _anonymous_mib() -> float:
    """This process's own (anonymous) memory, from /proc: what mapping a saved index adds beyond shared pages."""
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _mapped_rss_mib(folder: Path) -> float:
    """Resident pages of this process's mappings of files under ``folder``."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if not line[:1].isupper():  # a mapping's header line: address range, permissions, …, path
            inside = str(folder) in line
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total / 1024


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def peak_child_rss_gib() -> float:
    """Peak RSS of the largest finished worker process (forked, so it shares most pages with this one)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def _as_proposal(text: str) -> Text:
    """A planted text as a proposal: its first sentence (at most 40 characters) as the title."""
    end = min([k for k in (text.find("。"), text.find("，"), 40) if k > 0])
    return Text(text[:end], text[end:].lstrip("。，"))


def run_speed(n: int, queries: int, jobs: int, seed: int, skip_index: bool, by_issue: bool = True,
              skip_clustering: bool = False, index_folder: str | None = None, join_above_limit: bool = False) -> None:
    t = time.perf_counter()
    texts, origin = corpus(n, seed)
    fractions = statistics.quantiles(edit_fractions(texts, origin), n=20)
    print(f"corpus: {n} proposals, mean {statistics.mean(map(len, texts)):.0f} characters, "
          f"{sum(o != i for i, o in enumerate(origin))} planted variants ({time.perf_counter() - t:.1f} s); "
          f"edit share of variants (1 − difflib ratio) p5 {fractions[0]:.2f}, median {fractions[9]:.2f}, "
          f"p95 {fractions[18]:.2f}")
    dedup.normalise("预热")  # load OpenCC before timing
    items = [(i, text, None) for i, text in enumerate(texts)]
    if not skip_clustering:
        _time_clustering(texts, origin, items, jobs, by_issue, join_above_limit)
    if not skip_index:
        _time_queries(texts, origin, items, jobs, queries, seed, index_folder)
    print(f"peak memory (ru_maxrss, whole run): {peak_rss_gib():.2f} GiB")


def _time_clustering(texts: list[str], origin: list[int], items: list, jobs: int, by_issue: bool,
                     join_above_limit: bool) -> None:
    n = len(texts)
    t = time.perf_counter()
    result = dedup.cluster(items, n_jobs=jobs)
    elapsed = time.perf_counter() - t
    labels = result.labels()
    precision, recall = planted_pair_scores([labels[i] for i in range(n)], origin)
    variants = sum(o != i for i, o in enumerate(origin))
    print(f"clustering: {elapsed:.1f} s (featurisation included, {jobs} processes), "
          f"{len(result.clusters())} clusters with ≥ 2 members; planted pairs precision {precision:.4f}, "
          f"recall {recall:.4f} ({round(recall * variants)} of {variants} variants with their original: the target "
          f"0.95 needs {math.ceil(0.95 * variants)}); peak memory so far (ru_maxrss) {peak_rss_gib():.2f} GiB, "
          f"largest worker {peak_child_rss_gib():.2f} GiB")
    if by_issue and n > Config.ISSUE_GROUPING_MAX_PROPOSALS and not join_above_limit:
        print(f"not joined by issue: {n} proposals is above ISSUE_GROUPING_MAX_PROPOSALS "
              f"({Config.ISSUE_GROUPING_MAX_PROPOSALS}), so `flask suggestions cluster` groups copies only")
    elif by_issue:  # as `flask suggestions cluster` does: copy groups joined by issue, with the shipped model
        # Words are cut once a proposal and kept (suggestions.issue_words): the first clustering cuts them all,
        # the next ones only what is new or edited since.
        t = time.perf_counter()
        proposals = [_as_proposal(text) for text in texts]
        words = words_of(proposals, jobs)
        cutting = time.perf_counter() - t
        t = time.perf_counter()
        rows = [labels[i] for i in range(n)]
        grouping = join_issues(proposals, rows, result.pairs, SameIssueModel.load(SHIPPED_MODEL), n_jobs=jobs,
                               words=words)
        joining = time.perf_counter() - t
        precision, recall = planted_pair_scores(grouping.representative, origin)
        joined = sum(r != c for r, c in zip(grouping.representative, rows, strict=True))
        sizes = sorted(Counter(grouping.representative).values(), reverse=True)
        print(f"joined by issue: {cutting + joining:.1f} s more ({elapsed + cutting + joining:.1f} s in all) the "
              f"first time, of it {cutting:.1f} s cutting words with jieba; {joining:.1f} s more "
              f"({elapsed + joining:.1f} s in all) with the words kept from before; {joined} proposals moved to "
              f"another copy group's cluster; planted pairs precision {precision:.4f}, recall {recall:.4f}; peak "
              f"memory so far {peak_rss_gib():.2f} GiB; largest clusters {sizes[:5]} (copies only: "
              f"{sorted(Counter(rows).values(), reverse=True)[:5]})")


def _time_queries(texts: list[str], origin: list[int], items: list, jobs: int, queries: int, seed: int,
                  index_folder: str | None) -> None:
    """Top-5 queries on the saved index, mapped as a serving process maps it (suggestions.similarity_index). With
    ``index_folder`` the index is kept there, and reused when it is already there (the million takes 12 minutes
    to build)."""
    folder = Path(index_folder) if index_folder else Path(tempfile.mkdtemp(prefix="bench-dedup-")) / "index"
    if not (folder / "meta.json").exists():
        t = time.perf_counter()
        index = dedup.Index(items, n_jobs=jobs)
        print(f"index build: {time.perf_counter() - t:.1f} s")
        index.save(folder)
        del index
        gc.collect()
    else:
        print(f"index: reusing {folder}")
    own_before = _anonymous_mib()
    index, _meta = dedup.Index.load(folder)
    variants = [i for i, o in enumerate(origin) if o != i]
    sample = random.Random(seed).sample(variants, min(queries, len(variants)))
    timings, top1, top5 = [], 0, 0
    for i in sample:
        t = time.perf_counter()
        found = [m.id for m in index.query(texts[i], 5, exclude={i})]
        timings.append((time.perf_counter() - t) * 1000)
        top1 += found[:1] == [origin[i]]
        top5 += origin[i] in found
    q = statistics.quantiles(timings, n=100)
    print(f"top-5 query over {len(sample)} planted variants, on the saved index mapped as a serving process maps "
          f"it: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms; original ranked first {top1 / len(sample):.3f}, in top 5 "
          f"{top5 / len(sample):.3f}")
    print(f"the mapped index: {sum(f.stat().st_size for f in folder.iterdir()) / 2**20:.0f} MiB on disk, of it "
          f"{_mapped_rss_mib(folder):.0f} MiB resident after the queries (page cache, shared by every process that "
          f"maps it); this process's own memory changed by {_anonymous_mib() - own_before:+.0f} MiB")
    if not index_folder:
        shutil.rmtree(folder.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("file")
    p.add_argument("--cv", type=int, default=0, help="k-fold estimate with the threshold refitted per fold")
    i = sub.add_parser("issues", help="same-issue pairs (bench/dedup_issues.py)")
    i.add_argument("file")
    i.add_argument("--cv", type=int, default=5, help="folds of the grouped cross-validation (0: none)")
    i.add_argument("--shuffles", type=int, default=5, help="repeats of the CV with other folds")
    i.add_argument("--train-first", type=int, default=564, help="train on the first N pairs, test the rest (0: no)")
    i.add_argument("--train-labels", help="train only on these labelled pairs (bench/labels/), test on the whole FILE")
    i.add_argument("--train-demo", action="store_true", help="add the demo's labelled pairs to every training")
    i.add_argument("--more-labels", help="more labelled pairs of FILE's own messages, joined to the grouped folds")
    i.add_argument("--test-labels", help="also train on the whole FILE (and the demo's pairs with --train-demo) and "
                                         "measure on these labelled pairs of another board (bench/labels/)")
    h = sub.add_parser("hint-floor", help="same-issue pairs a typing hint offers at each floor (bench/dedup_issues.py)")
    h.add_argument("file")
    h.add_argument("--train-labels", help="also the same-issue pairs of these labelled message numbers")
    e = sub.add_parser("issues-e2e", help="clusters by issue through the flask commands (bench/dedup_e2e.py)")
    e.add_argument("file")
    e.add_argument("--train-labels", help="train the model on these labelled message numbers first")
    e.add_argument("--train-pairs", help="train the model on this labelled pairs CSV first")
    e.add_argument("--database-url", help="default: a scratch SQLite file")
    c = sub.add_parser("clusters")
    c.add_argument("file")
    c.add_argument("--text-col", required=True)
    c.add_argument("--label-col", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--n", type=int, default=100_000)
    s.add_argument("--queries", type=int, default=1000)
    s.add_argument("--jobs", type=int, default=2)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--skip-index", action="store_true", help="only time clustering (the 1M run)")
    s.add_argument("--copies-only", action="store_true", help="skip joining copy groups by issue")
    s.add_argument("--join-above-limit", action="store_true",
                   help="join by issue above ISSUE_GROUPING_MAX_PROPOSALS too (to measure what raising it costs)")
    s.add_argument("--skip-clustering", action="store_true", help="only time the index and its queries")
    s.add_argument("--index-folder", help="keep the saved index here, and reuse it when it is there")
    m = sub.add_parser("command", help="`flask suggestions cluster` on the planted corpus (bench/dedup_command.py)")
    m.add_argument("--n", type=int, default=100_000)
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="one run per value, in this order")
    m.add_argument("--kinds", nargs="+", choices=["copies", "issue"], default=["copies", "issue"])
    m.add_argument("--folder", help="keep the scratch instance here, and reuse it when it holds the corpus")
    m.add_argument("--again", action="store_true", help="run each command a second time, words and keywords kept")
    args = parser.parse_args()
    if args.command == "command":
        from bench.dedup_command import run_command
        run_command(args.n, args.seed, args.processes, args.folder, args.kinds, args.again)
    elif args.command == "pairs":
        run_pairs(args.file, args.cv)
    elif args.command == "issues":
        from bench.dedup_issues import run_issues
        run_issues(args.file, args.cv, args.shuffles, args.train_first, args.train_labels, args.train_demo,
                   args.more_labels, args.test_labels)
    elif args.command == "hint-floor":
        from bench.dedup_issues import run_hint_floor, run_hint_model
        run_hint_floor(args.file, args.train_labels)
        run_hint_model(args.file)
    elif args.command == "issues-e2e":
        from bench.dedup_e2e import run_issues_e2e
        run_issues_e2e(args.file, args.train_labels, args.train_pairs, args.database_url)
    elif args.command == "clusters":
        run_clusters(args.file, args.text_col, args.label_col)
    else:
        run_speed(args.n, args.queries, args.jobs, args.seed, args.skip_index, not args.copies_only,
                  args.skip_clustering, args.index_folder, args.join_above_limit)


if __name__ == "__main__":
    main()
