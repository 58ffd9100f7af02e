"""The same issue in other words: a learned score over features of a pair of proposals (issue 13, first slice).

*Copies* (``suggestions.dedup``) are one text reworded; *the same issue* is one problem at one place or entity,
written independently by different citizens ("丽发新城小区旁建搅拌厂严重扰民" and "投诉A2区丽发新城附近建搅拌站噪音
扰民"). One cosine cannot tell those from the same complaint template about another estate, or another problem at
the same estate, so the score here is a logistic regression over several pieces of evidence:

- character and word (jieba) TF-IDF cosines: title with title, body with body, whole with whole, title with the
  other's body, and the copies engine's own score;
- the words both share, weighted by rarity (an estate's name is rare, 小区 is not);
- place and entity names: a name is the few characters before a place suffix (小区, 花园, 路, 村, 学校, 公司 …),
  cut where the corpus itself stops repeating them (a gazetteer mined from the campaign's texts, since a
  dictionary knows no housing estates); how many of each text's names the other mentions, and a conflict when
  both name places and neither mentions the other's;
- numbers, and the two lengths.

``PairFeaturiser.fit`` learns idf and the gazetteer from a corpus (the campaign's proposals; for the benchmark,
the labelled file's distinct messages); ``SameIssueModel`` is trained on labelled pairs. Not yet used by hints or
clusters: ``python -m bench.dedup issues FILE --cv 5`` measures it (docs/benchmarks.md).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from core.chinese import load_jieba, to_simplified
from suggestions.dedup import pair_similarities
from suggestions.places import MASKED_PLACE, NAME_HEAD, mine_place_names, place_names


@dataclass(frozen=True)
class Text:
    """One proposal as the score sees it."""
    title: str
    body: str

    @property
    def whole(self) -> str:
        return f"{self.title}。{self.body}"


def _names_agreement(names_a: set[str], names_b: set[str], whole_a: str, whole_b: str) -> tuple[float, float, float]:
    """(least, most) share of one text's names the other mentions anywhere, and 1.0 for a conflict: both name
    places and neither mentions any of the other's. A pair without names gets a neutral 0.5."""
    shares = [sum(name in other for name in names) / len(names)
              for names, other in ((names_a, whole_b), (names_b, whole_a)) if names]
    conflict = float(bool(names_a) and bool(names_b) and not any(shares))
    return (min(shares), max(shares), conflict) if shares else (0.5, 0.5, 0.0)


FEATURES = ("copies_score", "title_chars", "body_chars", "title_words", "whole_words", "title_body_chars",
            "rare_words_shared", "title_rare_words_shared", "names_least", "names_most", "names_conflict",
            "numbers_shared", "length_ratio", "shorter_length")


class PairFeaturiser:
    """Features of pairs of proposals; idf and the place gazetteer are learned from a corpus once."""

    def __init__(self, corpus: Sequence[str]):
        self.jieba = load_jieba()
        corpus = [to_simplified(text) for text in corpus]
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(corpus)
        self.words = TfidfVectorizer(tokenizer=self.tokens, token_pattern=None, sublinear_tf=True,
                                     lowercase=False).fit(corpus)
        document_frequency = Counter(word for text in corpus for word in set(self.tokens(text)))
        self.idf = {word: math.log((len(corpus) + 1) / (df + 1)) + 1 for word, df in document_frequency.items()}
        self.unseen_idf = math.log(len(corpus) + 1) + 1
        self.place_counts = mine_place_names(corpus)

    def tokens(self, text: str) -> list[str]:
        """Words of two characters or more, without punctuation or masked places."""
        return [w for w in self.jieba.lcut(text) if len(w) >= 2 and not re.search(r"[\W_]", w)
                and not MASKED_PLACE.fullmatch(w)]

    def features(self, pairs: Sequence[tuple[Text, Text]]) -> np.ndarray:
        """One row of FEATURES per pair."""
        a = [Text(to_simplified(x.title), to_simplified(x.body)) for x, _ in pairs]
        b = [Text(to_simplified(y.title), to_simplified(y.body)) for _, y in pairs]
        columns = {
            "copies_score": pair_similarities([x.whole for x in a], [y.whole for y in b]),
            "title_chars": self._cosines(self.chars, [x.title for x in a], [y.title for y in b]),
            "body_chars": self._cosines(self.chars, [x.body for x in a], [y.body for y in b]),
            "title_words": self._cosines(self.words, [x.title for x in a], [y.title for y in b]),
            "whole_words": self._cosines(self.words, [x.whole for x in a], [y.whole for y in b]),
            "title_body_chars": np.maximum(self._cosines(self.chars, [x.title for x in a], [y.body for y in b]),
                                           self._cosines(self.chars, [x.body for x in a], [y.title for y in b])),
        }
        rows = [self._pair_row(x, y) for x, y in zip(a, b, strict=True)]
        for i, name in enumerate(FEATURES[len(columns):]):
            columns[name] = np.array([row[i] for row in rows])
        return np.column_stack([columns[name] for name in FEATURES])

    def _pair_row(self, a: Text, b: Text) -> tuple[float, ...]:
        names_a = place_names(a.title, self.place_counts) | place_names(a.body[:NAME_HEAD], self.place_counts)
        names_b = place_names(b.title, self.place_counts) | place_names(b.body[:NAME_HEAD], self.place_counts)
        numbers_a, numbers_b = set(re.findall(r"\d{2,}", a.whole)), set(re.findall(r"\d{2,}", b.whole))
        length_a, length_b = len(a.whole), len(b.whole)
        return (self._rare_shared(self.tokens(a.whole), self.tokens(b.whole)),
                self._rare_shared(self.tokens(a.title), self.tokens(b.title)),
                *_names_agreement(names_a, names_b, a.whole, b.whole),
                len(numbers_a & numbers_b) / len(numbers_a | numbers_b) if numbers_a | numbers_b else 0.5,
                min(length_a, length_b) / max(length_a, length_b, 1), math.log1p(min(length_a, length_b)))

    def _rare_shared(self, words_a: list[str], words_b: list[str]) -> float:
        """The share of both texts' words, weighted by idf, that the two have in common."""
        a, b = set(words_a), set(words_b)
        weight = lambda words: sum(self.idf.get(w, self.unseen_idf) for w in words)  # noqa: E731
        union = weight(a | b)
        return weight(a & b) / union if union else 0.0

    @staticmethod
    def _cosines(vectoriser: TfidfVectorizer, a: list[str], b: list[str]) -> np.ndarray:
        return np.asarray(vectoriser.transform(a).multiply(vectoriser.transform(b)).sum(axis=1)).ravel()


class SameIssueModel:
    """A logistic regression over standardised FEATURES; ``probability`` is P(same issue)."""

    THRESHOLD = 0.5

    def __init__(self, pipeline: Pipeline | None = None):
        self.pipeline = pipeline or make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=2000))

    def fit(self, features: np.ndarray, labels: np.ndarray) -> SameIssueModel:
        self.pipeline.fit(features, labels)
        return self

    def probability(self, features: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba(features)[:, 1]

    def weights(self) -> dict[str, float]:
        """Each feature's weight (on standardised features): what the model learned, for people to read."""
        return dict(zip(FEATURES, self.pipeline[-1].coef_[0].round(3).tolist(), strict=True))
