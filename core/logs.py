"""Structured logs: every record carries the id of the request (or job) it belongs to.

A request takes its id from the ``X-Request-Id`` header when a proxy sent a usable one, else a new one, and sends
it back in the same header; a job carries the id of the request that queued it, so the lines of one citizen's
submission can be found together in the app servers' and the workers' logs. ``LOG_FORMAT = "json"`` writes one
JSON object per line (python-json-logger) for a log collector; ``"text"`` one readable line.
"""
import contextvars
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-Id"
_USABLE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")  # what a proxy's id looks like; anything else is replaced
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_install_once = {"factory": False}


def _record_factory(default_factory):
    def make_record(*args, **kwargs):
        record = default_factory(*args, **kwargs)
        record.request_id = request_id.get()
        return record
    return make_record


def new_request_id() -> str:
    return uuid.uuid4().hex


def usable_request_id(value: str | None) -> str:
    """The id a proxy sent, if it is a short token; a fresh one otherwise (never text from a visitor's header
    that could forge or break a log line)."""
    return value if value and _USABLE_ID.fullmatch(value) else new_request_id()


def configure(app: Flask) -> None:
    """Give every log record a ``request_id``; when nothing else configured logging (gunicorn's error log and
    pytest add their own handlers), write records to stderr in ``LOG_FORMAT``."""
    if not _install_once["factory"]:
        logging.setLogRecordFactory(_record_factory(logging.getLogRecordFactory()))
        _install_once["factory"] = True
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(app.config.get("LOG_FORMAT", "text")))
        root.addHandler(handler)
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _take_request_id():
        g.request_id = usable_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()
        g.request_id_token = request_id.set(g.request_id)

    @app.after_request
    def _log_request(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
            took = (time.perf_counter() - g.request_started) * 1000
            # The path only: query strings hold search words and tokens.
            app.logger.info("%s %s %s %.0f ms", request.method, request.path, response.status_code, took,
                            extra={"method": request.method, "path": request.path,
                                   "status": response.status_code, "duration_ms": round(took, 1)})
        return response

    @app.teardown_request
    def _forget_request_id(_error=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT``: "json" (one object per line) or "text"."""
    if kind == "json":
        from pythonjsonlogger.json import JsonFormatter
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)
