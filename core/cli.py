"""Helpers shared by the CLI commands of every package."""
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

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
