"""The indexing queue: a row per changed proposal, written in the same transaction as the change."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class SearchQueue(db.Model):
    """Proposals whose index entry must be refreshed. A rolled-back change leaves no row; a crash after the
    commit leaves the row, and the next drain (or ``flask search catch-up``) repairs the index."""

    __tablename__ = "search_queue"
    __table_args__ = (sa.Index("ix_search_queue_suggestion", "suggestion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column()
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
