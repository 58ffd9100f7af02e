"""Read-side queries for proposal lists (used by pages; no writes)."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from accounts.models import User
from campaigns.models import Campaign
from core.extensions import db
from core.pagination import Page, bounded_page
from suggestions.models import Status, Suggestion, Vote

_ORDERS = {"newest": (Suggestion.created_at.desc(), Suggestion.id.desc()),
           "supported": (Suggestion.support_count.desc(), Suggestion.id.desc())}


def public_suggestions_page(campaign_id: int, sort: str, page: int, per_page: int) -> Page:
    """One page of a campaign's public proposals: page 500 costs about what page 1 does (``bounded_page``)."""
    query = (sa.select(Suggestion).where(Suggestion.campaign_id == campaign_id, Suggestion.public == sa.true())
             .options(joinedload(Suggestion.category)).order_by(*_ORDERS.get(sort, _ORDERS["newest"])))
    return bounded_page(query, page=page, per_page=per_page)


def public_suggestions_page_of(campaign_ids: list[int], sort: str, page: int, per_page: int) -> Page:
    """One page of the public proposals of several campaigns (a local edition's), as ``public_suggestions_page``."""
    query = (sa.select(Suggestion).where(Suggestion.campaign_id.in_(campaign_ids), Suggestion.public == sa.true())
             .options(joinedload(Suggestion.category), joinedload(Suggestion.campaign))
             .order_by(*_ORDERS.get(sort, _ORDERS["newest"])))
    return bounded_page(query, page=page, per_page=per_page)


def inbox_query(body_ids: set[int], state: str) -> sa.Select:
    """Proposals a body's staff must act on: to screen or to accept (its campaigns'), or to reply to (those it
    handles, its own campaigns' or transferred to it from another body, of any edition)."""
    statuses = {"screen": (Status.PENDING,), "accept": (Status.PUBLISHED,), "reply": (Status.ACCEPTED,)}[state]
    owner = (sa.func.coalesce(Suggestion.handling_body_id, Campaign.body_id) if state == "reply"
             else Campaign.body_id)
    return (sa.select(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)
            .where(owner.in_(body_ids), Suggestion.status.in_(statuses))
            .options(joinedload(Suggestion.campaign), joinedload(Suggestion.category))
            .order_by(Suggestion.created_at, Suggestion.id))


def vote_of(user: User, suggestion_id: int) -> int:
    """The user's current vote on a proposal: 1, -1 or 0."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(sa.select(Vote.value).where(Vote.suggestion_id == suggestion_id,
                                                         Vote.user_id == user.id)) or 0


def vote_is_held(user: User, suggestion_id: int) -> bool:
    """True if moderators hold the user's vote on the proposal (a flood under review): it is not counted."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(sa.select(Vote.held_at).where(Vote.suggestion_id == suggestion_id,
                                                           Vote.user_id == user.id)) is not None


def votes_of(user: User, suggestion_ids: list[int]) -> dict[int, int]:
    """The user's current votes on some proposals (one query): {proposal id: 1 or -1}, without the unvoted."""
    if not getattr(user, "is_authenticated", False) or not suggestion_ids:
        return {}
    return dict(db.session.execute(sa.select(Vote.suggestion_id, Vote.value).where(
        Vote.user_id == user.id, Vote.suggestion_id.in_(suggestion_ids))).all())
