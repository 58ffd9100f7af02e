"""The audit log: one row per state change or staff action, written in the same transaction."""
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_target", "target_type", "target_id", "created_at"),
        sa.Index("ix_audit_log_actor", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int] = mapped_column()
    body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bodies.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(actor, action: str, target, *, body_id: int | None = None, **detail) -> AuditLog:
    """Add an audit row for ``actor`` doing ``action`` on ``target`` (a model instance with an id)."""
    if target.id is None:
        db.session.flush()
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        body_id=body_id,
        detail=detail,
    )
    db.session.add(entry)
    return entry
