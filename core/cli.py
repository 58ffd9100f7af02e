"""Helpers shared by the CLI commands of every package."""
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from core import jobs
from core.errors import DomainError
from core.extensions import db
from core.mail import send_outbox


@contextmanager
def domain_errors_as_click_errors():
    """Roll back and turn a service's domain error into a clean command-line error message."""
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None


mail_cli = AppGroup("mail", help="Outgoing e-mail.")


@mail_cli.command("send-outbox")
def send_outbox_command() -> None:
    """Deliver the messages waiting in the outbox over SMTP (MAIL_SERVER, MAIL_PORT …)."""
    sent, failed = send_outbox(current_app.config)
    click.echo(f"{sent} messages sent, {failed} failed (they are retried next time).")


@mail_cli.command("show-sms")
@click.option("--limit", default=10, show_default=True, help="How many of the latest messages to print.")
def show_sms(limit: int) -> None:
    """Print the latest text messages of the development SMS gateway (SMS_BACKEND = "outbox")."""
    import sqlalchemy as sa

    from core.sms import SmsMessage
    rows = db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)).all()
    for message in reversed(rows):
        click.echo(f"{message.created_at:%Y-%m-%d %H:%M:%S} UTC  {message.to_number}  {message.text}")
    if not rows:
        click.echo("No text messages.")


jobs_cli = AppGroup("jobs", help="Background jobs (RQ on JOBS_REDIS_URL).")


def _require_queue() -> None:
    if not jobs.queue_configured():
        raise click.ClickException("JOBS_REDIS_URL is not set: jobs run inline in the web process, there is no "
                                   "queue to work on (see docs/deploy.md).")


@jobs_cli.command("worker")
@click.option("--queue", "queue_names", multiple=True, type=click.Choice(jobs.QUEUES),
              help="Queues to work on, first first (default: all, default before batch).")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
def worker_command(queue_names, burst) -> None:
    """Run a worker: take jobs from the queues and run them, one at a time, until stopped (SIGTERM lets the
    running job finish). When Redis goes away RQ's worker quits; this command then waits for Redis to answer
    again and starts a new one, so the queue recovers with Redis, without a restart by hand or by systemd."""
    from core.chinese import load_jieba
    from core.worker import run_until_stopped
    _require_queue()
    load_jieba()  # once, before the first job (about 1.5 s)
    run_until_stopped(current_app, queue_names or jobs.QUEUES, burst=burst)


@jobs_cli.command("status")
@click.option("--failed", "failed_limit", default=5, show_default=True, help="How many failed jobs to list.")
def status_command(failed_limit) -> None:
    """What the queues hold: waiting jobs and the oldest one's age, running, scheduled retries, failed jobs."""
    import redis
    _require_queue()
    try:
        status = jobs.queue_status(failed_limit=failed_limit)
    except redis.RedisError as error:
        raise click.ClickException(f"Redis does not answer: {error}") from None
    click.echo(f"workers: {status['workers']}")
    for name, q in status["queues"].items():
        oldest = "-" if q["oldest_waiting_seconds"] is None else f"{q['oldest_waiting_seconds']:.0f} s"
        click.echo(f"{name}: {q['waiting']} waiting (oldest {oldest}), {q['running']} running, "
                   f"{q['scheduled']} scheduled, {q['failed']} failed")
        for failure in q.get("latest_failed", []):
            click.echo(f"  failed {failure['id']}: {failure.get('job', '?')} {failure.get('error', '')}")


@jobs_cli.command("cron")
def cron_command() -> None:
    """Enqueue the periodic jobs on their schedule (mail, search catch-up, figures, reminders, re-clustering,
    the router). Run exactly one."""
    from rq.cron import CronScheduler
    _require_queue()
    scheduler = CronScheduler(connection=jobs.connection(), logging_level=current_app.config.get("LOG_LEVEL"))
    for entry in jobs.PERIODIC:
        every = current_app.config[entry.every] if isinstance(entry.every, str) else entry.every
        every = max(60, int(every)) if every is not None else None  # a 0 in the settings means "often"
        q = entry.func.job_options.queue
        scheduler.register(entry.func, queue_name=q, interval=every, cron=entry.cron,
                           job_timeout=jobs.timeout_of(q), failure_ttl=24 * 3600)
    scheduler.start()
