"""Label Studio projects of a Winnow project, and the annotations brought back from them.

An annotation row mirrors one Label Studio annotation, normalized: verdict, failure modes,
correction, rating, preference. It is keyed by Label Studio's own id, so a webhook replayed or a
sync repeated updates the same row; an annotation removed in Label Studio keeps its row with
`deleted_at` set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, utcnow


class LabelStudioProject(Base):
    __tablename__ = "label_studio_projects"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "number"),
        UniqueConstraint("ls_project_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # review | pairwise
    # 1, 2, ...: when the newest is full (label_studio_tasks_per_project), the next takes over.
    number: Mapped[int] = mapped_column(default=1, server_default="1")
    ls_project_id: Mapped[int] = mapped_column()
    config_sha256: Mapped[str] = mapped_column(String(64))
    webhook_id: Mapped[int | None] = mapped_column()
    last_sync_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("ls_project_id", "ls_annotation_id"),
        Index("ix_annotations_item", "item_id"),
        Index("ix_annotations_project_updated", "project_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    ls_project_id: Mapped[int] = mapped_column()
    ls_task_id: Mapped[int] = mapped_column()
    ls_annotation_id: Mapped[int] = mapped_column()
    annotator: Mapped[str | None] = mapped_column(String(256))
    verdict: Mapped[str | None] = mapped_column(String(8))  # good | bad
    failure_modes: Mapped[list[str] | None] = mapped_column()
    correction: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    preference: Mapped[str | None] = mapped_column(String(16))  # original | tweaked
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_time: Mapped[float | None] = mapped_column(Float)  # seconds, as Label Studio measures
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
