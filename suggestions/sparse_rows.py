"""Sparse-matrix helpers of the similarity index (``suggestions.dedup_index``), written to read a memory-mapped
store directly: scipy's own indexing would check or copy the whole store first."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import CompactFeaturiser


def columns_of(rows: sp.csr_matrix, featuriser: CompactFeaturiser, chunk: int = 50_000) -> sp.csc_matrix:
    """The rows column-wise over the featuriser's vocabulary (features it does not know left out), built by a
    counting sort in slices of ``chunk`` rows straight into the final arrays: a million proposals' postings are
    several GiB, and going through a COO matrix held three more copies of them (the build was killed at 23.7 GiB)."""
    n_rows, n_columns = rows.shape[0], len(featuriser.vocab)
    slices = [(s, min(s + chunk, n_rows)) for s in range(0, n_rows, chunk)]
    per_column = np.zeros(n_columns, dtype=np.int64)
    for s, e in slices:
        at, known = featuriser.positions(rows.indices[rows.indptr[s]:rows.indptr[e]])
        per_column += np.bincount(at[known], minlength=n_columns)
    indptr = np.zeros(n_columns + 1, dtype=np.int64)
    np.cumsum(per_column, out=indptr[1:])
    index_type = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
    data = np.empty(int(indptr[-1]), dtype=rows.data.dtype)
    indices = np.empty(int(indptr[-1]), dtype=index_type)
    filled = indptr[:-1].copy()
    for s, e in slices:  # rows ascend slice by slice, and within a slice the sort is stable: each column's rows ascend
        lo, hi = rows.indptr[s], rows.indptr[e]
        at, known = featuriser.positions(rows.indices[lo:hi])
        row = np.repeat(np.arange(s, e, dtype=index_type), np.diff(rows.indptr[s:e + 1]))[known]
        values, at = rows.data[lo:hi][known], at[known]
        order = np.argsort(at, kind="stable")
        at, row, values = at[order], row[order], values[order]
        place = filled[at] + (np.arange(len(at)) - np.searchsorted(at, at))
        data[place], indices[place] = values, row
        filled += np.bincount(at, minlength=n_columns)
    return sp.csc_matrix((data, indices, indptr.astype(index_type)), shape=(n_rows, n_columns))


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start..start+length-1 of every (start, length), concatenated."""
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts) - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)


def take_rows(rows: sp.csr_matrix, wanted: np.ndarray) -> sp.csr_matrix:
    """The given rows of a CSR matrix, read directly: scipy's row indexing checks the whole matrix first, which
    on a mapped index reads every page of it."""
    starts, lengths = rows.indptr[wanted], rows.indptr[wanted + 1] - rows.indptr[wanted]
    at = ranges(starts, lengths)
    return csr_over(rows.data[at], rows.indices[at], np.concatenate([[0], np.cumsum(lengths)]),
                     (len(wanted), rows.shape[1]))


def csr_over(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix over the given (memory-mapped) arrays, without copying them."""
    rows = sp.csr_matrix(shape, dtype=data.dtype)
    rows.data, rows.indices, rows.indptr = data, indices, indptr
    return rows


def row_dots(rows: sp.csr_matrix, q: sp.csr_matrix) -> np.ndarray:
    """The dot product of each row with the one-row ``q``, by looking up the rows' columns in q's (sorted). A
    sparse product would first turn q's 9.4 million columns into a row pointer (7 ms a call)."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    order = np.argsort(q.indices)
    columns, weights = q.indices[order], q.data[order]
    at = np.minimum(np.searchsorted(columns, rows.indices), max(len(columns) - 1, 0))
    hit = (columns[at] == rows.indices) if len(columns) else np.zeros(len(rows.indices), dtype=bool)
    products = np.where(hit, rows.data * (weights[at] if len(columns) else 0), 0).astype(np.float64)
    sums = np.zeros(rows.shape[0] + 1)
    np.add.at(sums, np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), products)
    return sums[:-1].astype(np.float32)
