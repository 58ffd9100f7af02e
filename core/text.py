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


def has_format_characters(value: str) -> bool:
    """True if the text holds invisible format characters (Unicode category Cf): bidi overrides and isolates
    (U+202A-U+202E, U+2066-U+2069) that reverse text on the page, zero-width spaces and joiners, soft hyphens,
    byte-order marks. They let a text look like something it is not, so no field accepts them."""
    return any(unicodedata.category(ch) == "Cf" for ch in value)


def remove_format_characters(value: str) -> str:
    """The text without its format characters (for input that cannot be sent back for retyping: a search query,
    an imported message)."""
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf") if has_format_characters(value) else value


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
    if has_format_characters(value):
        raise InvalidInput(_l("%(field)s contains invisible formatting characters (such as text-direction marks "
                              "or zero-width spaces). Please remove them, for example by typing the text again.",
                              field=field))
    if len(value) < min_length:
        if not value:
            raise InvalidInput(_l("%(field)s must not be empty.", field=field))
        raise InvalidInput(_l("%(field)s must be at least %(min)d characters.", field=field, min=min_length))
    if len(value) > max_length:
        raise InvalidInput(_l("%(field)s must be at most %(max)d characters (it has %(n)d).",
                              field=field, max=max_length, n=len(value)))
    return value
