"""Telling people about a proposal's reply or change of status: its author, its supporters and its followers,
on the site (``Notification``) and by e-mail through the outbox when they gave an address."""
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from accounts.models import User
from core.extensions import db
from core.mail import queue_mail
from core.models import utcnow
from core.privacy import mask_personal_data
from suggestions.models import Follow, Notification, Suggestion, Vote

MESSAGES = {
    "replied": _l("“%(title)s” has received an official reply."),
    "accepted": _l("“%(title)s” has been accepted for handling."),
    "closed": _l("Handling of “%(title)s” is finished."),
    "reopened": _l("“%(title)s” has been reopened for a second reply."),
    "transferred": _l("“%(title)s” has been transferred to another body."),
}


def message(kind: str, title: str) -> str:
    return str(MESSAGES[kind]) % {"title": title}


def audience(suggestion: Suggestion) -> set[int]:
    """The author, every supporter and every follower (each once)."""
    supporters = sa.select(Vote.user_id).where(Vote.suggestion_id == suggestion.id, Vote.value == 1)
    followers = sa.select(Follow.user_id).where(Follow.suggestion_id == suggestion.id)
    return {suggestion.author_id, *db.session.scalars(supporters), *db.session.scalars(followers)}


def notify(suggestion: Suggestion, kind: str, actor: User | None = None) -> int:
    """Notify the proposal's audience (not the actor) of ``kind``; returns how many users were told."""
    users = audience(suggestion) - {actor.id if actor is not None else None}
    if not users:
        return 0
    now = utcnow()
    db.session.execute(sa.insert(Notification), [
        {"user_id": user_id, "suggestion_id": suggestion.id, "kind": kind, "created_at": now}
        for user_id in sorted(users)])
    text = message(kind, mask_personal_data(suggestion.title))  # mail is not the place for personal data either
    subject = gettext("[Jianyan] %(message)s", message=text)
    for user_id, email in db.session.execute(sa.select(User.id, User.email)
                                             .where(User.id.in_(users), User.email != "")):
        link = f"{current_app.config['SITE_URL'].rstrip('/')}/suggestions/{suggestion.id}"
        queue_mail(email, subject, text + "\n\n" + gettext("See the proposal: %(link)s", link=link),
                   dedupe_key=f"notify:{kind}:{suggestion.id}:{user_id}:{now.isoformat()}")
    return len(users)


def follow(user: User, suggestion: Suggestion) -> bool:
    """Follow or stop following; returns True if the user now follows the proposal."""
    existing = db.session.get(Follow, (user.id, suggestion.id))
    if existing is not None:
        db.session.delete(existing)
        return False
    db.session.add(Follow(user_id=user.id, suggestion_id=suggestion.id))
    return True


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User) -> None:
    db.session.execute(sa.update(Notification).where(Notification.user_id == user.id,
                                                     Notification.read_at.is_(None)).values(read_at=utcnow()))
