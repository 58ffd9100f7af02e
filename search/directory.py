"""Campaigns and bodies matching a search, shown above the proposals found.

There are few of them (a body per office, a handful of campaigns each), so they are matched in the
database directly, every query word as a substring of a title, theme, description, region or name,
rather than kept in the proposal index.
"""
import sqlalchemy as sa

from accounts.models import Body
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from search.backend import query_words


def _every_word_in(words: list[str], columns) -> sa.ColumnElement[bool]:
    return sa.and_(*(sa.or_(*(sa.func.lower(column).contains(word, autoescape=True) for column in columns))
                     for word in words))


def find_campaigns(text: str, limit: int = 5) -> list[Campaign]:
    """Public campaigns whose title, theme, description, region or body name holds every word of ``text``."""
    words = query_words(text)
    if not words:
        return []
    query = (sa.select(Campaign).join(Body, Campaign.body_id == Body.id)
             .where(Campaign.status != CampaignStatus.DRAFT,
                    _every_word_in(words, (Campaign.title, Campaign.theme, Campaign.description,
                                           Campaign.region_scope, Body.name)))
             .order_by(sa.case((Campaign.status == CampaignStatus.OPEN, 0), else_=1), Campaign.id.desc())
             .limit(limit))
    return list(db.session.scalars(query))


def find_bodies(text: str, limit: int = 5) -> list[Body]:
    """Bodies whose name (Chinese or English) or region holds every word of ``text``."""
    words = query_words(text)
    if not words:
        return []
    query = (sa.select(Body).where(_every_word_in(words, (Body.name, Body.name_en, Body.region)))
             .order_by(Body.level, Body.id).limit(limit))
    return list(db.session.scalars(query))
