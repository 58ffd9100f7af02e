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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from core.chinese import load_jieba, to_simplified
from suggestions.dedup import pair_similarities


@dataclass(frozen=True)
class Text:
    """One proposal as the score sees it."""
    title: str
    body: str

    @property
    def whole(self) -> str:
        return f"{self.title}。{self.body}"


PLACE_SUFFIXES = tuple("小区 花园 家园 新城 新村 公寓 广场 大厦 大道 路 街 巷 村 社区 街道 镇 乡 "
                       "学校 小学 中学 幼儿园 大学 学院 医院 公司 集团 厂 市场 商场 公园 车站 "
                       "桥 苑 府 城 湾 园 中心 酒店 银行 湖 山 港".split())
_SUFFIX_RE = re.compile("|".join(sorted(PLACE_SUFFIXES, key=len, reverse=True)))
_NAME_CHUNKS = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
_MASKED_PLACE = re.compile(r"[A-Z]\d*[市区县省]")  # the shared data masks real places as A市, A2区
_NOT_A_NAME_START = set("在的是我于到和与及从对向住这那该本其个了把被给为将由")
_GENERIC_NAMES = set("我们 你们 他们 这个 那个 一个 附近 旁边 周边 小区 社区 我家 本人 业主 居民 现在 目前 请问 "
                     "投诉 举报 关于 反映 建议 希望 还有 已经 没有 我是 位于 所在 整个 城市 马路 道路 公路 农村 学校 "
                     "中小 所有 周围 城区 市区 全市 市政 我市 本市 其他 相关".split())
NAME_LENGTHS = range(2, 7)
NAME_HEAD = 60
"""Place names are read from the title and the body's first 60 characters: where citizens say where."""


def _suffix_positions(text: str) -> Iterable[tuple[str, int]]:
    for chunk in _NAME_CHUNKS.split(_MASKED_PLACE.sub(" ", text)):
        for match in _SUFFIX_RE.finditer(chunk):
            if match.start() >= NAME_LENGTHS.start:
                yield chunk, match.start()


def mine_place_names(texts: Iterable[str]) -> Counter:
    """How many texts hold each candidate name (2-6 characters just before a place suffix)."""
    counts = Counter()
    for text in texts:
        counts.update({chunk[end - k:end] for chunk, end in _suffix_positions(text) for k in NAME_LENGTHS
                       if end - k >= 0})
    return counts


def place_names(text: str, counts: Counter) -> set[str]:
    """The place and entity names in ``text``: before each suffix, the longest candidate that at least two texts
    of the corpus share and that is not much rarer than its shorter tail (so 丽发新城, not 旁建丽发新城)."""
    names = set()
    for chunk, end in _suffix_positions(text):
        best = None
        for k in NAME_LENGTHS:
            if end - k < 0:
                break
            candidate = chunk[end - k:end]
            if candidate[0] in _NOT_A_NAME_START:
                continue
            seen = counts.get(candidate, 0)
            if seen >= 2 and (best is None or seen >= 0.34 * counts.get(best, 1)):
                best = candidate
        if best and best not in _GENERIC_NAMES:
            names.add(best)
    return names


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
                and not _MASKED_PLACE.fullmatch(w)]

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
