"""Outgoing e-mail through an outbox table.

Code that wants to send mail adds an ``OutboxMessage`` in its own transaction (so a rolled-back change sends
nothing). With a job queue, a request (or job) that queued mail enqueues the ``deliver_outbox`` job, which
``flask jobs cron`` also enqueues every minute; on the embedded default, cron runs ``flask mail send-outbox``
(SMTP never runs on a citizen's request). Delivery records the outcome and retries failures a few times; each
attempt is claimed in the database first, so two deliveries running at once never send a message twice.
A ``dedupe_key`` makes a message idempotent: queuing the same reminder twice keeps one. A ``sensitive`` message
(a password-reset link) has its text blanked once delivered, so the table does not keep the secret.
"""
import smtplib
from datetime import datetime
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from core import jobs
from core.extensions import db
from core.models import UTCDateTime, utcnow

MAX_ATTEMPTS = 5


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_sent_at", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sensitive: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


def queue_mail(to_address: str, subject: str, body: str, dedupe_key: str | None = None, *,
               sensitive: bool = False) -> OutboxMessage | None:
    """Add a message to the outbox (in the caller's transaction); None if ``dedupe_key`` was queued before.
    The text of a ``sensitive`` message is blanked once it has been delivered."""
    if dedupe_key and db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    message = OutboxMessage(to_address=to_address, subject=subject[:200], body=body, dedupe_key=dedupe_key,
                            sensitive=sensitive)
    db.session.add(message)
    db.session.info["mail_queued"] = True
    return message


def send_outbox(config: dict, limit: int = 500) -> tuple[int, int]:
    """Deliver waiting messages over SMTP; returns (sent, failed). Each attempt is claimed (``attempts`` raised
    where it still has the value read) and committed before sending, and its outcome committed after: a message
    is never sent by two deliveries at once, and a crash sends it at most once more (between send and commit)."""
    waiting = db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.attempts).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id).limit(limit)).all()
    db.session.commit()
    if not waiting:
        return 0, 0
    sent = failed = 0
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_STARTTLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message_id, attempts in waiting:
            if not _claim(message_id, attempts):
                continue  # another delivery has it
            message = db.session.get(OutboxMessage, message_id)
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = config["MAIL_FROM"], message.to_address, message.subject
            email.set_content(message.body)
            try:
                smtp.send_message(email)
            except smtplib.SMTPException as error:
                message.last_error = str(error)[:500]
                failed += 1
            else:
                message.sent_at = utcnow()
                if message.sensitive:
                    message.body = ""
                sent += 1
            db.session.commit()
    return sent, failed


def _claim(message_id: int, attempts: int) -> bool:
    """Count one more attempt of an unsent message, if nobody counted one since it was read; commits."""
    claimed = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
                                       OutboxMessage.attempts == attempts)
        .values(attempts=attempts + 1).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


@jobs.periodic(every=60)
@jobs.job(when_queue_down="later", once=True)
def deliver_outbox() -> None:
    """Job: deliver what the outbox holds (a message waits there when the queue or the SMTP server is down)."""
    sent, failed = send_outbox(current_app.config)
    if sent or failed:
        current_app.logger.info("mail: %d sent, %d failed", sent, failed)


def install(app) -> None:
    """With a job queue, a request that queued mail has it delivered by a worker at once, not by the next cron run.
    On the embedded default nothing happens here: cron runs ``flask mail send-outbox``."""

    @app.after_request
    def _deliver_after_request(response):
        if db.session.info.pop("mail_queued", False) and jobs.queue_configured(app):
            jobs.enqueue(deliver_outbox)
        return response
