"""What a new password must be: applied at registration, password change and reset (pure, no database).

Following NIST SP 800-63B (and Decidim's password validator) rather than composition rules: a minimum length,
not built on the account's own name or e-mail, not one of a few characters repeated, and not a common password.
Common passwords are zxcvbn's list of the 30,000 most frequent ones (from Xato's corpus of leaked passwords,
shipped inside the package: nothing is fetched) plus ``data/common_passwords_zh.txt``, a short list of patterns
common among Chinese users that the Xato list lacks (520/1314, pinyin, QQ).
"""
import string
import unicodedata
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.errors import InvalidInput

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
MIN_NAME_INSIDE = 4  # a shorter username (3 characters) is refused only as the whole password: "lee" is in "sleepless"
_ZH_LIST = Path(__file__).parent / "data" / "common_passwords_zh.txt"
_PADDING = string.digits + string.punctuation + " "


class WeakPassword(InvalidInput):
    """A new password that the policy refuses; the message says which rule and how to do better."""


@cache
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower case (loaded once per process, about 0.1 s)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    extra = (line.strip() for line in _ZH_LIST.read_text(encoding="utf-8").splitlines())
    return frozenset(FREQUENCY_LISTS["passwords"]) | {line for line in extra if line and not line.startswith("#")}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def _is_common(folded: str) -> bool:
    """The password, or its core once digits and punctuation around it are removed (dragon2026!), is common."""
    listed = common_passwords()
    candidates = {folded, folded.strip(_PADDING), folded.rstrip(_PADDING), folded.lstrip(_PADDING)}
    return any(len(c) >= 4 and c in listed for c in candidates)


def check_password_policy(password: str | None, *, username: str = "", email: str = "") -> None:
    """Raise ``WeakPassword`` unless ``password`` may be used by the account ``username`` (with ``email``)."""
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise WeakPassword(_l("The password must be at least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPassword(_l("The password must be at most %(n)d characters.", n=PASSWORD_MAX_LENGTH))
    folded = _fold(password)
    name = _fold(username)
    if name and (folded == name or (len(name) >= MIN_NAME_INSIDE and name in folded)):
        raise WeakPassword(_l("The password must not contain your username."))
    mailbox = _fold(email).partition("@")[0]
    if len(mailbox) >= MIN_NAME_INSIDE and mailbox in folded:
        raise WeakPassword(_l("The password must not contain your e-mail address."))
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise WeakPassword(_l("The password must use at least %(n)d different characters.",
                              n=MIN_DISTINCT_CHARACTERS))
    if _is_common(folded):
        raise WeakPassword(_l("This password is among the most common ones and easy to guess. "
                              "Choose another, for example a few unrelated words."))
