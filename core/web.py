"""Request-side helpers: error pages, JSON-or-HTML answers, safe redirects, input guards and security headers."""
from urllib.parse import unquote_to_bytes, urlsplit

import sqlalchemy as sa
from flask import current_app, flash, g, has_request_context, jsonify, make_response, redirect, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from core.database import is_lock_timeout, is_unreachable
from core.errors import DomainError
from core.extensions import db

FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_JSON_DEPTH = 20  # the API's bodies are flat objects; deeper nesting is refused, never recursed into
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def wants_json() -> bool:
    """True for API-style requests (the JSON API, a JSON body, JSON accepted first, or our fetch() calls)."""
    if request.path.startswith("/api/v1/") or request.is_json or request.headers.get("X-Requested-With") == "fetch":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def safe_next_url(target: str | None, default: str) -> str:
    """Only local paths are followed after login or a form post (no open redirects)."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def error_response(message: str, status: int, headers: dict | None = None, extra: dict | None = None):
    """The error as JSON for API-style requests (with ``extra`` fields), otherwise as a page in the user's
    language."""
    if wants_json():
        response = jsonify(error=message, status=status, **(extra or {}))
    else:
        response = make_response(render_template("errors/error.html", message=message, status=status))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def redirect_with_error(error: DomainError, target: str):
    """After a refused form post: roll back, then flash the error and go back (or answer JSON).

    A refusal for lack of rights is re-raised so that it ends as a 403, not as a flash.
    """
    db.session.rollback()
    if error.status_code == 403:
        raise error
    if wants_json():
        return error_response(str(error.message), error.status_code)
    flash(str(error.message), "error")
    return redirect(target, code=303)


def saved_then(location: str) -> None:
    """Say, just before committing a citizen's write, where its result is shown. Should the request fail after
    that commit (the database or Redis going away while the page is made), the answer then says it was saved and
    leads there, instead of "Nothing was saved", which would have the author send it again."""
    g.saved_location = location


def _note_saved(_session) -> None:
    if has_request_context() and "saved_location" in g:
        g.saved_committed = True


def _saved_answer():
    """The answer to a request that failed after its write was committed: saved, and where to see it."""
    message = _("Your change was saved. The page could not be shown in full: here is the result.")
    if wants_json():
        return jsonify(saved=True, message=message, location=g.saved_location), 200
    flash(message, "success")
    return redirect(g.saved_location, code=303)


def register_error_handlers(app) -> None:
    """Every error ends as a clear message with a 4xx/5xx status, never a stack trace; a write that was committed
    is never answered as failed (``saved_then``); a locked or unreachable database is a 503 with Retry-After."""
    if not sa.event.contains(db.session, "after_commit", _note_saved):  # once, however many apps are built
        sa.event.listen(db.session, "after_commit", _note_saved)

    @app.teardown_appcontext
    def _end_session(_error=None):
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier, so called later). Closing rolls back on
        # the connection; if the server went away after the request's commit that raises, and an error here would
        # reach gunicorn as a bare 500 although the answer (perhaps "saved") was made: discard the connection.
        try:
            db.session.remove()
        except Exception:  # noqa: BLE001 - see above; the pool opens a new connection next time
            app.logger.warning("database session could not be closed; its connection is discarded", exc_info=True)
            try:
                db.session.invalidate()
            except Exception:  # noqa: BLE001, S110 - nothing more can be done with a dead connection
                pass
            db.session.registry.clear()

    @app.errorhandler(DomainError)
    def _domain(error):
        _rollback_quietly()
        return error_response(str(error.message), error.status_code)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        _rollback_quietly()
        return error_response(_("The form has expired or did not come from this site. "
                                "Please reload the page and try again."), 400)

    @app.errorhandler(OperationalError)
    def _operational(error):
        _rollback_quietly()
        if g.get("saved_committed"):
            app.logger.warning("database error after the commit: answered as saved (%s)", error.orig)
            return _saved_answer()
        # The page must not touch the database again (the user loader may be what timed out).
        g._login_user = AnonymousUserMixin()
        if is_lock_timeout(error) or is_unreachable(error):
            if not is_lock_timeout(error):
                app.logger.warning("database unreachable: %s", error.orig)
            return error_response(_("The site is busy. Please try again in a moment."), 503,
                                  {"Retry-After": "2"})
        app.logger.exception("database error")
        return error_response(_server_error_message(), 500)

    @app.errorhandler(HTTPException)
    def _http(error):
        _rollback_quietly()
        messages = {
            400: _("The request was not understood."),
            403: _("You are not allowed to do this."),
            404: _("The page was not found."),
            405: _("This action is not available here."),
            413: _("What you sent is too large."),
            429: _("Too many requests. Please wait a moment."),
        }
        return error_response(messages.get(error.code, _("The request could not be carried out.")),
                              error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error):
        _rollback_quietly()
        if g.get("saved_committed"):
            app.logger.exception("error after the commit: answered as saved")
            return _saved_answer()
        app.logger.exception("unhandled error")
        return error_response(_server_error_message(), 500)


def _rollback_quietly() -> None:
    """Roll back before the error page; on a connection that is gone, rolling back fails too: discard it."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the pool replaces the connection
        db.session.invalidate()


def _server_error_message() -> str:
    if request.method in ("GET", "HEAD"):
        return _("Something went wrong on our side. Please try again in a moment.")
    return _("Something went wrong on our side. Nothing was saved.")


def reject_unusable_input():
    """Refuse a request whose text cannot be stored: form bytes that are not UTF-8 (Werkzeug would drop the
    whole form silently) or NUL characters (PostgreSQL cannot store them) in the query or the form; and a body
    that is not form fields sent to a page's form (Flask-WTF would read JSON into fields that expect text).
    The JSON API (/api/v1/) reads its own bodies."""
    if (request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/v1/")
            and (request.content_length or request.mimetype) and request.mimetype not in FORM_MIMETYPES):
        return error_response(_("This address takes the fields of a form only: please use the form on the page. "
                                "Nothing was saved."), 400)
    bad = any("\x00" in value for value in request.args.values())
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)
        try:
            bad = bad or "\x00" in unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad = True
    if bad:
        return error_response(_("What you sent contains invalid characters. "
                                "Nothing was saved; please check the text and try again."), 400)
    return None


def add_security_headers(response):
    """A strict CSP (no inline script or style), the usual hardening headers, and HSTS when ``HSTS_SECONDS``."""
    hsts = current_app.config.get("HSTS_SECONDS", 0)
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing request bodies nested deeper than ``MAX_JSON_DEPTH``: ``get_json`` then fails
    with a 400 (or gives None when silent) instead of raising RecursionError."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _nesting(value) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        return value


def _nesting(value) -> int:
    """How deeply lists and objects nest in ``value`` (walked without recursion; stops past the limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest
