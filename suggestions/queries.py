"""Read-side queries for proposal lists (used by pages; no writes)."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from accounts.models import User
from campaigns.models import Campaign
from core.extensions import db
from suggestions.models import PUBLIC_STATUSES, Status, Suggestion, Vote


def public_suggestions_query(*, campaign_id: int | None = None, sort: str = "newest") -> sa.Select:
    """Public proposals, newest or most supported first; each order is served by one index."""
    query = (sa.select(Suggestion).where(Suggestion.status.in_(PUBLIC_STATUSES))
             .options(joinedload(Suggestion.category), joinedload(Suggestion.author)))
    if campaign_id is not None:
        query = query.where(Suggestion.campaign_id == campaign_id)
    if sort == "supported":
        return query.order_by(Suggestion.support_count.desc(), Suggestion.id.desc())
    return query.order_by(Suggestion.created_at.desc(), Suggestion.id.desc())


def inbox_query(body_ids: set[int], state: str) -> sa.Select:
    """Proposals a body's staff must act on: to screen, to accept, or to reply to."""
    statuses = {"screen": (Status.PENDING,), "accept": (Status.PUBLISHED,), "reply": (Status.ACCEPTED,)}[state]
    return (sa.select(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)
            .where(Campaign.body_id.in_(body_ids), Suggestion.status.in_(statuses))
            .options(joinedload(Suggestion.campaign), joinedload(Suggestion.category))
            .order_by(Suggestion.created_at, Suggestion.id))


def vote_of(user: User, suggestion_id: int) -> int:
    """The user's current vote on a proposal: 1, -1 or 0."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(sa.select(Vote.value).where(Vote.suggestion_id == suggestion_id,
                                                         Vote.user_id == user.id)) or 0
