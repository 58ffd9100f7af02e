"""Near-duplicate engine benchmark (suggestions.dedup): pair quality, cluster quality, speed at scale.

    python -m bench.dedup pairs FILE.csv [--cv 5]             # columns sentence1, sentence2, label
    python -m bench.dedup issues FILE.csv [--cv 5] [--train-labels bench/labels/issue_pairs_provincial.csv]
    python -m bench.dedup clusters FILE.csv --text-col COL --label-col COL
    python -m bench.dedup speed --n 100000 [--queries 1000] [--jobs 2]
    python -m bench.dedup speed --n 1000000 --skip-index     # clustering of the whole corpus only

``speed`` builds proposals from the demo generator's sentences (``originals``) and plants near-duplicates of
some (``variant``: 10–30% of characters edited by synonyms, dropped/inserted/swapped clauses, typos, a sentence
in Traditional, greetings); it reports clustering precision/recall on the planted pairs, time and memory, and
top-k query latency and recall.
Prints figures; asserts nothing.
"""
import argparse
import csv
import difflib
import gc
import random
import re
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from demo import phrases as demo_phrases
from demo.content import MIXES, generate_proposals
from suggestions import dedup

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


# --- speed -----------------------------------------------------------------------------------------------------

SYNONYMS = {**demo_phrases.SYNONYMS, "建议": ["希望", "恳请", "提议"], "希望": ["期望", "盼望", "恳请"],
            "解决": ["处理", "整改"], "非常": ["十分", "特别", "很"], "小区": ["社区", "院子"],
            "问题": ["情况", "事情"],
            "居民": ["住户", "群众"], "政府": ["有关方面", "相关单位"], "很": ["非常", "挺"], "由于": ["因为"]}
SYNONYM_RE = re.compile("|".join(sorted(SYNONYMS, key=len, reverse=True)))
FILLERS = demo_phrases.EXTRA_CLAUSES + ["说实话，", "这件事拖了很久，", "我再补充一点，", "据我了解，", "请务必重视，",
                                       "大家都很着急。", "麻烦尽快回复。", "我已经打过热线电话。"]
EDIT_BUDGET = (0.16, 0.46)
"""Share of characters a variant edits, drawn uniformly (insertions count fully here, half in difflib terms)."""
NOISE_CHARS = "的一是在不了有和人这中大为上个我以要他时来用们生到作地于出就分对成会可发年动同工也能下过子说多行家里小"
CLAUSE_RE = re.compile(r"[^。；！？\n]+[。；！？\n]?")
PHRASE_RE = re.compile(r"[^，。；！？\n]+[，。；！？\n]?")


NAME_CHARS = "东西南北中新老金银青红白长安平和兴华建明光康宁福泰丰顺永春秋云山河湖海桥林松柏梅兰竹菊嘉瑞祥荣"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
ROADS = ["路", "大道", "街", "巷", "大街"]
ESTATES = ["花园", "小区", "新村", "家园", "公寓", "苑", "府", "雅居", "名都", "佳园"]
SPOTS = ["路口", "超市门口", "菜市场旁", "公交站", "天桥下", "幼儿园门口", "药店旁", "银行门口", "公园东门",
         "停车场出口"]
DETAILS = ["我家住在{place}{a}号楼{b}单元。", "{month}月{day}日那天，我在{spot}又遇到了这种情况。",
           "联系人：{name}，电话1{phone}。", "涉及{place}等{c}户居民。",
           "这个情况从{year}年{month}月开始，已经{b}个多月了。",
           "我们{place}的{name}等{b}位邻居都签了名。", "离{spot}大概{c}米。"]


def _name(rng: random.Random, k: int = 2) -> str:
    return "".join(rng.choice(NAME_CHARS) for _ in range(k))


def detail(rng: random.Random) -> str:
    """A specific detail of the kind real proposals carry: a named place, a date, a contact, a count."""
    place = _name(rng) + rng.choice(ROADS) + str(rng.randint(1, 399)) + "号" + _name(rng) + rng.choice(ESTATES)
    return rng.choice(DETAILS).format(
        place=place, spot=_name(rng) + rng.choice(ROADS) + _name(rng) + rng.choice(SPOTS),
        name=rng.choice(SURNAMES) + _name(rng, rng.randint(1, 2)), phone=rng.randint(3_000_000_000, 9_999_999_999),
        a=rng.randint(1, 60), b=rng.randint(2, 30), c=rng.randint(20, 900), year=rng.randint(2015, 2025),
        month=rng.randint(1, 12), day=rng.randint(1, 28))


def originals(seed: int, n: int):
    """n distinct base proposals (150–400 characters) built from the demo generator's sentences.

    Demo originals on one topic differ only in a few slots and score up to 0.93 against each other (duplicates
    in all but name), so a base proposal here is one demo original's title followed by sentences drawn from
    different originals of the same category, each sentence used once, with two or three specific details (a
    named place, a date, a contact, a count) in between. The demo's near-duplicates, re-posts and
    draft-comment campaign (which quotes the same clause in every comment) are skipped.
    """
    rng = random.Random(seed)
    batch, made = 0, 0
    while made < n:
        pools: dict[str, list[list[str]]] = {}
        for p in generate_proposals(seed * 1000 + batch, 20_000):
            if p["near_duplicate_of"] is None and not MIXES[p["campaign"]].draft:
                sentences = CLAUSE_RE.findall(p["body"])
                if sentences:
                    pools.setdefault(p["category"], []).append([p["title"] + "。", *sentences])
        batch += 1
        for pool in pools.values():
            while len(pool) > 20 and made < n:
                sentences, target = [pool.pop(rng.randrange(len(pool)))[0]], rng.randint(150, 400)
                while sum(map(len, sentences)) < target - 30 and len(pool) > 20:
                    k = rng.randrange(len(pool))
                    source = pool[k]
                    sentences.append(source.pop(rng.randrange(1, len(source))))
                    if len(source) == 1:
                        pool[k] = pool[-1]
                        pool.pop()
                for _ in range(rng.randint(2, 3)):
                    sentences.insert(rng.randrange(1, len(sentences) + 1), detail(rng))
                made += 1
                yield "".join(sentences)


def variant(text: str, rng: random.Random, to_traditional) -> str:
    """A near-duplicate of one original with a drawn 10–30% of its characters edited: synonyms swapped, clauses
    dropped, inserted or swapped, a few characters mistyped, one sentence in Traditional, greeting/sign-off."""
    clauses = PHRASE_RE.findall(text)
    budget, edited = len(text) * rng.uniform(*EDIT_BUDGET), 0
    while edited < budget:
        op, i = rng.random(), rng.randrange(len(clauses))
        old = clauses[i]
        if op < 0.35:
            new = SYNONYM_RE.sub(lambda m: rng.choice(SYNONYMS[m.group()]) if rng.random() < 0.5 else m.group(), old)
            edited += sum(a != b for a, b in zip(old, new, strict=False)) + abs(len(new) - len(old))
            clauses[i] = new
        elif op < 0.5 and len(clauses) > 3 and len(old) < budget - edited + 5:
            del clauses[i]
            edited += len(old)
        elif op < 0.65:
            phrase = rng.choice(FILLERS)
            clauses.insert(i, phrase)
            edited += len(phrase)
        elif op < 0.8:
            chars = list(old)
            for _ in range(rng.randint(1, 3)):
                chars[rng.randrange(len(chars))] = rng.choice(NOISE_CHARS)
            clauses[i] = "".join(chars)
            edited += sum(a != b for a, b in zip(old, clauses[i], strict=False))
        elif op < 0.9 and i + 1 < len(clauses):
            clauses[i], clauses[i + 1] = clauses[i + 1], old
            edited += min(len(old), len(clauses[i]))
        else:
            clauses[i] = to_traditional(old)
            edited += sum(a != b for a, b in zip(old, clauses[i], strict=False))
    out = "".join(clauses)
    if rng.random() < 0.4:
        out = rng.choice(demo_phrases.GREETINGS) + out
    if rng.random() < 0.4:
        out += rng.choice(demo_phrases.SIGNOFFS)
    return out


def corpus(n: int, seed: int, planted_share: float = 0.1) -> tuple[list[str], list[int], list[int]]:
    """n texts in shuffled order, each one's planted group (an original and its variants share the group id)
    and its original's position (itself for originals)."""
    import opencc
    to_traditional = opencc.OpenCC("s2t").convert
    rng = random.Random(seed)
    texts, origin = [], []
    for text in originals(seed, n):
        if len(texts) >= n:
            break
        base = len(texts)
        texts.append(text)
        origin.append(base)
        if rng.random() < planted_share:
            for _ in range(rng.randint(1, 3)):
                texts.append(variant(text, rng, to_traditional))
                origin.append(base)
    texts, origin = texts[:n], origin[:n]
    order = list(range(n))
    rng.shuffle(order)
    first: dict[int, int] = {}  # a rewrite comes after what it rewrites: each original takes its group's first slot
    for k, i in enumerate(order):
        first.setdefault(origin[i], k)
    for k, i in enumerate(order):
        if origin[i] == i and first[i] != k:
            order[first[i]], order[k] = i, order[first[i]]
    position = {old: new for new, old in enumerate(order)}
    return [texts[i] for i in order], [position[origin[i]] for i in order]


def edit_fractions(texts: list[str], origin: list[int], sample: int = 2000) -> list[float]:
    """1 − difflib ratio between planted variants and their original (a sample), as the achieved edit share."""
    variants = [i for i, o in enumerate(origin) if o != i]
    chosen = random.Random(0).sample(variants, min(sample, len(variants)))
    return [1 - difflib.SequenceMatcher(None, texts[origin[i]], texts[i], autojunk=False).ratio() for i in chosen]


def planted_pair_scores(labels: list, origin: list[int]) -> tuple[float, float]:
    """Precision and recall of 'same cluster' on planted pairs: recall over (original, variant) pairs, precision
    over all co-clustered pairs, counting pairs within one planted group (siblings too) as correct."""
    same_pred = Counter(labels)
    both = Counter(zip(labels, origin, strict=True))
    correct = sum(c * (c - 1) / 2 for c in both.values())
    predicted = sum(c * (c - 1) / 2 for c in same_pred.values())
    variants = [i for i, o in enumerate(origin) if o != i]
    found = sum(labels[i] == labels[origin[i]] for i in variants)
    return correct / max(predicted, 1), found / max(len(variants), 1)


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


def run_speed(n: int, queries: int, jobs: int, seed: int, skip_index: bool) -> None:
    t = time.perf_counter()
    texts, origin = corpus(n, seed)
    fractions = statistics.quantiles(edit_fractions(texts, origin), n=20)
    print(f"corpus: {n} proposals, mean {statistics.mean(map(len, texts)):.0f} characters, "
          f"{sum(o != i for i, o in enumerate(origin))} planted variants ({time.perf_counter() - t:.1f} s); "
          f"edit share of variants (1 − difflib ratio) p5 {fractions[0]:.2f}, median {fractions[9]:.2f}, "
          f"p95 {fractions[18]:.2f}")
    dedup.normalise("预热")  # load OpenCC before timing
    items = [(i, text, None) for i, text in enumerate(texts)]

    t = time.perf_counter()
    result = dedup.cluster(items, n_jobs=jobs)
    elapsed = time.perf_counter() - t
    labels = result.labels()
    precision, recall = planted_pair_scores([labels[i] for i in range(n)], origin)
    print(f"clustering: {elapsed:.1f} s (featurisation included, {jobs} processes), "
          f"{len(result.clusters())} clusters with ≥ 2 members; planted pairs precision {precision:.4f}, "
          f"recall {recall:.4f}; peak memory so far (ru_maxrss) {peak_rss_gib():.2f} GiB, largest worker "
          f"{peak_child_rss_gib():.2f} GiB")
    del result, labels
    if skip_index:
        return

    t = time.perf_counter()
    index = dedup.Index(items, n_jobs=jobs)
    print(f"index build: {time.perf_counter() - t:.1f} s")
    # Serving processes map the saved folder (suggestions.similar): query that, and measure what mapping costs.
    folder = Path(tempfile.mkdtemp(prefix="bench-dedup-")) / "index"
    index.save(folder)
    del index
    gc.collect()
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
    shutil.rmtree(folder.parent, ignore_errors=True)
    print(f"peak memory (ru_maxrss, whole run): {peak_rss_gib():.2f} GiB")


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
    args = parser.parse_args()
    if args.command == "pairs":
        run_pairs(args.file, args.cv)
    elif args.command == "issues":
        from bench.dedup_issues import run_issues
        run_issues(args.file, args.cv, args.shuffles, args.train_first, args.train_labels)
    elif args.command == "clusters":
        run_clusters(args.file, args.text_col, args.label_col)
    else:
        run_speed(args.n, args.queries, args.jobs, args.seed, args.skip_index)


if __name__ == "__main__":
    main()
