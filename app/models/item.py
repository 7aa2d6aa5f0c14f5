"""Curation items: a shared conversation on its way from `received` to an outcome state.

The raw text exists only as `raw_ciphertext` (sealed: services.crypto) while the item waits in
`received`; screening replaces it with the redacted turns and sets it to NULL in the same
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import PENDING, Base, BigId, utcnow

STATES = (
    "received",
    "accepted",
    "quarantined",
    "rejected_pii",
    "duplicate",
    "rejected_prank",
    "annotation_pending",  # accepted, its Label Studio task being created (or waiting to be)
    "in_annotation",  # its task exists in Label Studio
    "failed",  # not screened within the retention limit: its sealed raw text was purged
)
OUTCOME_STATES = STATES[1:6]
# Accepted items, wherever they are on the way to annotators.
ACCEPTED_STATES = ("accepted", "annotation_pending", "in_annotation")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_items_project_state", "project_id", "state", "id"),
        Index("ix_items_project_user_received", "project_id", "user_id", "received_at"),
        Index("ix_items_duplicate_of", "duplicate_of_id"),
        # Dataset builds read a project's items conversation by conversation.
        Index("ix_items_project_conversation", "project_id", "conversation_ref", "id"),
        # The reconciler's scan: items still waiting, oldest first.
        Index("ix_items_state_received", "state", "received_at"),
        # Metadata stored raw before revision 0006, waiting for the screening job.
        Index("ix_items_screening", "project_id", "id", postgresql_where=PENDING,
              sqlite_where=PENDING),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # api | share | import
    generation_ref: Mapped[str | None] = mapped_column(String(128))
    conversation_ref: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(24), default="received")
    # A sealed token (services.crypto, url-safe base64 text) of the raw turns; NULL once screened.
    raw_sealed: Mapped[str | None] = mapped_column(Text)
    turns: Mapped[int] = mapped_column(SmallInteger)
    # After screening: [{"role": ..., "text": ...}] with placeholders; findings without values.
    redacted: Mapped[list[Any] | None] = mapped_column()
    findings: Mapped[list[Any] | None] = mapped_column()
    signals: Mapped[list[Any] | None] = mapped_column()
    reasons: Mapped[list[Any] | None] = mapped_column()
    content_hash: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"))
    duplicate_kind: Mapped[str | None] = mapped_column(String(8))
    similarity: Mapped[float | None] = mapped_column(Float)
    job_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    screened_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    # Redacted metadata: sealed with the turns until screening, NULL until then.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    screening: Mapped[str | None] = mapped_column(String(12))
    body_hash: Mapped[str] = mapped_column(String(64))
    # Label Studio (issue 4): the review task, and when its creation was last attempted (a push
    # that died after importing leaves this set and no task id: reconciled by listing tasks).
    ls_task_id: Mapped[int | None] = mapped_column()
    push_started_at: Mapped[datetime | None] = mapped_column()
    pushed_at: Mapped[datetime | None] = mapped_column()
    push_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    push_error: Mapped[str | None] = mapped_column(String(200))
    # The pairwise preference task (original answer vs the user's tweak); 0 = no pair possible.
    ls_pair_task_id: Mapped[int | None] = mapped_column()
    pair_push_started_at: Mapped[datetime | None] = mapped_column()
