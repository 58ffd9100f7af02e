"""Rate limits (Flask-Limiter) in a store every serving process shares, and the answer a refused request gets.

Where the counters live (``RATELIMIT_STORAGE_URI``):

- unset (the embedded default): a SQLite file, ``instance/ratelimits.db`` (``core.ratelimit_sqlite``), shared by
  every worker on this machine;
- ``redis://…`` when Redis is configured: shared by every worker on every server;
- ``memory://``: this process only (one process, e.g. ``flask run``; gunicorn warns when it has more).

When the store stops answering (Redis down, the file unwritable), Flask-Limiter counts in this process's memory
until the store is back (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``, a retry after 1, 2, 4 … 32 s): every limit
keeps applying with its own numbers, per process, so the site neither refuses everyone (fail closed) nor
drops its limits (fail open), and a login never answers 500 because Redis stopped. Errors from the store
after that are logged and the request goes on (``RATELIMIT_SWALLOW_ERRORS``).

A refused request is a 429 with ``Retry-After`` (seconds) and a message in the user's language that says how long
to wait ("请10分钟后再试"); JSON answers add ``retry_after``.
"""
import math
import os
import time
from datetime import timedelta

from flask import current_app, request
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded

import core.ratelimit_sqlite  # noqa: F401 - registers the sqlite:// storage scheme with `limits`
from core.extensions import db, limiter
from core.network import rate_limit_address

# Redis must answer quickly or be treated as down: no request waits seconds for a counter.
REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}

# The first sentence of each limit's 429 message; "%(wait)s" becomes "10 minutes" / "10分钟".
MESSAGES = {
    "login_account": _l("Too many login attempts for this account. Please try again in %(wait)s, or choose a new "
                        "password with “Forgot your password?” to log in at once."),
    "login_address": _l("Too many failed logins from your network. Please try again in %(wait)s."),
    "register": _l("Too many accounts have been registered from your network. Please try again in %(wait)s."),
    "password": _l("Too many password requests. Please try again in %(wait)s."),
    "submit_account": _l("You have submitted many proposals in a short time. Please try again in %(wait)s."),
    "submit_address": _l("Many proposals have been submitted from your network in a short time. "
                         "Please try again in %(wait)s."),
    "vote": _l("You have voted many times in a short time. Please try again in %(wait)s."),
    "report": _l("You have sent many reports in a short time. Please try again in %(wait)s."),
    "api_write": _l("Too many writes with this API token. Please try again in %(wait)s."),
    "phone_code": _l("Too many verification codes have been asked for from your network. "
                     "Please try again in %(wait)s."),
    "phone_confirm_account": _l("You have typed many verification codes in a short time. "
                                "Please try again in %(wait)s."),
    "phone_confirm_address": _l("Many verification codes have been typed from your network in a short time. "
                                "Please try again in %(wait)s."),
}
GENERIC_MESSAGE = _l("Too many requests. Please try again in %(wait)s.")


def configure(app) -> None:
    """Choose the store and answer 429s (the client's address: see ``TRUSTED_PROXIES`` in app.py)."""
    config = app.config
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "ratelimits.db")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        config["RATELIMIT_STORAGE_OPTIONS"] = {**REDIS_OPTIONS, **config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    limiter.init_app(app)
    # Flask-Limiter keeps "the store is down" on the extension object, which every app of a process shares (tests
    # build many): a new app starts with its own store presumed up.
    limiter._storage_dead = False
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def configured(name: str):
    """A limit read from the configuration at request time (so tests and instance config can change it)."""
    return lambda: current_app.config[name]


def address_key() -> str:
    """The client's address (the first untrusted one when ``TRUSTED_PROXIES`` proxies are in front); for IPv6
    its /64, which one host usually owns whole (``core.network.rate_limit_address``). Every per-address limit,
    and every limit that names no key, counts with this key."""
    return f"address:{rate_limit_address(request.remote_addr)}"


def account_key(user_id: int) -> str:
    """The key of one account's limits, the same whether it acts through the pages or the API."""
    return f"account:{user_id}"


def saved(response) -> bool:
    """For limits that count what was recorded, not what was tried: a POST answered created (201) or
    redirected-after-saving (303). A GET is never a submission, even when it is redirected (a closed campaign's
    form answers 303)."""
    return request.method == "POST" and response.status_code in (201, 303)


def limit_submissions(account_key_func):
    """Proposals saved per account and per address, counted together for the form and the API (which name the
    account differently: ``account_key_func`` gives ``account_key(id)``). A form sent back for correction does not
    count; once the limit is reached, the form itself answers 429, before anything is typed in vain."""
    per_account = limiter.shared_limit(configured("SUBMIT_RATE_LIMIT"), scope="submissions",
                                       key_func=account_key_func, deduct_when=saved,
                                       error_message=MESSAGES["submit_account"])
    per_address = limiter.shared_limit(configured("SUBMIT_ADDRESS_RATE_LIMIT"), scope="submissions",
                                       key_func=address_key, deduct_when=saved,
                                       error_message=MESSAGES["submit_address"])
    return lambda view: per_account(per_address(view))


def limit_votes(account_key_func):
    """Votes and their withdrawal per account, every attempt counted, the form and the API together."""
    return limiter.shared_limit(configured("VOTE_RATE_LIMIT"), scope="votes", key_func=account_key_func,
                                error_message=MESSAGES["vote"])


def limit_reports(account_key_func):
    """Reports of proposals and replies per account, every attempt counted."""
    return limiter.shared_limit(configured("REPORT_RATE_LIMIT"), scope="reports", key_func=account_key_func,
                                error_message=MESSAGES["report"])


def seconds_to_wait(error: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit's window ends (its full length if the store cannot say)."""
    try:
        reset_at = limiter.current_limit.window.reset_time
    except Exception:  # noqa: BLE001 - the store may have gone away since; the window length is an upper bound
        return error.limit.limit.get_expiry()
    return max(1, math.ceil(reset_at - time.time()))


def wait_text(seconds: int) -> str:
    """How long to wait, rounded up to whole seconds, minutes or hours, in the user's language."""
    unit = 3600 if seconds > 3600 else 60 if seconds > 60 else 1
    return format_timedelta(timedelta(seconds=math.ceil(seconds / unit) * unit), threshold=1)


def too_many_requests(error: RateLimitExceeded):
    """429 with Retry-After and a message saying how long to wait (JSON for API-style requests)."""
    from core.web import error_response
    db.session.rollback()
    seconds = seconds_to_wait(error)
    template = error.description if error.limit.error_message else GENERIC_MESSAGE
    message = str(template) % {"wait": wait_text(seconds)}
    return error_response(message, 429, {"Retry-After": str(seconds)}, extra={"retry_after": seconds})

