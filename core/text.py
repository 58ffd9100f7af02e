"""Text normalisation and validation shared by forms and services."""
import unicodedata

from flask_babel import lazy_gettext as _l

from core.errors import InvalidInput

_ALLOWED_CONTROLS = {"\n", "\t"}


def has_invalid_characters(value: str) -> bool:
    """True if the text holds control characters, lone surrogates or U+FFFD (what broken UTF-8 decodes to)."""
    for ch in value:
        if ch in _ALLOWED_CONTROLS:
            continue
        if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cs"):
            return True
    return False


def normalise_input(value: str | None, *, multiline: bool = False) -> str:
    """Strip surrounding whitespace; fold line endings; single-line values lose inner newlines and tabs."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = " ".join(value.split()) if any(c in value for c in "\n\t") else value
    return value.strip()


def clean_text(value: str | None, *, field: str, max_length: int, min_length: int = 1,
               multiline: bool = False) -> str:
    """Return the normalised text or raise ``InvalidInput`` with a message naming the field."""
    value = normalise_input(value, multiline=multiline)
    if has_invalid_characters(value):
        raise InvalidInput(_l("%(field)s contains invalid characters (control characters or broken encoding).",
                              field=field))
    if len(value) < min_length:
        if not value:
            raise InvalidInput(_l("%(field)s must not be empty.", field=field))
        raise InvalidInput(_l("%(field)s must be at least %(min)d characters.", field=field, min=min_length))
    if len(value) > max_length:
        raise InvalidInput(_l("%(field)s must be at most %(max)d characters (it has %(n)d).",
                              field=field, max=max_length, n=len(value)))
    return value


# --- Folding and tokens for search and similarity -------------------------------------------------------------

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


def _jieba():
    """jieba, with its dictionary loaded once per process (about 1.5 s); paddle mode is never enabled."""
    global _jieba_ready
    import jieba
    if not _jieba_ready:
        import logging
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba_ready = True
    return jieba


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
    for word, start, end in _jieba().tokenize(folded, mode="search", HMM=False):
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
