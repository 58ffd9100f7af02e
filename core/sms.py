"""Text messages (SMS) through a gateway chosen by configuration: ``SMS_BACKEND``.

Only verification codes are sent (``accounts.phones``). A gateway is one class with one method,
``send_code(number, code, minutes)``: Chinese SMS providers send approved templates filled with parameters
(the code, its lifetime) rather than free text, so the interface passes the parameters and each gateway words or
templates the message itself.

The only backend shipped is ``outbox`` (the default, for development and tests): it writes the message into the
``sms_outbox`` table in the caller's transaction and sends nothing; ``flask mail show-sms`` prints the latest. A
sibling of the mail outbox (``core.mail``) rather than a row in it, because ``flask mail send-outbox`` delivers
every row of that table over SMTP, and a phone number is not an e-mail address. A real provider is one more class
registered here (``register("aliyun")``) taking the configuration in its constructor; it runs inside the request's
transaction, so it should only hand the message over (an HTTP call with a short timeout), never wait for delivery.
"""
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class SmsGateway(Protocol):
    def send_code(self, number: str, code: str, minutes: int) -> None:
        """Send ``code`` to the mainland mobile ``number`` (E.164), saying it expires in ``minutes``."""


class SmsMessage(db.Model):
    """A text message the development gateway "sent": kept for the developer to read, never delivered."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_number: Mapped[str] = mapped_column(sa.String(20))  # E.164
    text: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_REGISTRY: dict[str, Callable[[dict], SmsGateway]] = {}


def register(name: str):
    """Class decorator: make a gateway available as ``SMS_BACKEND = name``."""
    def decorate(cls):
        _REGISTRY[name] = cls
        return cls
    return decorate


@register("outbox")
class OutboxGateway:
    """Development: the message goes into ``sms_outbox`` (rolled back with the caller's transaction)."""

    def __init__(self, config: dict):
        self.config = config

    def send_code(self, number: str, code: str, minutes: int) -> None:
        text = gettext("[Jianyan] Your verification code is %(code)s. It works once, within %(minutes)d minutes. "
                       "Do not tell it to anyone.", code=code, minutes=minutes)
        db.session.add(SmsMessage(to_number=number, text=text))


def gateway_from_config(config: dict) -> SmsGateway:
    """The configured gateway (``SMS_BACKEND``, default "outbox")."""
    name = config.get("SMS_BACKEND", "outbox")
    if name not in _REGISTRY:
        raise ValueError(f"unknown SMS_BACKEND {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](config)
