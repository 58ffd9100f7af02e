"""Character rows of the same-issue score (``suggestions.issue_texts``): titles and bodies as plain TF-IDF rows of
the copies engine's hashed character 1-3-grams, and the row-by-row dot products pair features are made of."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import N_FEATURES, _counts_parallel, _normalise_all

if TYPE_CHECKING:
    from suggestions.issue_text_words import Text
    from suggestions.issue_texts import Background


def row_dots(a: sp.csr_matrix, i: np.ndarray, b: sp.csr_matrix, j: np.ndarray) -> np.ndarray:
    """a[i[k]] · b[j[k]] for every k, in slices so that memory stays small."""
    out = np.zeros(len(i))
    for s in range(0, len(i), 50_000):
        out[s:s + 50_000] = np.asarray(a[i[s:s + 50_000]].multiply(b[j[s:s + 50_000]]).sum(axis=1)).ravel()
    return out


def no_features(rows: int) -> sp.csr_matrix:
    """Rows with no feature: every cosine with them is 0."""
    return sp.csr_matrix((rows, 1), dtype=np.float32)


class CharRows:
    """The texts' titles and bodies as plain TF-IDF rows of the copies engine's hashed character 1-3-grams
    (normalised as it does, sublinear tf, idf over the wholes), with the columns renumbered as their positions among
    the columns the texts use (``columns``, held by ``df`` wholes each).

    A whole's n-grams are its title's and its body's: the "。" between them is a clause break, and no n-gram spans
    one. So a whole's counts are its title's plus its body's, and only those two are counted; the wholes' counts of
    a corpus above 20,000 texts are never held at once (``keep_whole_counts`` keeps them, for a draft's 20
    candidates)."""

    def __init__(self, texts: Sequence[Text], n_jobs: int, background: Background, keep_whole_counts: bool):
        title = _counts_parallel(_normalise_all([t.title for t in texts], n_jobs), n_jobs)
        body = _counts_parallel(_normalise_all([t.body for t in texts], n_jobs), n_jobs)
        self.whole_counts = title + body if keep_whole_counts else None
        self.columns, self.df = _document_frequency(title, body)
        documents = len(texts)
        if background.texts:
            idf = background.char_idf(self.columns, self.df, documents)
        else:  # as scikit-learn's TfidfTransformer fits it, in the counts' float32
            idf = np.full(len(self.columns), documents + 1, dtype=np.float32)
            idf /= self.df.astype(np.float32) + 1
            np.log(idf, out=idf)
            idf += 1.0
        position = _positions(self.columns, title.indices.size + body.indices.size)
        self.title, self.body = (_weighed(counts, position, idf) if len(self.columns) else no_features(documents)
                                 for counts in (title, body))


def _document_frequency(title: sp.csr_matrix, body: sp.csr_matrix,
                        chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """The hashed columns the wholes (title plus body) use, sorted, and how many wholes hold each."""
    rows = title.shape[0]
    if rows <= chunk:
        columns, held = np.unique((title + body).indices, return_counts=True)
        return columns.astype(np.int32), held
    held = np.zeros(N_FEATURES, dtype=np.int64)  # 75 MB, against np.unique's sort or hash of every entry
    for start in range(0, rows, chunk):
        held += np.bincount((title[start:start + chunk] + body[start:start + chunk]).indices, minlength=N_FEATURES)
    columns = np.flatnonzero(held).astype(np.int32)
    return columns, held[columns]


def _positions(columns: np.ndarray, entries: int):
    """A function from hashed columns (all among ``columns``, sorted) to their positions in ``columns``: a lookup
    table of the whole hashed space when there are many entries to renumber, a binary search when few."""
    if entries < 1_000_000:
        return lambda indices: np.searchsorted(columns, indices).astype(np.int32)
    table = np.zeros(N_FEATURES, dtype=np.int32)
    table[columns] = np.arange(len(columns), dtype=np.int32)
    return lambda indices: table[indices]


def _weighed(counts: sp.csr_matrix, position, idf: np.ndarray) -> sp.csr_matrix:
    """``counts`` (consumed) as TF-IDF rows over the renumbered columns, as TfidfTransformer(sublinear_tf=True)
    weighs them."""
    indices = position(counts.indices)
    data = counts.data
    np.log(data, out=data)
    data += 1.0
    data *= idf[indices]
    rows = sp.csr_matrix((data, indices, counts.indptr), shape=(counts.shape[0], len(idf)))
    # Imported here: scikit-learn (and the scipy.stats it loads) takes about 2 s to import, which every web process
    # and `flask` command would pay at start-up.
    from sklearn.preprocessing import normalize
    return normalize(rows, copy=False)
