"""The author, supporters and followers of a proposal are told of its reply and status changes, on the site and
by e-mail (through the outbox, delivered to a real SMTP server); each once, never the person who acted."""
import re

import sqlalchemy as sa

from core.extensions import db
from core.mail import OutboxMessage
from suggestions import services
from suggestions.models import Notification
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user


def test_author_supporters_and_followers_hear_of_the_reply_once(app, client, smtp_server):
    port, inbox = smtp_server
    body = make_body()
    author = make_user()
    author.email = "author@example.cn"
    suggestion = make_suggestion(make_campaign(body), author)
    supporter, follower, bystander = make_user(), make_user(), make_user()
    supporter.email = "supporter@example.cn"
    services.vote(supporter, suggestion, 1)
    db.session.commit()
    login(client, follower)
    assert client.post(f"/suggestions/{suggestion.id}/follow").status_code == 303
    staff = make_staff(body)
    services.accept_suggestion(staff, suggestion)
    services.reply_to_suggestion(staff, suggestion, decision="adopted", content="您的建议已采纳，下月实施。")
    db.session.commit()
    told = db.session.execute(sa.select(Notification.user_id, Notification.kind).order_by(Notification.id)).all()
    assert {(u, k) for u, k in told} == {(u.id, k) for u in (author, supporter, follower)
                                         for k in ("accepted", "replied")}
    assert bystander.id not in {u for u, _ in told} and staff.id not in {u for u, _ in told}
    page = client.get("/")  # the follower sees an unread count, then the list
    assert re.search(r'id="notifications-link">[^<]*<span class="count">\(2\)', page.get_data(as_text=True))
    listing = client.get("/suggestions/notifications").get_data(as_text=True)
    assert f"“{suggestion.title}”已收到官方答复" in listing
    assert '<span class="count">' not in client.get("/").get_data(as_text=True).split("notifications-link")[1][:80]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    result = app.test_cli_runner().invoke(args=["mail", "send-outbox"])
    assert result.exit_code == 0 and "4 messages sent" in result.output, result.output
    recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
    assert recipients == ["author@example.cn", "author@example.cn", "supporter@example.cn", "supporter@example.cn"]
    assert f"/suggestions/{suggestion.id}" in "".join(content for _, content in inbox.messages)


def test_following_twice_stops_following(app, client):
    suggestion = make_suggestion()
    db.session.commit()
    login(client, make_user())
    client.post(f"/suggestions/{suggestion.id}/follow")
    page = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert ">取消关注</button>" in page
    client.post(f"/suggestions/{suggestion.id}/follow")
    assert ">关注</button>" in client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert client.post("/suggestions/99999/follow").status_code == 404


def test_a_malformed_email_at_registration_is_refused(app, client):
    response = client.post("/accounts/register", data={"username": "wang_fang", "password": "password123",
                                                       "confirm": "password123", "email": "wang@"})
    assert response.status_code == 422 and "有效的电子邮件地址" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_hidden_proposal_title_leaves_its_followers_notifications(app, client):
    body = make_body()
    suggestion = make_suggestion(make_campaign(body), title="建议公开某某小区物业经理的手机号码")
    follower = make_user()
    services.vote(follower, suggestion, 1)
    services.accept_suggestion(make_staff(body), suggestion)
    services.hide_suggestion(make_user(role="moderator"), suggestion, "含有他人个人信息")
    db.session.commit()
    login(client, follower)
    listing = client.get("/suggestions/notifications").get_data(as_text=True)
    assert suggestion.title not in listing and "一条已不再公开的建议" in listing
    assert f'href="/suggestions/{suggestion.id}"' not in listing
    login(client, suggestion.author)  # the author still sees their own proposal, hidden or not
    assert suggestion.title in client.get("/suggestions/notifications").get_data(as_text=True)
