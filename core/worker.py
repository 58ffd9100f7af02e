"""``flask jobs worker``: RQ's worker, running each job in an application context of its own (see core/jobs.py)."""
import time

import redis
from flask import Flask
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job

from core import jobs, logs


class Worker(SimpleWorker):
    """RQ's worker that runs jobs in its own process (no fork per job), so jieba's dictionary and each campaign's
    similarity index are loaded once, not once per job; each job gets an application context of its own and logs
    with the id of the request that queued it."""

    def __init__(self, app: Flask, queues, **kwargs):
        self.app = app
        super().__init__(queues, **kwargs)

    def execute_job(self, job: Job, queue: Queue):
        waiting_key = job.meta.get("waiting_key")
        if waiting_key:  # from now on, new work needs a new job: this one may have read its input already
            self.connection.delete(waiting_key)
        token = logs.request_id.set(job.meta.get("request_id") or f"job:{job.id}")
        try:
            with self.app.app_context():
                return super().execute_job(job, queue)
        finally:
            logs.request_id.reset(token)

    def get_heartbeat_ttl(self, job: Job) -> int:
        """A job runs in this process, which sends no heartbeat meanwhile: it is taken as abandoned (its worker
        dead) once its timeout and ``JOBS_ABANDONED_GRACE_SECONDS`` have passed."""
        timeout = job.timeout if job.timeout and job.timeout > 0 else jobs.timeout_of("batch", self.app)
        return int(timeout) + int(self.app.config["JOBS_ABANDONED_GRACE_SECONDS"])


def make_worker(app: Flask, queue_names=jobs.QUEUES) -> Worker:
    maintenance = int(app.config["JOBS_MAINTENANCE_SECONDS"])
    # An idle worker wakes every `maintenance` seconds (RQ blocks for worker_ttl - 15 s), and then looks for
    # abandoned jobs at that pace.
    return Worker(app, [jobs.queue(name, app) for name in queue_names], connection=jobs.connection(app),
                  maintenance_interval=maintenance, worker_ttl=maintenance + 15)


REDIS_WAIT_SECONDS = 2  # how often a worker that lost Redis tries it again


def run_until_stopped(app: Flask, queue_names, burst: bool = False) -> None:
    """Run workers one after another until one is asked to stop (SIGTERM, SIGINT) or, with ``burst``, the queues
    are empty. RQ's worker quits when Redis goes away in the middle of a job's bookkeeping; the next one starts
    once Redis answers again (the interrupted job is retried as an abandoned one: every job is safe to run twice)."""
    level = app.config.get("LOG_LEVEL", "INFO")
    while True:
        worker = None
        try:
            worker = make_worker(app, queue_names)
            worker.work(burst=burst, with_scheduler=True, logging_level=level)
        except redis.RedisError as error:  # the worker's own bookkeeping at its start or end
            app.logger.warning("job worker stopped: Redis does not answer (%s)", error)
        if worker is not None and (burst or stop_was_asked(worker)):
            return
        try:
            wait_for_redis(app)
        except StopRequested:  # SIGTERM while waiting (RQ's handler is still installed)
            return


def stop_was_asked(worker: Worker) -> bool:
    """True once the worker got SIGTERM or SIGINT (RQ notes when; busy or idle, it stops after that)."""
    return worker._shutdown_requested_date is not None  # noqa: SLF001 - RQ keeps it on the worker only


def wait_for_redis(app: Flask) -> None:
    """Return once the jobs' Redis answers, trying every ``REDIS_WAIT_SECONDS``."""
    app.logger.warning("job worker waiting for Redis to answer")
    while True:
        try:
            jobs.connection(app).ping()
            app.logger.info("Redis answers again: starting a new job worker")
            return
        except redis.RedisError:
            time.sleep(REDIS_WAIT_SECONDS)
