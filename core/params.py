"""Numbers from requests, kept within what the database can hold.

SQLite raises ``OverflowError`` for integers past 2^63 and PostgreSQL's id columns stop at 2^31 - 1, so an id
or a page number taken from a URL, a query string or a form is checked here, once, before any query sees it:
the ``int`` URL converter of the whole application is ``IdConverter`` (a larger number is a 404, like any id
that names nothing), ``record_id`` is the ``type=`` for ids read with ``request.args.get`` or
``request.form.get``, and every ``db.paginate`` reads its page number through ``page_number``.
"""
from flask import request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest id a column holds
MAX_PAGE = 10_000  # deeper pages are not offered (lists show 20 a page)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a whole number from 0 to ``MAX_ID``; a larger one matches no route (404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 - Werkzeug's names
        super().__init__(url_map, fixed_digits, min, max, signed)


def record_id(raw: str) -> int:
    """An id from a query string or a form (``type=record_id``); raises ValueError, which makes
    ``MultiDict.get`` answer its default, for anything but a whole number from 1 to ``MAX_ID``."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise ValueError(f"not an id: {raw[:20]!r}")
    return int(raw)


def page_number() -> int:
    """The ``page`` query parameter as a number from 1 to ``MAX_PAGE`` (1 when it is not a whole number)."""
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return min(max(int(raw), 1), MAX_PAGE)
