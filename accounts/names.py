"""How people appear in public: display names that cannot pass for a body, and pseudonyms for those without one.

Login names (usernames) are never shown publicly: a person without a display name appears as a stable
pseudonym such as 网友·3F8A2C, derived from the user id with a keyed hash (HMAC-SHA256 with ``PSEUDONYM_KEY``,
by default the site's secret key), so it cannot be worked out from the username or the id.
"""
import hashlib
import hmac
import re
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from core.chinese import to_simplified
from core.errors import InvalidInput
from core.extensions import db
from core.text import clean_text

DISPLAY_NAME_MAX_LENGTH = 40
# Words that make a name look official, compared after folding (Traditional → Simplified, width, case) and
# ignoring spaces and punctuation, so 政協, 人 大 and ＡＤＭＩＮ are refused too.
RESERVED_WORDS = ("人大", "政协", "政府", "管理员", "官方", "常委会", "委员会", "党委", "纪委", "监委", "法院",
                  "检察院", "公安局", "审核员", "客服", "建言平台",
                  "admin", "administrator", "moderator", "official")
MIN_BODY_FRAGMENT = 4  # a display name this long that is part of a body's Chinese name (交通运输) imitates it
SHARED_FRAGMENT = 5  # and so does one sharing this many characters in a row with it (交通运输局小张)
PSEUDONYM_DIGITS = 6
_PSEUDONYM_LIKE = re.compile(r"(网友|participant)[0-9a-f]*")


class DisplayNameRefused(InvalidInput):
    """A display name the rules refuse: one that could be taken for a body or the site's staff, or says nothing."""


def _skeleton(text: str) -> str:
    """Letters and digits only, Simplified, width-folded and lower case: what a reader takes a name to say."""
    folded = to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _imitates_body(name: str) -> bool:
    """The name contains a body's Chinese or English name, is a part of its Chinese name at least
    ``MIN_BODY_FRAGMENT`` characters long, or shares ``SHARED_FRAGMENT`` characters in a row with it (only Chinese
    names are cut into parts: a few Latin letters in common mean nothing)."""
    from accounts.models import Body

    for body_name, body_name_en in db.session.execute(sa.select(Body.name, Body.name_en)):
        chinese, english = _skeleton(body_name), _skeleton(body_name_en or "")
        if (chinese and chinese in name) or (english and english in name):
            return True
        if chinese.isascii() or name.isascii():
            continue
        if len(name) >= MIN_BODY_FRAGMENT and name in chinese:
            return True
        if any(chinese[i:i + SHARED_FRAGMENT] in name for i in range(len(chinese) - SHARED_FRAGMENT + 1)):
            return True
    return False


def check_display_name(display_name: str | None) -> str:
    """The cleaned display name ("" for none); raises ``InvalidInput`` for characters or length, and
    ``DisplayNameRefused`` for a name containing a reserved word or a body's name (or part of one), looking like
    a pseudonym or made of punctuation only."""
    display_name = clean_text(display_name, field=_l("Display name"), max_length=DISPLAY_NAME_MAX_LENGTH,
                              min_length=0)
    skeleton = _skeleton(display_name)
    if not skeleton:
        if display_name:
            raise DisplayNameRefused(_l("A display name needs at least one letter, digit or Chinese character."))
        return ""
    if any(_skeleton(word) in skeleton for word in RESERVED_WORDS):
        raise DisplayNameRefused(_l("A display name may not contain words such as 人大, 政协, 政府, 官方 or "
                                    "管理员, so that no one is taken for a body or the site's staff."))
    if _PSEUDONYM_LIKE.fullmatch(skeleton):
        raise DisplayNameRefused(_l("A display name may not look like the code names the site gives to "
                                    "people without one."))
    if _imitates_body(skeleton):
        raise DisplayNameRefused(_l("A display name may not copy the name of a body on this site."))
    return display_name


def pseudonym_code(user_id: int, key: str | bytes) -> str:
    """The stable code that stands for a user without a display name (hexadecimal, upper case)."""
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"jianyan-user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_DIGITS].upper()


def pseudonym(user_id: int) -> str:
    """网友·3F8A2C (Participant 3F8A2C): the public name of a user who chose no display name."""
    key = current_app.config.get("PSEUDONYM_KEY") or current_app.config["SECRET_KEY"]
    return gettext("Participant·%(code)s", code=pseudonym_code(user_id, key))
