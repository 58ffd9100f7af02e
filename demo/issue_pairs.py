"""Labelled same-issue pairs written by the project: the demo's own proposals, so the model trained on them may be
shipped (``suggestions/same_issue_model.json``; ``flask suggestions train-similarity --demo``).

- the same issue (1): a proposal and its rewrite by another citizen (or its author) in other words, the demo's
  near-duplicates (exact re-posts are left out: they teach nothing); and two proposals written independently on
  the same subject naming the same places (荷塘村农产品滞销 as a complaint and as a plea for help);
- not the same issue (0), as many again, half of each kind the real boards show: the same subject at other
  places (no place in common), and another subject at the same place (a place both texts name).
"""
import random

from demo.content import generate_proposals
from suggestions.issue_text_words import Text


def labelled_pairs(seed: int = 2026, n_proposals: int = 2400) -> list[tuple[Text, Text, int]]:
    """(text, text, label) pairs from the demo's proposals, deterministic for a seed."""
    rng = random.Random(f"jianyan-issue-pairs-{seed}")
    proposals = generate_proposals(seed, n_proposals)
    text = lambda p: Text(p["title"], p["body"])  # noqa: E731
    same = [(text(proposals[p["near_duplicate_of"]]), text(p), 1) for p in proposals
            if p["near_duplicate_of"] is not None and text(proposals[p["near_duplicate_of"]]) != text(p)]
    originals = [p for p in proposals if p["near_duplicate_of"] is None and p["subject"]]
    named = lambda p: {v for v in p["places"].values() if v in p["title"] + p["body"]}  # noqa: E731
    by_subject: dict[tuple[str, str], list[dict]] = {}
    for p in originals:
        by_subject.setdefault((p["campaign"], p["subject"]), []).append(p)
    same += [(text(a), text(b), 1) for group in by_subject.values() for k, a in enumerate(group)
             for b in group[k + 1:] if named(a) and named(a) == named(b) and text(a) != text(b)]
    elsewhere, other_subject = [], []
    for _ in range(200 * len(same)):
        if len(elsewhere) >= len(same) // 2 and len(other_subject) >= len(same) - len(same) // 2:
            break
        a, b = rng.sample(originals, 2)
        shared_place = set(a["places"].values()) & set(b["places"].values())
        if a["subject"] == b["subject"] and not shared_place and len(elsewhere) < len(same) // 2:
            elsewhere.append((text(a), text(b), 0))
        elif a["subject"] != b["subject"] and named(a) & named(b) and a["campaign"] == b["campaign"] \
                and len(other_subject) < len(same) - len(same) // 2:
            other_subject.append((text(a), text(b), 0))
    return same + elsewhere + other_subject
