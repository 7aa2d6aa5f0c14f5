"""Datasets (issue 5): a definition, its immutable versions, and the recorded split of each group.

A version's files live in the dataset store (a local directory or any fsspec URL); the row
records where, the manifest's checksum, and how the build went. Groups are stored as a salted
hash of their key (conversation or user id), never the key itself, and keep their split in every
later version: this table is what makes splits sticky.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, utcnow

VERSION_STATES = ("building", "ready", "failed")


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]] = mapped_column()
    salt: Mapped[str] = mapped_column(String(64))
    # How many times the test split was deliberately refreshed (salts the draw of new test groups).
    holdouts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    parent: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    refresh_holdout: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(12), default="building")
    job_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(300))
    # The definition as it was when the version was requested (later edits do not change it).
    definition: Mapped[dict[str, Any]] = mapped_column()
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column()
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict[str, Any] | None] = mapped_column()


class DatasetGroup(Base):
    __tablename__ = "dataset_groups"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    group_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    split: Mapped[str] = mapped_column(String(12))  # train | validation | test | retired
    since_version: Mapped[int] = mapped_column(Integer)


class Erasure(Base):
    """A user's erasure: their rows are deleted at once; `examples` (their items' ids, never the
    user id) are kept only until every stored dataset version has been purged of them."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
    examples: Mapped[list[str] | None] = mapped_column()
    item_ids: Mapped[list[Any] | None] = mapped_column()  # for the dedupe index, likewise
    promoted_ids: Mapped[list[Any] | None] = mapped_column()  # copies that took their place
    counts: Mapped[dict[str, Any]] = mapped_column()
