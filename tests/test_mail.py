"""The outbox: two deliveries running at once (two workers) never send one message twice."""
import sqlalchemy as sa

from core import mail
from core.extensions import db
from core.mail import OutboxMessage, queue_mail, send_outbox


def test_an_attempt_is_claimed_once_and_a_claimed_message_is_skipped(app, smtp_server, monkeypatch):
    port, inbox = smtp_server
    first = queue_mail("a@example.cn", "主题", "正文")
    second = queue_mail("b@example.cn", "主题", "正文")
    db.session.commit()
    assert mail._claim(first.id, 0) is True
    assert mail._claim(first.id, 0) is False  # a second delivery that read the same row gets nothing
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == first.id).values(attempts=0))
    db.session.commit()

    # A delivery that read both rows, while another delivery claims the first one just before it does:
    claim = mail._claim

    def another_delivery_claims_first(message_id, attempts):
        if message_id == first.id:
            assert claim(message_id, attempts)  # the other worker, on the same database
        return claim(message_id, attempts)

    monkeypatch.setattr(mail, "_claim", another_delivery_claims_first)
    app.config["MAIL_PORT"] = port
    assert send_outbox(app.config) == (1, 0)  # only the second message
    assert [to for to, _text in inbox.messages] == [["b@example.cn"]]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, second.id).sent_at is not None
    unsent = db.session.get(OutboxMessage, first.id)
    assert unsent.sent_at is None and unsent.attempts == 1  # the other delivery's attempt, to be sent by it
