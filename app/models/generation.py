"""Generations: the model output a user reacted to, keyed by the client's own id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PENDING, Base, BigId, utcnow

NO_CREATED_AT = text("created_at IS NULL")


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_generations_screening", "project_id", "id", postgresql_where=PENDING,
              sqlite_where=PENDING),
        # A generation's day (feedback rollups, analytics): created_at, else received_at.
        Index("ix_generations_project_created", "project_id", "created_at"),
        Index("ix_generations_project_received", "project_id", "received_at",
              postgresql_where=NO_CREATED_AT, sqlite_where=NO_CREATED_AT),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No index of its own: the unique (project_id, external_id) index leads with it.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    trace_id: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    feature: Mapped[str | None] = mapped_column(String(128))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(128))
    prompt_id: Mapped[str | None] = mapped_column(String(128))
    prompt_version: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    org_id: Mapped[str | None] = mapped_column(String(128))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")  # redacted once screened
    # The raw metadata (Fernet) until screened; see app.services.screening.
    sealed: Mapped[str | None] = mapped_column(Text)
    screening: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_hash: Mapped[str] = mapped_column(String(64))
