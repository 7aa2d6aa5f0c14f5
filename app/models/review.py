"""Human decisions on curation items: every release, reject, split and confirm, kept as a label.

One row per decision, never updated: the item's state is the latest decision's `to_state`, and
the first decision's `from_state` is what the machine decided, so the history doubles as labelled
data for measuring the stages (`winnow eval curation --reviews`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, utcnow

ACTIONS = ("release", "reject", "split", "confirm")


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_item", "item_id", "id"),
        Index("ix_reviews_project_at", "project_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Erasing the item's user erases its decisions with it.
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    # Who: "key:<prefix>" for an API key, "cli:<login>" from the shell.
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    # A split: the external id of the canonical item it had been merged into.
    duplicate_of: Mapped[str | None] = mapped_column(String(128))
