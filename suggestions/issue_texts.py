"""Proposals read for the same-issue score (``suggestions.same_issue``): each text once, into what pair features
need, so that scoring a pair costs a few sparse dot products.

``IssueTexts`` learns idf (character 1-3-grams, jieba words, the copies engine's rows) and a gazetteer of place
names from a corpus: a campaign's proposals; for training, a labelled file's distinct messages; for a draft and its
candidates, those and the counts of other texts (``Background``, ``shipped_background``: 20 texts about one thing
are too few to tell a common word from a rare one). ``IssueTexts.features`` gives FEATURES for any pairs of it.
"""
from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from suggestions.dedup_features import CompactFeaturiser, _counts_parallel, _normalise_all
from suggestions.dedup_scale import _SHARED, _map
from suggestions.issue_chars import CharRows, no_features, row_dots
from suggestions.issue_text_words import Text, _cut_both, _remembered_words, _simplified, _split, _WordSets
from suggestions.places import NAME_HEAD, Places, mine_place_names, place_names

FEATURES = ("copies_score", "title_chars", "body_chars", "title_words", "whole_words", "title_body_chars",
            "rare_words_shared", "title_rare_words_shared", "names_least", "names_most", "names_conflict",
            "numbers_shared", "length_ratio", "shorter_length")


def _names_agreement(names_a: frozenset[str], names_b: frozenset[str], text_a: Text,
                     text_b: Text) -> tuple[float, float, float]:
    """(least, most) share of one text's names the other mentions anywhere, and 1.0 for a conflict: both name
    places and neither mentions any of the other's. A pair without names gets a neutral 0.5. (A name holds no
    punctuation, so it is in a whole when it is in its title or its body: no whole is built for a pair.)"""
    shares = [sum(name in other.title or name in other.body for name in names) / len(names)
              for names, other in ((names_a, text_b), (names_b, text_a)) if names]
    conflict = float(bool(names_a) and bool(names_b) and not any(shares))
    return (min(shares), max(shares), conflict) if shares else (0.5, 0.5, 0.0)


class IssueTexts:
    """A corpus of proposals, read once: idf (character 1-3-grams, jieba words, and the copies engine's own rows)
    and the place gazetteer are learned from it, and each text's vectors, words, names and numbers are kept, so
    ``features(i, j)`` scores any pairs of it. With ``n_jobs`` > 1 a large corpus is cut into words and character
    n-grams, its place names read and its pairs scored in that many forked processes (a campaign's joining takes
    about 1 ms a proposal in two, with its words kept: docs/benchmarks.md); words kept from before (``words_of``,
    ``suggestions.issue_words``) are not cut again.
    """

    def __init__(self, texts: Sequence[Text], n_jobs: int = 1, background: Background | None = None,
                 words: Sequence[tuple[str, str]] | None = None, copies_rows_kept: bool = True):
        """``words``: each text's ``words_of``, when the caller kept them (clustering does: ``issue_words``).
        ``copies_rows_kept``: keep the copies engine's counts of every text, for ``copies_scores`` of any pairs (a
        draft and its candidates); False for a campaign, whose caller has the copies scores of most pairs: only
        the rows of the pairs it asks for are counted again (5 KiB a proposal not held)."""
        self.texts = [_simplified(t) for t in texts]
        self.background = background or Background.nothing()
        self.n_jobs = n_jobs
        wholes = [t.whole for t in self.texts]
        chars = CharRows(self.texts, n_jobs, self.background, copies_rows_kept)
        self.title_chars, self.body_chars = chars.title, chars.body
        self.char_columns, self.char_df = chars.columns, chars.df
        self._whole_counts = chars.whole_counts
        self._copies_rows = None
        del chars
        if words is None:
            whole_words, title_words = _cut_both(self.texts, n_jobs)
        elif len(words) != len(self.texts):
            raise ValueError(f"{len(words)} texts' words for {len(self.texts)} texts")
        else:
            whole_words, title_words = [whole for whole, _ in words], [title for _, title in words]
        # Each text's words are one string (words separated by spaces), split when used: a million texts' words
        # as lists would be a hundred million small objects.
        # scikit-learn's smooth idf, over these texts and the background's together
        document_frequency = Counter(word for words in whole_words for word in set(_split(words)))
        documents = len(wholes) + self.background.texts
        unseen = math.log(documents + 1) + 1
        idf = {word: math.log((documents + 1) / (df + self.background.words.get(word, 0) + 1)) + 1
               for word, df in document_frequency.items()}
        if any(whole_words):
            from sklearn.feature_extraction.text import TfidfVectorizer  # here, as in issue_chars._weighed
            words = TfidfVectorizer(analyzer=_split, sublinear_tf=True, dtype=np.float32)
            if self.background.texts:
                words.fit(whole_words)
                words.idf_ = np.array([idf[word] for word in words.get_feature_names_out()])
                self.whole_words = words.transform(whole_words).tocsr()
            else:
                self.whole_words = words.fit_transform(whole_words).tocsr()
            self.title_words = words.transform(title_words).tocsr()
        else:  # not one word of two characters in any text (啊的, 了吗呢): no vocabulary to weigh
            self.whole_words = self.title_words = no_features(len(wholes))
        self.word_sets = _WordSets(whole_words, title_words, idf, unseen)
        del whole_words, title_words
        self.place_counts, self.names = _places(self.texts, wholes, self.background, n_jobs)
        self.numbers = [_frozen(re.findall(r"\d{2,}", text)) for text in wholes]
        self.lengths = np.array([len(text) for text in wholes])

    def __len__(self) -> int:
        return len(self.texts)

    def features(self, i: Sequence[int], j: Sequence[int], copies: np.ndarray | None = None) -> np.ndarray:
        """One row of FEATURES for each pair (texts[i[k]], texts[j[k]]). ``copies``: the copies engine's scores of
        those pairs when the caller has them (a campaign's clustering); otherwise computed over this corpus. A
        campaign's pairs are scored in the ``n_jobs`` forked processes it was read in."""
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        spans = _spans(len(i), _PAIRS_A_TASK)
        if self.n_jobs > 1 and len(spans) > 1:
            self._weigh_kept_copies_rows()
            return np.concatenate(_map(_features_of_span, spans, self.n_jobs, texts=self, i=i, j=j, copies=copies))
        return self._features(i, j, copies)

    def _features(self, i: np.ndarray, j: np.ndarray, copies: np.ndarray | None) -> np.ndarray:
        columns = {
            "copies_score": self.copies_scores(i, j) if copies is None else np.asarray(copies, dtype=np.float64),
            "title_chars": row_dots(self.title_chars, i, self.title_chars, j),
            "body_chars": row_dots(self.body_chars, i, self.body_chars, j),
            "title_words": row_dots(self.title_words, i, self.title_words, j),
            "whole_words": row_dots(self.whole_words, i, self.whole_words, j),
            "title_body_chars": np.maximum(row_dots(self.title_chars, i, self.body_chars, j),
                                           row_dots(self.body_chars, i, self.title_chars, j)),
            "rare_words_shared": self.word_sets.shared(self.word_sets.whole, i, j),
            "title_rare_words_shared": self.word_sets.shared(self.word_sets.title, i, j),
        }
        rows = [self._pair_row(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)]  # the rest of FEATURES
        extra = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES) - len(columns))
        for k, name in enumerate(FEATURES[len(columns):]):
            columns[name] = extra[:, k]
        return np.column_stack([columns[name] for name in FEATURES])

    def evidence(self, a: int, b: int, words: int = 5) -> dict:
        """What staff can read about a pair: the place names both mention, the places of one kind that differ
        (name and kind, each side), and the rarest words they share."""
        text_a, text_b = self.texts[a].whole, self.texts[b].whole
        places_a, places_b = Places.of(text_a), Places.of(text_b)

        def spelled(name: str, kind: str, row: int) -> str:  # 花园 of 小区 → 翠湖花园小区 when the corpus knows it
            longer = [n for n in self.names[row] if n.endswith(name)]
            return f"{max(longer, key=lambda n: (len(n), n)) if longer else name}{kind}"  # a tie: the same each run
        both = {spelled(name, kind, row) for places, other, row in ((places_a, text_b, a), (places_b, text_a, b))
                for kind, names in places.names.items() for name in names if f"{name}{kind}" in other}
        present = {p for p in both if p in text_a and p in text_b}
        shared = sorted(p for p in present if not any(p != q and p in q for q in present))
        differ = [[spelled(n, kind, a) for n in sorted(places_a.names[kind])] +
                  [spelled(n, kind, b) for n in sorted(places_b.names[kind])]
                  for kind in sorted(places_a.names.keys() & places_b.names.keys())] \
            if places_a.conflicts(places_b) else []
        weights_a, weights_b = self.word_sets.weights(a), self.word_sets.weights(b)
        common = weights_a.keys() & weights_b.keys()
        return {"places": shared, "places_differ": differ,
                "words": sorted(common, key=lambda w: (-weights_a[w], w))[:words]}

    @property
    def copies_rows(self) -> sp.csr_matrix:
        """The copies engine's rows of all the wholes, with idf fitted on this corpus (weighed on first use)."""
        if self._copies_rows is None:
            if self._whole_counts is None:
                return self.copies_rows_of(np.arange(len(self)))
            self._copies_rows = self._copies_weigher()._weigh(self._whole_counts)
            self._whole_counts = None
        return self._copies_rows

    def copies_rows_of(self, rows: np.ndarray) -> sp.csr_matrix:
        """The copies engine's rows of the wholes ``rows``, with idf fitted on this corpus."""
        if self._whole_counts is not None or self._copies_rows is not None:
            return self.copies_rows[rows]
        counts = _counts_parallel(_normalise_all([self.texts[r].whole for r in rows.tolist()], 1), 1)
        return self._copies_weigher()._weigh(counts)

    def _copies_weigher(self) -> CompactFeaturiser:
        df = self.char_df + self.background.char_df(self.char_columns)
        return CompactFeaturiser(self.char_columns.astype(np.int32), df, len(self) + self.background.texts)

    def copies_scores(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The copies engine's score of each pair, with idf fitted on this corpus. In ``n_jobs`` forked processes,
        _PAIRS_A_TASK pairs at a time; in one, all at once unless their texts are more than _ROWS_WEIGHED_AT_ONCE
        (a text's rows are weighed again in each slice that holds it: memory bought with time)."""
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        spans = _spans(len(i), _PAIRS_A_TASK)
        if self.n_jobs > 1 and len(spans) > 1:
            self._weigh_kept_copies_rows()
            return np.concatenate(_map(_copies_scores_of_span, spans, self.n_jobs, texts=self, i=i, j=j))
        if len(spans) > 1 and len(np.unique(np.concatenate([i, j]))) <= _ROWS_WEIGHED_AT_ONCE:
            spans = [(0, len(i))]
        return np.concatenate([self._copies_scores(i[s:e], j[s:e]) for s, e in spans] or [np.zeros(0)])

    def _weigh_kept_copies_rows(self) -> None:
        """Weigh the kept copies rows here, once, rather than in each forked process."""
        if self._whole_counts is not None:
            self.copies_rows  # noqa: B018 (the property weighs and keeps them)

    def _copies_scores(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        rows, positions = np.unique(np.concatenate([i, j]), return_inverse=True)
        weighed = self.copies_rows_of(rows)
        return np.clip(row_dots(weighed, positions[:len(i)], weighed, positions[len(i):]), 0.0, 1.0)

    def _pair_row(self, a: int, b: int) -> tuple[float, ...]:
        numbers_a, numbers_b = self.numbers[a], self.numbers[b]
        length_a, length_b = int(self.lengths[a]), int(self.lengths[b])
        return (*_names_agreement(self.names[a], self.names[b], self.texts[a], self.texts[b]),
                len(numbers_a & numbers_b) / len(numbers_a | numbers_b) if numbers_a | numbers_b else 0.5,
                min(length_a, length_b) / max(length_a, length_b, 1), math.log1p(min(length_a, length_b)))


_PAIRS_A_TASK = 100_000  # pairs a forked process scores at a time
_TEXTS_A_TASK = 20_000  # texts whose place names a forked process reads at a time
_ROWS_WEIGHED_AT_ONCE = 200_000  # texts whose copies rows one process weighs at once (about 7 KiB a text)


def _spans(count: int, size: int) -> list[tuple[int, int]]:
    """[start, end) of each slice of ``size`` of ``count`` things."""
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _features_of_span(span: tuple[int, int]) -> np.ndarray:
    """``IssueTexts.features`` of a span of pairs, in a forked process (the corpus reached it through the fork)."""
    texts, i, j, copies = (_SHARED[name] for name in ("texts", "i", "j", "copies"))
    start, end = span
    return texts._features(i[start:end], j[start:end], None if copies is None else copies[start:end])


def _copies_scores_of_span(span: tuple[int, int]) -> np.ndarray:
    """``IssueTexts.copies_scores`` of a span of pairs, in a forked process."""
    texts, i, j = (_SHARED[name] for name in ("texts", "i", "j"))
    return texts._copies_scores(i[span[0]:span[1]], j[span[0]:span[1]])


def _places(texts: list[Text], wholes: list[str], background: Background,
            n_jobs: int) -> tuple[Counter, list[frozenset[str]]]:
    """The gazetteer mined from the wholes (with the background's counts) and each text's place names, in
    ``n_jobs`` forked processes when there are many texts (in this one, a web request's hints never touch the
    module-wide ``_SHARED``)."""
    spans = _spans(len(wholes), _TEXTS_A_TASK)
    if n_jobs <= 1 or len(spans) <= 1:
        counts = mine_place_names(wholes) + background.places
        return counts, _names_of(texts, counts)
    counts = Counter()
    for mined in _map(_mine_span, spans, n_jobs, wholes=wholes):
        counts.update(mined)
    counts += background.places
    return counts, [names for part in _map(_names_of_span, spans, n_jobs, texts=texts, place_counts=counts)
                    for names in part]


def _names_of(texts: Sequence[Text], counts: Counter) -> list[frozenset[str]]:
    """Each text's place names, in its title and the head of its body."""
    return [frozenset(place_names(t.title, counts) | place_names(t.body[:NAME_HEAD], counts)) for t in texts]


def _mine_span(span: tuple[int, int]) -> Counter:
    return mine_place_names(_SHARED["wholes"][span[0]:span[1]])


def _names_of_span(span: tuple[int, int]) -> list[frozenset[str]]:
    return _names_of(_SHARED["texts"][span[0]:span[1]], _SHARED["place_counts"])


@dataclass(frozen=True, eq=False)
class Background:
    """How many of some other texts hold each character n-gram (the copies engine's hashed columns), each word and
    each candidate place name: counts added to a small corpus's own before idf and the gazetteer are learned from
    it. A draft and its 20 candidates are about much the same thing, so on their own what they share reads as
    common and weighs little; with the counts of a few hundred texts about everything (``shipped_background``, the
    demo's own proposals) the hints' figures come close to those with a whole campaign as corpus
    (docs/benchmarks.md)."""
    texts: int
    char_columns: np.ndarray
    char_counts: np.ndarray
    words: dict[str, int]
    places: Counter

    @classmethod
    def nothing(cls) -> Background:
        return cls(0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), {}, Counter())

    @classmethod
    def of(cls, texts: Sequence[Text]) -> Background:
        """The counts of ``texts``."""
        corpus = IssueTexts(texts)
        _remembered_words.cache_clear()  # those are the words of drafts' candidates, not of these texts
        return cls(len(texts), corpus.char_columns.astype(np.int64), corpus.char_df.astype(np.int64),
                   corpus.word_sets.document_frequency(), corpus.place_counts)

    def char_df(self, columns: np.ndarray) -> np.ndarray:
        """How many of the texts hold each of the hashed ``columns``."""
        if not len(self.char_columns):
            return np.zeros(len(columns), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.char_columns, columns), len(self.char_columns) - 1)
        return np.where(self.char_columns[at] == columns, self.char_counts[at], 0)

    def char_idf(self, columns: np.ndarray, df: np.ndarray, documents: int) -> np.ndarray:
        """scikit-learn's smooth idf of the hashed ``columns``, which ``df`` of ``documents`` texts hold, over those
        texts and these together."""
        return np.log((documents + self.texts + 1) / (df + self.char_df(columns) + 1)) + 1


BACKGROUND_PROPOSALS = 400
"""How many of the demo generator's proposals make ``shipped_background``."""
_background_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _made_background() -> Background:
    from demo.content import generate_proposals

    originals = [p for p in generate_proposals(2026, 2 * BACKGROUND_PROPOSALS) if p["near_duplicate_of"] is None]
    return Background.of([Text(p["title"], p["body"]) for p in originals[:BACKGROUND_PROPOSALS]])


def shipped_background() -> Background:
    """The counts of BACKGROUND_PROPOSALS proposals the demo generator writes (texts the project wrote; reposts and
    rewrites left out, so that no text counts twice), made once a process, under a lock so that a serving
    process's threads do not each make them (about 0.5 s). They follow the generator: a change to its phrases
    moves hint scores a little, as it moves the shipped model (retrained by the test that checks it)."""
    with _background_lock:
        return _made_background()


_NO_NUMBERS = frozenset()


def _frozen(numbers: list[str]) -> frozenset[str]:
    return frozenset(numbers) if numbers else _NO_NUMBERS

