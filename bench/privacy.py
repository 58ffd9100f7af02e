"""What the masking (core.privacy) finds in real messages: how many texts had something masked, by kind, a sample
to read by hand for false positives, and the speed.

    python -m bench.privacy FILE.csv [--columns 留言主题,留言详情,答复意见] [--official-columns 答复意见]
                                     [--sample 40] [--seed 1] [--kind name]

Each finding is printed with 15 characters of context on either side and what it became, so that a reader can
mark each one as a true or a false positive. Prints figures; asserts nothing.
"""
import argparse
import csv
import random
import sys
import time
from collections import Counter

from core.privacy import KINDS, find_personal_data, mask_personal_data

DEFAULT_COLUMNS = "留言主题,留言详情,答复意见"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--columns", default=DEFAULT_COLUMNS, help="comma-separated text columns to read")
    parser.add_argument("--official-columns", default="答复意见",
                        help="columns written by a body (official replies: their landlines are office lines)")
    parser.add_argument("--sample", type=int, default=40, help="findings per kind to print for reading")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", choices=KINDS, help="print the sample of this kind only")
    args = parser.parse_args(argv)

    with open(args.file, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in args.columns.split(",") if c]
    official = {c for c in args.official_columns.split(",") if c}
    missing = [c for c in columns if rows and c not in rows[0]]
    if missing:
        sys.exit(f"{args.file}: no column {', '.join(missing)} (columns: {', '.join(rows[0])})")

    texts_with = Counter()   # (column, kind) -> texts with at least one finding of that kind
    findings = Counter()     # (column, kind) -> findings
    masked_texts = Counter()
    examples: dict[str, list[str]] = {kind: [] for kind in KINDS}
    started, characters = time.perf_counter(), 0
    for row in rows:
        for column in columns:
            text = row.get(column) or ""
            characters += len(text)
            found = find_personal_data(text, official=column in official)
            if found:
                masked_texts[column] += 1
            for kind in {f.kind for f in found}:
                texts_with[column, kind] += 1
            for f in found:
                findings[column, f.kind] += 1
                context = (text[max(0, f.start - 15):f.start] + "【" + text[f.start:f.end] + "→" + f.replacement
                           + "】" + text[f.end:f.end + 15])
                examples[f.kind].append(f"{row.get('留言编号', '?')}/{column}: {' '.join(context.split())}")
    elapsed = time.perf_counter() - started

    print(f"{args.file}: {len(rows)} rows, {len(rows) * len(columns)} texts, {characters:,} characters")
    print(f"masking speed: {elapsed / max(1, len(rows) * len(columns)) * 1e6:.0f} µs per text, "
          f"{characters / elapsed / 1e6:.2f} M characters/s")
    print("\ntexts with something masked, by column:")
    for column in columns:
        print(f"  {column}: {masked_texts[column]} of {len(rows)} ({masked_texts[column] / max(1, len(rows)):.1%})")
    print("\nby kind (texts / findings):")
    print("  " + "kind".ljust(11) + "".join(c.ljust(18) for c in columns))
    for kind in KINDS:
        print("  " + kind.ljust(11) + "".join(f"{texts_with[c, kind]} / {findings[c, kind]}".ljust(18)
                                             for c in columns))
    rng = random.Random(args.seed)
    for kind in ([args.kind] if args.kind else KINDS):
        if not examples[kind]:
            continue
        shown = rng.sample(examples[kind], min(args.sample, len(examples[kind])))
        print(f"\n--- {kind}: {len(shown)} of {len(examples[kind])} findings ---")
        for line in shown:
            print("  " + line)
    # A check that the one masking function agrees with the findings it is built on.
    assert mask_personal_data("电话13812345678") == "电话138****5678"


if __name__ == "__main__":
    main()
