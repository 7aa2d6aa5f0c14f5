"""A person's verdict on an item of a daily sample: a label like an annotator's.

One row per item (the latest verdict replaces the one before): dataset builds count it as a
reviewer's vote, and analytics count verdicts per version group.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, utcnow

VERDICTS = ("good", "bad", "unsure")


class SampleVerdict(Base):
    __tablename__ = "sample_verdicts"
    __table_args__ = (Index("ix_sample_verdicts_project_date", "project_id", "sample_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Erasing the item's user erases the verdicts on it.
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"),
                                         unique=True)
    sample_date: Mapped[date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(8))
    failure_modes: Mapped[list[str]] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    # Who: "key:<prefix>" for an API key, "cli:<login>" from the shell.
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)
