"""Probes for load balancers and orchestrators: ``/healthz`` (the process answers) and ``/readyz`` (it can serve:
the database answers, and the jobs' Redis when one is configured), with the depth of the queues to watch.

Both are small JSON answers that never write, are never cached and need no login. ``/readyz`` answers 503 when
it is not ready, so a load balancer stops sending requests to a server that cannot serve them; a long job queue
or search queue is reported, not judged: what is too long depends on the site (alert on it).
"""
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from core import jobs
from core.extensions import db
from core.models import utcnow
from search.models import SearchQueue

bp = Blueprint("ops", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """The process is up and answers; nothing else is checked (a restart would not help a database outage)."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers, and the jobs' Redis when configured; with the queues' depth."""
    database, search_queue = _database()
    answer = {"database": database, "search_queue": search_queue, "jobs": _jobs()}
    ready = database["ok"] and answer["jobs"].get("ok", True)
    response = jsonify(ready=ready, **answer)
    response.status_code = 200 if ready else 503
    return _no_store(response)


def _database() -> tuple[dict, dict]:
    try:
        depth, oldest = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(SearchQueue.enqueued_at)).select_from(SearchQueue)).one()
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", said in the answer
        db.session.rollback()
        current_app.logger.warning("readiness: the database does not answer: %s", error)
        return {"ok": False, "error": type(error).__name__}, {"depth": None, "oldest_seconds": None}
    age = None if oldest is None else round(max(0.0, (utcnow() - oldest).total_seconds()), 1)
    return {"ok": True}, {"depth": depth, "oldest_seconds": age}


def _jobs() -> dict:
    if not jobs.queue_configured():
        return {"mode": "inline"}
    try:
        status = jobs.queue_status()
    except Exception as error:  # noqa: BLE001 - Redis down, refused, timed out: not ready
        current_app.logger.warning("readiness: the jobs' Redis does not answer: %s", error)
        return {"mode": "redis", "ok": False, "error": type(error).__name__}
    queues = status["queues"].values()
    ages = [q["oldest_waiting_seconds"] for q in queues if q["oldest_waiting_seconds"] is not None]
    return {"mode": "redis", "ok": True, "workers": status["workers"],
            "waiting": sum(q["waiting"] for q in queues), "oldest_waiting_seconds": max(ages, default=None),
            "running": sum(q["running"] for q in queues), "failed": sum(q["failed"] for q in queues),
            "queues": status["queues"]}


def queue_depths() -> dict:
    """Waiting items per queue for the metrics: the search queue, and the jobs' queues when Redis holds them
    (None where it could not be read)."""
    _database_state, search_queue = _database()
    jobs_state = _jobs()
    return {"search": search_queue["depth"], "jobs": jobs_state.get("waiting")}
