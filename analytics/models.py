"""The figures' rollup: counts of proposals, replies and ratings per month and scope, rebuilt by
``analytics.rollup.refresh`` and read by every figure in ``analytics.metrics`` (Decidim keeps its metrics the
same way, in a table computed by a job): the dashboard reads a few thousand rows instead of every proposal."""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime


class FigureCount(db.Model):
    """``count`` items of one ``measure`` in one Beijing month for one body, campaign, category and type;
    ``bucket`` splits a measure by its value (handling days, good rating or not, adopted or not, funnel stage)."""

    __tablename__ = "analytics_counts"
    __table_args__ = (sa.Index("ix_analytics_counts_measure_month", "measure", "month"),
                      sa.Index("ix_analytics_counts_body_measure", "body_id", "measure"))  # a body's or edition's

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(sa.String(24))
    month: Mapped[date] = mapped_column(sa.Date)
    body_id: Mapped[int | None] = mapped_column()
    campaign_id: Mapped[int | None] = mapped_column()
    category_id: Mapped[int | None] = mapped_column()
    message_type: Mapped[str] = mapped_column(sa.String(16), default="")
    bucket: Mapped[int] = mapped_column(default=0)
    count: Mapped[int] = mapped_column()


class FiguresRefresh(db.Model):
    """When the rollup was last rebuilt (one row)."""

    __tablename__ = "analytics_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    took_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
