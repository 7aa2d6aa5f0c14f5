"""Feedback events. An event names its generation by the client's id, so it can arrive first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PENDING, Base, BigId, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        # Link to generations (project_id, external_id): works whichever arrives first.
        Index("ix_events_project_generation", "project_id", "generation_ref"),
        Index("ix_events_project_user", "project_id", "user_id"),
        Index("ix_events_project_occurred", "project_id", "occurred_at"),
        Index("ix_events_screening", "project_id", "id", postgresql_where=PENDING,
              sqlite_where=PENDING),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    generation_ref: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rank: Mapped[int | None] = mapped_column(SmallInteger)  # `rank` events: 1 = best
    # Free text, redacted: NULL while the raw text waits sealed for the worker (see `screening`).
    text: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")  # redacted, like `text`
    # The raw text and metadata (Fernet) until screened; see app.services.screening.
    sealed: Mapped[str | None] = mapped_column(Text)
    screening: Mapped[str | None] = mapped_column(String(12))
    body_hash: Mapped[str] = mapped_column(String(64))
