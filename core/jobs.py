"""Background jobs: the work that need not block a citizen.

With ``JOBS_REDIS_URL`` set, ``enqueue`` puts a job on an RQ queue in Redis and ``flask jobs worker``
(``core/worker.py``) runs it;
without it (the embedded default, ``make run``), the job runs at once in the process that asked, in its session
(whose work the caller has committed: on SQLite a second session would wait for the first one's lock).

A job is a module-level function marked with ``@job`` and called with ids and plain values, never ORM objects: it
re-reads what it needs, commits its own work once, and must be safe to run twice, because it may be. A failed job
is retried after ``JOBS_RETRY_INTERVALS``; a job whose worker died (killed, machine lost) is found by another
worker once its timeout and ``JOBS_ABANDONED_GRACE_SECONDS`` have passed, and retried the same way (RQ's
abandoned-job handling). Enqueue only after the caller's commit.

When Redis does not answer at enqueue time the request does not fail: a job declared ``when_queue_down="inline"``
runs at once as on the embedded default; one declared ``"later"`` is dropped, because its work waits in a table
(the mail outbox, the search queue) or is redone by a periodic job, which catches up once Redis is back.

``@periodic`` jobs are enqueued by ``flask jobs cron`` (RQ's cron scheduler; run one) on a queue; on the embedded
default, cron runs the matching ``flask`` commands instead.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app

from core import logs

# RQ and the Redis client are imported where a queue is used: the embedded default never loads them.

QUEUES = ("default", "batch")  # a worker takes jobs from the first queue that has one
WAITING_KEY_SECONDS = 600  # how long a "once" job's marker may outlive a job lost with Redis


@dataclass(frozen=True)
class JobOptions:
    queue: str = "default"
    when_queue_down: str = "inline"  # or "later": its work waits in a table for a periodic catch-up
    once: bool = False  # at most one copy waits in the queue (a second enqueue while one waits is dropped)


@dataclass(frozen=True)
class Periodic:
    func: Callable
    every: int | str | None = None  # seconds, or the name of a config key holding them
    cron: str | None = None  # a cron line in UTC


PERIODIC: list[Periodic] = []


def job(*, queue: str = "default", when_queue_down: str = "inline", once: bool = False):
    """Mark a module-level function as a job (see the module's docstring for the options)."""
    assert queue in QUEUES and when_queue_down in ("inline", "later")

    def mark(func):
        func.job_options = JobOptions(queue, when_queue_down, once)
        return func
    return mark


def periodic(*, every: int | str | None = None, cron: str | None = None):
    """Have ``flask jobs cron`` enqueue this job every ``every`` seconds or on a ``cron`` line (UTC)."""
    def mark(func):
        PERIODIC.append(Periodic(func, every, cron))
        return func
    return mark


def name_of(func: Callable) -> str:
    return f"{func.__module__}.{func.__name__}"


def queue_configured(app: Flask | None = None) -> bool:
    """True when jobs go to Redis (JOBS_REDIS_URL); False on the embedded default, where they run inline."""
    return bool((app or current_app).config.get("JOBS_REDIS_URL"))


def connection(app: Flask | None = None):
    """This process's connection to the jobs' Redis (made once, with short timeouts)."""
    import redis
    app = app or current_app
    client = app.extensions.get("jobs_redis")
    if client is None:
        timeout = app.config["JOBS_REDIS_TIMEOUT_SECONDS"]
        client = app.extensions["jobs_redis"] = redis.Redis.from_url(
            app.config["JOBS_REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout)
    return client


def queue(name: str, app: Flask | None = None):
    """The RQ queue ``name`` ("default" or "batch")."""
    from rq import Queue
    return Queue(name, connection=connection(app))


def timeout_of(queue_name: str, app: Flask | None = None) -> int:
    config = (app or current_app).config
    return config["JOBS_BATCH_TIMEOUT_SECONDS"] if queue_name == "batch" else config["JOBS_TIMEOUT_SECONDS"]


def enqueue(func: Callable, *args) -> str:
    """Have ``func(*args)`` done in the background, after the caller's commit. Returns what happened: "queued",
    "waiting" (a ``once`` job was already waiting), "inline" (run now: no queue, or the queue is down) or "later"
    (the queue is down and the work waits for its periodic job)."""
    app = current_app._get_current_object()
    options: JobOptions = func.job_options
    if not queue_configured(app):
        run_inline(app, func, args)
        return "inline"
    import redis
    try:
        return _push(app, func, args, options)
    except redis.RedisError as error:
        app.logger.warning("job queue unreachable (%s): %s%r %s", error, name_of(func), args,
                           "runs now" if options.when_queue_down == "inline" else "waits for its periodic job")
    if options.when_queue_down == "inline":
        run_inline(app, func, args)
        return "inline"
    return "later"


def _push(app: Flask, func: Callable, args: tuple, options: JobOptions) -> str:
    import redis
    from rq import Retry
    client = connection(app)
    meta = {"request_id": logs.request_id.get()}
    if options.once:
        waiting_key = f"jianyan:jobs:waiting:{name_of(func)}:{args!r}"
        if not client.set(waiting_key, "1", nx=True, ex=WAITING_KEY_SECONDS):
            return "waiting"
        meta["waiting_key"] = waiting_key
    intervals = list(app.config["JOBS_RETRY_INTERVALS"])
    try:
        queue(options.queue, app).enqueue_call(
            name_of(func), args=args, timeout=timeout_of(options.queue, app), meta=meta,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            result_ttl=3600, failure_ttl=7 * 24 * 3600)
    except redis.RedisError:
        if options.once:
            try:
                client.delete(meta["waiting_key"])
            except redis.RedisError:
                pass  # it expires by itself
        raise
    return "queued"


def run_inline(app: Flask, func: Callable, args: tuple) -> None:
    """Run a job now, in the caller's session (its work committed); a failure is rolled back and logged, never
    raised: the caller's work is saved, and a periodic job or batch repairs what this one did not do."""
    from core.extensions import db
    try:
        func(*args)
    except Exception:  # noqa: BLE001 - see the docstring
        db.session.rollback()
        app.logger.exception("job %s%r failed", name_of(func), args)


# --- what the queues hold --------------------------------------------------------------------------------------

def _age_seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, round((datetime.now(UTC) - moment).total_seconds(), 1))


def queue_status(app: Flask | None = None, failed_limit: int = 0) -> dict:
    """Per queue: waiting jobs, the oldest one's age, running, scheduled (retries waiting) and failed jobs; the
    latest failed ones when ``failed_limit``; and the number of workers. Raises ``redis.RedisError`` when Redis
    does not answer."""
    from rq import Worker as RQWorker
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
    app = app or current_app
    client = connection(app)
    queues = {}
    for name in QUEUES:
        q = queue(name, app)
        oldest_id = q.get_job_ids(0, 1)
        oldest = q.fetch_job(oldest_id[0]) if oldest_id else None
        failed = FailedJobRegistry(queue=q)
        entry = {"waiting": q.count, "oldest_waiting_seconds": _age_seconds(oldest.enqueued_at if oldest else None),
                 "running": StartedJobRegistry(queue=q).count, "scheduled": ScheduledJobRegistry(queue=q).count,
                 "failed": failed.count}
        if failed_limit:
            entry["latest_failed"] = [_failure(q, job_id) for job_id in failed.get_job_ids(-failed_limit, -1)]
        queues[name] = entry
    return {"queues": queues, "workers": len(RQWorker.all(connection=client))}


def _failure(q, job_id: str) -> dict:
    found = q.fetch_job(job_id)
    if found is None:
        return {"id": job_id}
    error = (found.latest_result().exc_string if found.latest_result() else "") or ""
    return {"id": job_id, "job": f"{found.func_name}{tuple(found.args)!r}",
            "ended_seconds_ago": _age_seconds(found.ended_at),
            "error": error.strip().splitlines()[-1] if error.strip() else ""}
