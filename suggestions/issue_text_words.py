"""A proposal as the same-issue score reads it (``Text``), and its words: cut by jieba (``words_of``, kept between
clusterings by ``suggestions.issue_words`` under ``words_digest``) and held as idf-weighted word sets
(``_WordSets``). ``suggestions.issue_texts`` reads a corpus of them."""
from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from core.chinese import load_jieba, segmenter_versions, to_simplified
from suggestions.dedup_scale import map_in_slices
from suggestions.issue_chars import row_dots
from suggestions.places import MASKED_PLACE


@dataclass(frozen=True)
class Text:
    """One proposal as the score sees it."""
    title: str
    body: str

    @property
    def whole(self) -> str:
        return f"{self.title}。{self.body}"


def _simplified(text: Text) -> Text:
    """The text in Simplified characters (the same object when it already is)."""
    title, body = to_simplified(text.title), to_simplified(text.body)
    return text if (title, body) == (text.title, text.body) else Text(title, body)


class _WordSets:
    """Each text's distinct words (and its title's) with their idf, as sparse rows holding the square root of each
    weight, so that one row's dot product with another is the idf summed over the words the two share."""

    def __init__(self, whole_words: list[str], title_words: list[str], idf: dict[str, float], unseen: float):
        self.vocabulary = sorted({word for words in (*whole_words, *title_words) for word in _split(words)})
        column = {word: k for k, word in enumerate(self.vocabulary)}
        self.idf = np.array([idf.get(word, unseen) for word in self.vocabulary])
        self.whole, self.title = (self._rows(tokens, column) for tokens in (whole_words, title_words))

    def _rows(self, texts: list[str], column: dict[str, int]) -> tuple[sp.csr_matrix, np.ndarray]:
        columns = [sorted({column[w] for w in _split(words)}) for words in texts]
        indptr = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.int64)
        indices = np.fromiter((k for c in columns for k in c), dtype=np.int32, count=int(indptr[-1]))
        weights = self.idf[indices]
        roots = sp.csr_matrix((np.sqrt(weights), indices, indptr), shape=(len(texts), len(self.vocabulary)))
        totals = np.bincount(np.repeat(np.arange(len(texts)), np.diff(indptr)), weights=weights, minlength=len(texts))
        return roots, totals

    def shared(self, rows: tuple[sp.csr_matrix, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """For each pair, the share of both texts' words, weighted by idf, that the two have in common."""
        roots, totals = rows
        common = row_dots(roots, i, roots, j)
        union = totals[i] + totals[j] - common
        return np.divide(common, union, out=np.zeros(len(i)), where=union > 0)

    def weights(self, row: int) -> dict[str, float]:
        """The idf of each distinct word of the text ``row``."""
        roots = self.whole[0]
        start, end = roots.indptr[row], roots.indptr[row + 1]
        return {self.vocabulary[k]: float(self.idf[k]) for k in roots.indices[start:end].tolist()}

    def document_frequency(self) -> dict[str, int]:
        """How many texts hold each word."""
        counts = np.bincount(self.whole[0].indices, minlength=len(self.vocabulary))
        return {word: int(c) for word, c in zip(self.vocabulary, counts.tolist(), strict=True) if c}


WORDS_VERSION = "1"
"""Part of ``words_of``'s digest (with jieba's and OpenCC's versions): raise it when ``_words`` would cut a text
otherwise (its filters, jieba's dictionary), so that words kept from before are cut again."""


def words_of(texts: Sequence[Text], n_jobs: int = 1) -> list[tuple[str, str]]:
    """Each text's words as ``IssueTexts`` reads them, (the whole's, the title's), each one string of words
    separated by spaces; cut by jieba in ``n_jobs`` processes (about 1.5 ms a proposal of 300 characters)."""
    return list(zip(*_cut_both([_simplified(t) for t in texts], n_jobs), strict=True))


def words_digest(text: Text) -> str:
    """What the words of ``text`` were cut from: a kept ``words_of`` is good while this stays the same."""
    key = f"{WORDS_VERSION}/{segmenter_versions()}\n{text.title}\n{text.body}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _cut_both(texts: Sequence[Text], n_jobs: int) -> tuple[list[str], list[str]]:
    return _cut_in_processes([t.whole for t in texts], n_jobs), _cut_in_processes([t.title for t in texts], n_jobs)


_TEXTS_A_CUT = 5_000  # texts a forked process cuts at a time


def _cut_in_processes(texts: list[str], n_jobs: int) -> list[str]:
    """``_cut`` over many texts, in ``n_jobs`` forked processes when there are enough of them."""
    if n_jobs > 1 and len(texts) > _TEXTS_A_CUT:
        load_jieba()  # loaded once here, so the forked processes share its dictionary
    return map_in_slices(_cut, texts, n_jobs, _TEXTS_A_CUT)


def _cut(texts: Sequence[str]) -> list[str]:
    """Each text's words of two characters or more, without punctuation or masked places, separated by spaces."""
    return [_remembered_words(text) for text in texts]


def _split(words: str) -> list[str]:
    return words.split(" ") if words else []


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in load_jieba().lcut(text) if len(w) >= 2 and not re.search(r"[\W_]", w)
                 and not MASKED_PLACE.fullmatch(w))


@functools.lru_cache(maxsize=1024)
def _remembered_words(text: str) -> str:
    """``_words`` of a text, remembered (typing hints score the same candidates at every pause in typing), kept as
    one string of words separated by spaces: for the longest proposal (5,000 characters) about 25 KiB with its
    key, so 1,024 of them stay under 30 MiB a process."""
    return " ".join(_words(text))


def texts_of_pairs(pairs: Sequence[tuple[Text, Text]]) -> tuple[list[Text], np.ndarray, np.ndarray]:
    """The distinct texts of some pairs, and each pair as two positions in that list."""
    position: dict[Text, int] = {}
    i = [position.setdefault(a, len(position)) for a, _ in pairs]
    j = [position.setdefault(b, len(position)) for _, b in pairs]
    return list(position), np.array(i, dtype=np.int64), np.array(j, dtype=np.int64)
