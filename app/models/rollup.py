"""Feedback rollups: per project, day and version group, what its generations received.

A row sums one day's generations of one (model, model version, prompt, prompt version, feature)
group: how many, how many users (exact, and a HyperLogLog sketch so that days merge), how many got
implicit feedback and which (generation-level flags), and the group's events counted by type and
by rating value. Signals are not stored: a project's taxonomy overrides apply when rows are read.
app.services.rollups keeps the rows: a (project, day) is recomputed whole from the raw rows when
a new event or generation touches it, so a row always equals what a query of the raw rows says.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, utcnow


class FeedbackRollup(Base):
    __tablename__ = "feedback_rollups"
    __table_args__ = (Index("ix_feedback_rollups_project_day", "project_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(128))
    prompt_id: Mapped[str | None] = mapped_column(String(128))
    prompt_version: Mapped[str | None] = mapped_column(String(128))
    feature: Mapped[str | None] = mapped_column(String(128))
    generations: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    users_sketch: Mapped[bytes] = mapped_column(LargeBinary)
    # Generations with any feedback of that kind, and with each implicit reaction.
    with_explicit: Mapped[int] = mapped_column(Integer)
    with_implicit: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)  # accept, tweak or copy
    tweaked: Mapped[int] = mapped_column(Integer)
    copied: Mapped[int] = mapped_column(Integer)
    regenerated: Mapped[int] = mapped_column(Integer)
    ignored: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    # {"thumbs_up": 12, ...} and {"1": 3, ..., "5": 9}
    events: Mapped[dict[str, Any]] = mapped_column()
    ratings: Mapped[dict[str, Any]] = mapped_column()
    # Daily-sample verdicts on the items of these generations: {"good": 3, "bad": 1}
    verdicts: Mapped[dict[str, Any]] = mapped_column()


class RollupMark(Base):
    """How far a project's rollups have read: the last event and generation ids seen."""

    __tablename__ = "rollup_marks"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    events_seen: Mapped[int] = mapped_column(BigId, default=0)
    generations_seen: Mapped[int] = mapped_column(BigId, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column()


class RollupDirty(Base):
    """Days whose rows changed other than by new rows (an erasure, a verdict): recomputed next."""

    __tablename__ = "rollup_dirty"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
