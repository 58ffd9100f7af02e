"""Routing classifier benchmark (suggestions.routing): macro-F1, accuracy, per-class figures, speed.

    python -m bench.routing --train FILE.csv --cv 5 --text-col 留言详情 --label-col 一级标签
    python -m bench.routing --train FILE.csv --cv 5 --text-col 留言详情 --title-col 留言主题 --label-col 一级标签
    python -m bench.routing --train TRAIN.csv --test TEST.csv --text-col 留言详情 --label-col 一级标签

Cross-validation is stratified (shuffled with ``--seed``); its figures are over the pooled out-of-fold predictions.
``--classifier``, ``--C``, ``--char-ngrams``, ``--no-words``, ``--no-chars`` and ``--title-repeat`` override the
configuration chosen in ``suggestions.routing.DEFAULTS`` (to compare variants). Prints figures; asserts nothing.
"""
import argparse
import csv
import sys
import time
import unicodedata

from suggestions import routing


def read(path: str, text_col: str, label_col: str, title_col: str | None):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in (text_col, label_col, title_col) if c and rows and c not in rows[0]]
    if missing:
        sys.exit(f"{path}: no column {', '.join(missing)} (columns: {', '.join(rows[0])})")
    rows = [r for r in rows if (r[label_col] or "").strip()]
    texts = [r[text_col] or "" for r in rows]
    labels = [r[label_col].strip() for r in rows]
    titles = [r[title_col] or "" for r in rows] if title_col else None
    return texts, labels, titles


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def show(report: routing.Report, what: str) -> None:
    print(what)
    print(f"macro-F1 {report.macro_f1:.4f}   accuracy {report.accuracy:.4f}   top-3 accuracy "
          f"{report.top3_accuracy:.4f}   ({report.n} messages)")
    if report.fold_macro_f1:
        folds = report.fold_macro_f1
        mean = sum(folds) / len(folds)
        sd = (sum((f - mean) ** 2 for f in folds) / max(len(folds) - 1, 1)) ** 0.5
        print(f"macro-F1 per fold: {', '.join(f'{f:.4f}' for f in folds)}   (mean {mean:.4f} ± {sd:.4f})")
    width = max(display_width(label) for label in report.labels) + 2
    print(f"\n{'label':<{width}}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}")
    for label in report.labels:
        m = report.per_class[label]
        print(label + " " * (width - display_width(label))
              + f"{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>10d}")
    print("\nconfusion (rows true, columns predicted, same order as above):")
    for row in report.confusion:
        print("  " + " ".join(f"{v:>4d}" for v in row))
    print(f"\ntraining {report.train_seconds:.2f} s{' (all folds)' if report.fold_macro_f1 else ''}; "
          f"prediction {report.predict_ms_per_message:.2f} ms per message (batch)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, metavar="FILE")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--test", metavar="FILE")
    mode.add_argument("--cv", type=int, metavar="K")
    parser.add_argument("--text-col", required=True)
    parser.add_argument("--label-col", required=True)
    parser.add_argument("--title-col")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier", choices=("svc", "lr"))
    parser.add_argument("--C", type=float)
    parser.add_argument("--char-ngrams", metavar="LO,HI", help="e.g. 1,3 or 2,4")
    parser.add_argument("--no-words", action="store_true", help="leave out the jieba word block")
    parser.add_argument("--no-chars", action="store_true", help="leave out the character n-gram block")
    parser.add_argument("--title-repeat", type=int)
    args = parser.parse_args(argv)

    options = {}
    if args.classifier:
        options["classifier"] = args.classifier
    if args.C is not None:
        options["C"] = args.C
    if args.char_ngrams:
        options["char_ngrams"] = tuple(int(x) for x in args.char_ngrams.split(","))
    if args.no_chars:
        options["char_ngrams"] = None
    if args.no_words:
        options["words"] = False
    if args.title_repeat is not None:
        options["title_repeat"] = args.title_repeat
    config = {**routing.DEFAULTS, **options}
    print("configuration: " + ", ".join(f"{k}={v}" for k, v in config.items())
          + f"; title column: {args.title_col or 'none'}")

    texts, labels, titles = read(args.train, args.text_col, args.label_col, args.title_col)
    routing.words("预热")  # load jieba's dictionary before timing anything
    if args.cv:
        report = routing.cross_validate(texts, labels, titles, folds=args.cv, seed=args.seed, **options)
        show(report, f"{args.cv}-fold stratified cross-validation on {args.train} (seed {args.seed})")
    else:
        t = time.perf_counter()
        router = routing.Router.train(texts, labels, titles, **options)
        train_s = time.perf_counter() - t
        test_texts, test_labels, test_titles = read(args.test, args.text_col, args.label_col, args.title_col)
        report = routing.evaluate(router, test_texts, test_labels, test_titles, train_seconds=train_s)
        show(report, f"trained on {args.train} ({len(texts)} messages), tested on {args.test}")
        t = time.perf_counter()
        for text, title in zip(test_texts[:200], (test_titles or [""] * len(test_texts))[:200], strict=True):
            router.suggest(text, title)
        print(f"suggest(): {1000 * (time.perf_counter() - t) / min(len(test_texts), 200):.2f} ms per message "
              f"(one at a time)")


if __name__ == "__main__":
    main()
