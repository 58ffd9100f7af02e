"""Near-duplicate text features: normalisation, hashed character n-gram rows and the similarity of two rows.

The base layer of ``suggestions.dedup`` (which re-exports everything public here); pure, no Flask, no database.

normalise   NFKC, Traditional → Simplified (OpenCC t2s), lower case, greetings and sign-offs dropped, every run
            of punctuation/whitespace folded to one space (a clause boundary).
features    hashed character uni-, bi- and trigrams (bi/trigrams within a clause), all computed with numpy over
            the code points, weighted (1 + log tf) · idf² with idf fitted on the campaign's own corpus. Each block
            is L2-normalised and scaled by √ of a length-aware weight — (0.7, 0.2, 0.1) up to 40 characters,
            (0.2, 0.4, 0.4) from 120 on, linear in between — so one dot product is the similarity for pairs,
            top-k queries and clusters alike: unigrams carry short questions, bi/trigrams long proposals, where
            shared characters mostly mean a shared topic. idf saturates at the rarity of one text in
            IDF_RARITY (20,000), so scores do not drift down as a campaign grows: a feature seen once in a million
            texts (a typo, an edit) weighs what one seen in 50 does.
similarity  that dot product, for short and long texts alike. A penalty for very short pairs, fitted on LCQMC
            dev, was removed: on held-out paraphrase pairs of the same kind it lowered F1 (0.687 against 0.745
            without it), and on short questions of another domain it set half of all pairs to zero (issue 13).
"""
from __future__ import annotations

import re
import signal
import unicodedata
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from core.chinese import load_jieba, to_simplified

THRESHOLD = 0.55
"""Configured similarity at or above which two proposals count as near-duplicates."""

SHORT_WEIGHTS, LONG_WEIGHTS = (0.7, 0.2, 0.1), (0.2, 0.4, 0.4)
SHORT, LONG = 40, 120
"""Weights of the character uni-, bi- and trigram cosines: SHORT_WEIGHTS for texts of at most SHORT characters,
LONG_WEIGHTS from LONG characters on, linearly in between (each text's blocks are scaled by √ its weights)."""

IDF_POWER = 2.0
"""idf is raised to this power: rare characters and n-grams (names, places, figures) dominate."""

IDF_RARITY = 20_000
"""idf = log((1 + n) / (1 + max(df, n / IDF_RARITY))) + 1: no feature counts as rarer than one text in 20,000.
Without it the weight of features seen once grows with log n and a million-text campaign scores a rewrite lower
against its original than a 100,000-text one (planted pairs at 200,000 texts: 97.1% reach the threshold without
the floor, 99.1% with it). Campaigns under 20,000 texts are unaffected."""

GREETINGS = ("尊敬的各位领导您好", "尊敬的领导您好", "尊敬的领导你好", "尊敬的领导", "各位领导好", "各位领导",
             "领导您好", "领导你好", "领导好", "您好", "你好")
SIGN_OFFS = ("希望领导重视", "恳请领导重视", "请领导重视", "望领导重视", "此致敬礼", "此致", "敬礼", "望采纳",
             "望领导采纳", "请采纳", "谢谢领导", "谢谢您", "谢谢")
STOCK_PHRASES = tuple(sorted(GREETINGS + SIGN_OFFS, key=len, reverse=True))

_TF_MAX = 255
"""A term count is capped here (rows of a whole campaign store counts as uint8); only a character repeated more
than 255 times in one text is affected."""
_ONE_PLUS_LOG = (1 + np.log(np.maximum(np.arange(_TF_MAX + 1), 1))).astype(np.float32)
_ONE_PLUS_LOG[0] = 0.0

_UNI_BITS, _BI_BITS, _TRI_BITS = 20, 22, 22
_OFFSETS = (0, 1 << _UNI_BITS, (1 << _UNI_BITS) + (1 << _BI_BITS))
N_FEATURES = _OFFSETS[2] + (1 << _TRI_BITS)
_CANDIDATE_START = _OFFSETS[1]  # unigrams are too common to propose candidates

Id = Hashable

# --- normalisation ---------------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Text as similarity sees it: NFKC, Simplified, lower case, stock phrases dropped, clauses split by one space.

    >>> normalise("尊敬的領導您好！停車難，ＡＢＣ。謝謝")
    '停车难 abc'
    """
    folded = _NON_WORD.sub(" ", to_simplified(unicodedata.normalize("NFKC", text or "")).lower())
    for phrase in STOCK_PHRASES:
        if phrase in folded:
            folded = folded.replace(phrase, " ")
    return " ".join(folded.split())


def exact_key(normalised: str) -> str:
    """What two texts must share to be exact duplicates: the normalised text without clause boundaries."""
    return normalised.replace(" ", "")


_keyword_extractor = None
KEYWORD_STOPWORDS = frozenset("建议 希望 问题 我们 他们 你们 一个 这个 那个 没有 可以 能够 已经 相关 有关 部门 领导 "
                              "政府 进行 目前 现在 非常 一些 很多 情况 反映 解决 尽快 谢谢 居民 群众 大家 这样 "
                              "如果 因为 所以 但是".split())


_NUMERALS = set("一二三四五六七八九十百千万两几多半")


_FUNCTION_CHARACTERS = set("的了都也就还又很太把被给让不没是在和与及或而但着过吗呢吧啊从对向我你他她它")


def load_keyword_tools() -> tuple:
    """What ``keywords`` reads (jieba, its word tags, idf and stop words), loaded once a process: load it before
    forking processes that draw keywords, so that they share it."""
    global _keyword_extractor
    if _keyword_extractor is None:
        load_jieba()
        import jieba
        import jieba.analyse
        import jieba.posseg
        extractor = jieba.analyse.TFIDF()
        _keyword_extractor = (jieba, jieba.posseg.dt.word_tag_tab, extractor.idf_freq, extractor.median_idf,
                              extractor.stop_words | KEYWORD_STOPWORDS)
    return _keyword_extractor


def keywords(texts: Sequence[str], k: int = 5) -> list[str]:
    """The k most distinctive words of a cluster's member texts: term frequency times jieba's bundled idf, without
    stock proposal words such as 建议 or 问题. Words: the dictionary's nouns and verbs (by its own tags), and a word
    jieba guessed (护学岗) only when two members use it, it has three characters or more, no function character and
    does not start with a numeral; and the place or entity names the members share (锦绣华庭, 下湾), whole, never
    their pieces; never one character doubled. The newcomer saw 村村 (a mis-split 村村口), 十二三, 好几起 and 过划车
    as keywords, and later 岗村, 不起 and 费都付."""
    jieba, tags, idf, median_idf, stop_words = load_keyword_tools()
    from suggestions.places import mine_place_names, place_names  # places imports this module
    mined = mine_place_names(texts)
    # Names the members share (锦绣华庭 of 锦绣华庭小区): a keyword whole, where jieba cuts it in two.
    names = {name for text in texts for name in place_names(text, mined) if mined[name] >= 2 and 2 <= len(name) <= 4
             and not set(name) & (_FUNCTION_CHARACTERS | _NUMERALS) and not name.endswith(("市", "县", "区", "省"))
             and not any(word in stop_words or tags.get(word, "x")[0] == "v" for word in jieba.lcut(name))}
    counts: dict[str, int] = {}
    texts_using: dict[str, int] = {}
    for text in texts:
        normalised = normalise(text)
        words = [w for w in jieba.lcut(normalised) if len(w) > 1 and len(set(w)) > 1 and w not in stop_words]
        words += [name for name in names if name in normalised]
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        for word in set(words):
            texts_using[word] = texts_using.get(word, 0) + 1

    def is_word(word: str) -> bool:
        if word in names:
            return True
        if any(word in name for name in names):
            return False  # a piece of a name already counted whole (华庭 of 锦绣华庭)
        tag = tags.get(word)
        if tag is not None:
            return tag[0] in "nv"
        # A guess must be used by two members, not start with a numeral and hold no function character (费都付 is
        # 物业费都付了 mis-split); a two-character guess must be a name the members share (下湾 of 下湾村, not 岗村).
        return (texts_using[word] >= 2 and word[0] not in _NUMERALS and not word[0].isdigit()
                and not set(word) & _FUNCTION_CHARACTERS and len(word) >= 3)
    ranked = sorted((w for w in counts if is_word(w)), key=lambda w: (-counts[w] * idf.get(w, median_idf), w))
    return ranked[:k]


# --- features ------------------------------------------------------------------------------------------------

def _counts(normalised: Sequence[str]) -> sp.csr_matrix:
    """Raw term counts of already normalised texts, hashed into the three column blocks."""
    if not normalised:  # a campaign with no public proposal yet
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    rows, cols = [], []
    lengths = np.fromiter((len(t) + 1 for t in normalised), dtype=np.int64, count=len(normalised))
    cps = np.frombuffer("\0".join(normalised).encode("utf-32-le") + b"\0\0\0\0", dtype=np.uint32).astype(np.uint64)
    doc = np.repeat(np.arange(len(normalised), dtype=np.int64), lengths)
    char = (cps != 0) & (cps != 32)
    rows.append(doc[char])
    cols.append(cps[char] & ((1 << _UNI_BITS) - 1))
    pair = char[:-1] & char[1:]
    bigram = (cps[:-1][pair] * np.uint64(0x9E3779B1) + cps[1:][pair]) & np.uint64((1 << _BI_BITS) - 1)
    rows.append(doc[:-1][pair])
    cols.append(bigram + np.uint64(_OFFSETS[1]))
    triple = pair[:-1] & pair[1:]
    trigram = ((cps[:-2][triple] * np.uint64(0x9E3779B1) + cps[1:-1][triple]) * np.uint64(0x85EBCA77)
               + cps[2:][triple]) & np.uint64((1 << _TRI_BITS) - 1)
    rows.append(doc[:-2][triple])
    cols.append(trigram + np.uint64(_OFFSETS[2]))
    r, c = np.concatenate(rows), np.concatenate(cols).astype(np.int32)
    m = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(normalised), N_FEATURES))
    m.sum_duplicates()
    return m


def _counts_parallel(normalised: Sequence[str], n_jobs: int, chunk: int = 20_000) -> sp.csr_matrix:
    parts = [normalised[i:i + chunk] for i in range(0, len(normalised), chunk)] or [[]]
    if n_jobs > 1 and len(parts) > 1:
        with forked_pool(n_jobs) as pool:
            mats = pool.map(_counts, parts)
    else:
        mats = [_counts(p) for p in parts]
    return sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]


def _normalise_all(texts: Sequence[str], n_jobs: int) -> list[str]:
    if n_jobs > 1 and len(texts) > 50_000:
        with forked_pool(n_jobs) as pool:
            return pool.map(normalise, texts, chunksize=5_000)
    return [normalise(t) for t in texts]


@contextmanager
def forked_pool(n_jobs: int) -> Iterator:
    """A multiprocessing pool of ``n_jobs`` processes forked from this one, closed and joined when the block ends
    (terminated if it raised). Its processes stop on SIGTERM and SIGINT as by default: forked from a job worker,
    they would otherwise keep RQ's handlers, which ask for a stop without stopping, and the pool's terminate would
    wait for them for ever."""
    import multiprocessing
    pool = multiprocessing.get_context("fork").Pool(n_jobs, initializer=_default_stop_signals)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _default_stop_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Featuriser:
    """Turns normalised texts into weighted, block-normalised sparse rows; idf is fitted once on a corpus."""

    def __init__(self, df: np.ndarray, n_docs: int):
        self.df = df
        self.n_docs = n_docs
        rarest = np.maximum(df, n_docs / IDF_RARITY)
        self.idf = ((np.log((1 + n_docs) / (1 + rarest)) + 1) ** IDF_POWER).astype(np.float32)

    @classmethod
    def fit(cls, normalised: Sequence[str], n_jobs: int = 1) -> tuple[Featuriser, sp.csr_matrix]:
        """Fit idf on the corpus and return (featuriser, rows of that corpus)."""
        return cls.fit_counts(_counts_parallel(normalised, n_jobs))

    @classmethod
    def fit_counts(cls, counts: sp.csr_matrix) -> tuple[Featuriser, sp.csr_matrix]:
        """``fit`` from the corpus' raw counts (``_counts``), which become its weighted rows in place."""
        df = np.bincount(counts.indices, minlength=N_FEATURES).astype(np.int32)
        featuriser = cls(df, counts.shape[0])
        return featuriser, featuriser._weigh(counts)

    def transform(self, normalised: Sequence[str], n_jobs: int = 1) -> sp.csr_matrix:
        """Rows of texts not necessarily in the fitted corpus (unknown features get the highest idf)."""
        return self._weigh(_counts_parallel(normalised, n_jobs))

    def idf_of(self, cols: np.ndarray) -> np.ndarray:
        """The (raised) idf of each of the given feature columns."""
        return self.idf[cols]

    def compact(self) -> CompactFeaturiser:
        """The same weights, keeping idf only for the features the corpus has (memory ∝ corpus, not 9.4M)."""
        vocab = np.flatnonzero(self.df).astype(np.int32)
        return CompactFeaturiser(vocab, self.df[vocab], self.n_docs)

    def _weigh(self, counts: sp.csr_matrix, chunk: int = 20_000) -> sp.csr_matrix:
        """(1 + log tf) · idf, each block L2-normalised and scaled by √ its length-dependent weight; in row
        chunks, so the temporaries stay small."""
        for s in range(0, counts.shape[0], chunk):
            lo, hi = counts.indptr[s], counts.indptr[min(s + chunk, counts.shape[0])]
            cols, data = counts.indices[lo:hi], counts.data[lo:hi]
            row = np.repeat(np.arange(min(chunk, counts.shape[0] - s)), np.diff(counts.indptr[s:s + chunk + 1]))
            block = np.searchsorted(np.asarray(_OFFSETS[1:]), cols, side="right")
            length = np.bincount(row[block == 0], weights=data[block == 0], minlength=row[-1] + 1 if len(row) else 0)
            data = (1 + np.log(np.minimum(data, _TF_MAX))) * self.idf_of(cols)
            key = row * 3 + block
            norms = np.sqrt(np.bincount(key, weights=data.astype(np.float64) ** 2, minlength=len(length) * 3))
            counts.data[lo:hi] = np.sqrt(block_weights(length)[row, block]) * data / np.maximum(norms[key], 1e-12)
        return counts


class CompactFeaturiser(Featuriser):
    """A fitted ``Featuriser`` holding df and idf for its corpus' features only (``vocab``, sorted column ids):
    a campaign of 150 proposals keeps a few thousand numbers instead of three arrays of 9.4 million (108 MiB),
    so a process can hold the index of every open campaign. Unknown features get the highest idf, as before."""

    def __init__(self, vocab: np.ndarray, df: np.ndarray, n_docs: int, idf: np.ndarray | None = None):
        self.vocab, self.vocab_df, self.n_docs = vocab, df, n_docs
        if idf is None:  # else given as saved (``dedup_index``): a mapped index computes nothing on load
            rarest = np.maximum(df, n_docs / IDF_RARITY)
            idf = ((np.log((1 + n_docs) / (1 + rarest)) + 1) ** IDF_POWER).astype(np.float32)
        self.vocab_idf = idf
        self.unknown_idf = np.float32((np.log((1 + n_docs) / (1 + n_docs / IDF_RARITY)) + 1) ** IDF_POWER)

    def positions(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``vocab``, known?) of each feature column."""
        at = np.minimum(np.searchsorted(self.vocab, cols), max(len(self.vocab) - 1, 0))
        known = self.vocab[at] == cols if len(self.vocab) else np.zeros(len(cols), dtype=bool)
        return at, known

    def idf_of(self, cols: np.ndarray) -> np.ndarray:
        at, known = self.positions(cols)
        return np.where(known, self.vocab_idf[at] if len(self.vocab) else self.unknown_idf, self.unknown_idf)

    @property
    def df(self) -> np.ndarray:
        """df over every column (a full-size array, built on demand for whole-campaign clustering)."""
        full = np.zeros(N_FEATURES, dtype=np.int32)
        full[self.vocab] = self.vocab_df
        return full


def block_weights(lengths: np.ndarray) -> np.ndarray:
    """Per-text weights of the three blocks (n × 3) for texts of the given lengths in characters."""
    t = np.clip((np.asarray(lengths, dtype=np.float64) - SHORT) / (LONG - SHORT), 0.0, 1.0)[:, None]
    return (1 - t) * np.asarray(SHORT_WEIGHTS) + t * np.asarray(LONG_WEIGHTS)


def similarity(dots: np.ndarray) -> np.ndarray:
    """The similarity of two texts from the dot product of their rows, in [0, 1] (rounding can pass 1)."""
    return np.clip(np.asarray(dots, dtype=np.float64), 0.0, 1.0).astype(np.float32)


def _kind(exact: bool, same_author: bool, score: float, threshold: float) -> str:
    if same_author and (exact or score >= threshold):
        return "same_author_repost"
    if exact:
        return "exact"
    return "similar" if score >= threshold else "related"
