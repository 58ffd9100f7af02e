"""Copies of one text: many submissions made from one template, filled in or lightly edited. Pure, like
``suggestions.dedup`` (which re-exports ``near_identical``); used by flood detection (``moderation.floods``).

Why not ``dedup.cluster``: it looks for rewrites among many different texts, so it weighs features by idf and
proposes candidates from each text's rarest n-grams. In a burst of copies the template is the common part: fitted
on the burst, idf makes the template weigh almost nothing and what varies (a name, a housing estate) almost
everything, so 200 copies naming ten estates came out as ten groups of twenty; and the template's n-grams, shared
by hundreds of rows, are the ones the candidate search drops. Here every n-gram weighs the same (the same
character uni-, bi- and trigram rows and ``similarity`` as the engine, with a uniform idf), and candidates are the
earlier groups sharing a whole clause with the text, which copies of a template do and independent texts rarely
do. Leader clustering as in ``dedup.cluster``: in the given (chronological) order, a text joins the group whose
first text it is most similar to, if at least ``threshold``, or starts one.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import CompactFeaturiser, Id, _kind, exact_key, normalise, similarity

MIN_CLAUSE = 6  # characters: shorter clauses (你好, 谢谢, 我是居民) say nothing about a shared template
LEADERS_PER_CLAUSE = 50  # a clause common to many groups (boilerplate) proposes only the latest 50


def near_identical(items: Sequence[tuple[Id, str, Id | None]], threshold: float = 0.8):
    """Group (id, text, author_id) items, in chronological order, into copies of one text; returns a
    ``dedup.Clustering`` (every item's ``Member``: its group, named by the first item's id, and its score)."""
    from suggestions.dedup import Clustering, Member  # the engine's result types (dedup imports this module)

    ids = [item_id for item_id, _, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate item ids")
    texts = [normalise(text) for _, text, _ in items]
    keys = [exact_key(text) for text in texts]
    empty = np.empty(0, dtype=np.int32)
    rows = CompactFeaturiser(empty, empty, 0).transform(texts)  # no corpus: every feature weighs the same
    vocab, rows.indices = np.unique(rows.indices, return_inverse=True)  # columns numbered 0…k: cheap products
    rows = sp.csr_matrix((rows.data, rows.indices, rows.indptr), shape=(len(texts), len(vocab)))
    authors = [author for _, _, author in items]
    leader, score = list(range(len(items))), [1.0] * len(items)
    leaders_of_clause: dict[str, list[int]] = {}
    for r, text in enumerate(texts):
        clauses = {c for c in text.split(" ") if len(c) >= MIN_CLAUSE} or {keys[r]}
        candidates = sorted({x for c in clauses for x in leaders_of_clause.get(c, ())})
        if candidates:
            at = np.asarray(candidates, dtype=np.int64)
            scores = similarity((rows[at] @ rows[r].T).toarray().ravel())
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                leader[r], score[r] = candidates[best], float(scores[best])
                continue
        for clause in clauses:
            held = leaders_of_clause.setdefault(clause, [])
            held.append(r)
            del held[:-LEADERS_PER_CLAUSE]
    members = []
    for r, first in enumerate(leader):
        if first == r:
            kind = "representative"
        else:
            same_author = authors[r] is not None and authors[r] == authors[first]
            kind = _kind(keys[r] == keys[first], same_author, score[r], threshold)
        members.append(Member(ids[r], ids[first], kind, score[r]))
    return Clustering(members)
