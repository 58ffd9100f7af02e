"""Chinese text as search, similarity and routing compare it: Traditional folded to Simplified, jieba words.

No Flask here: the pure engines (``suggestions.dedup``, ``suggestions.routing``) use it too.
"""
import functools
import unicodedata

_converter = None
_jieba_ready = False


def to_simplified(text: str) -> str:
    """Fold Traditional characters to Simplified (OpenCC t2s), so 停車難 and 停车难 are one text."""
    global _converter
    if _converter is None:
        import opencc
        _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


def fold(text: str) -> str:
    """Text as search compares it: NFKC (full-width → half-width), Simplified, lower case."""
    return to_simplified(unicodedata.normalize("NFKC", text or "")).lower()


def load_jieba():
    """jieba, with its dictionary loaded once per process (about 1.5 s); paddle mode is never enabled."""
    global _jieba_ready
    import jieba
    if not _jieba_ready:
        import logging
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba_ready = True
    return jieba


@functools.cache
def segmenter_versions() -> str:
    """jieba's and OpenCC's versions: part of every digest of what was derived from their output (a new version may
    cut or convert a text otherwise)."""
    import jieba
    import opencc
    return f"{jieba.__version__}/{opencc.__version__}"


TOKENS_VERSION = 2  # bump when word_spans changes: indexes built with another version are rebuilt


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def word_spans(folded: str):
    """(word, start, end) for every jieba word and sub-word of already folded text, skipping spaces and
    punctuation. Search mode also emits the dictionary words inside long words (火车站 → 火车, 车站, 火车站).

    jieba's HMM guess at unknown words is off: it merges characters by context (锦绣华庭 alone → 锦绣|华庭,
    锦绣华庭到 → 锦绣|华庭到), so a query would miss text in which the same name is followed by another
    character. Without it a name splits into dictionary words and single characters the same way wherever
    it stands (checked on 8,000 word-aligned queries from real messages: no miss), and tokenising is faster.
    Where it falls back to single characters (an unknown word such as 护学岗 → 护|学|岗), each pair of
    adjacent characters is a word too (护学, 学岗), so a query for 护学岗 needs them side by side rather than
    anywhere in the text.
    """
    previous = None  # the preceding single Chinese character, while a run of them lasts
    for word, start, end in load_jieba().tokenize(folded, mode="search", HMM=False):
        if not (word.strip() and any(ch.isalnum() for ch in word)):
            previous = None
            continue
        yield word, start, end
        if len(word) == 1 and _is_cjk(word):
            if previous is not None and previous[2] == start:
                yield previous[0] + word, previous[1], end
            previous = (word, start, end)
        else:
            previous = None
