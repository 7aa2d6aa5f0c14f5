"""feedback rollups for analytics, daily-sample verdicts, and indexes for a generation's day

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`feedback_rollups` holds, per project, day and version group, what the day's generations
received; `rollup_marks` how far each project's rollups have read; `rollup_dirty` the days to
recompute; `sample_verdicts` a person's verdict on an item of a daily sample. Nothing is
backfilled: a project without a mark is rolled up whole on its first refresh
(the worker's chore, or the first analytics query). A generation's day is its created_at, else its
received_at: both get an index, the second only where created_at is missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
NO_CREATED_AT = sa.text("created_at IS NULL")


def _project(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                   name=op.f(f"fk_{table}_project_id_projects"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    counts = ("generations", "users", "with_explicit", "with_implicit", "accepted", "tweaked",
              "copied", "regenerated", "ignored", "abandoned")
    op.create_table(
        "feedback_rollups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=True),
        sa.Column("prompt_id", sa.String(length=128), nullable=True),
        sa.Column("prompt_version", sa.String(length=128), nullable=True),
        sa.Column("feature", sa.String(length=128), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts[:2]),
        sa.Column("users_sketch", sa.LargeBinary(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts[2:]),
        sa.Column("events", JSON, nullable=False),
        sa.Column("ratings", JSON, nullable=False),
        sa.Column("verdicts", JSON, nullable=False),
        _project("feedback_rollups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_rollups")),
    )
    op.create_index("ix_feedback_rollups_project_day", "feedback_rollups", ["project_id", "day"])
    op.create_table(
        "rollup_marks",
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("events_seen", BIG_ID, nullable=False),
        sa.Column("generations_seen", BIG_ID, nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        _project("rollup_marks"),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_rollup_marks")),
    )
    op.create_table(
        "rollup_dirty",
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        _project("rollup_dirty"),
        sa.PrimaryKeyConstraint("project_id", "day", name=op.f("pk_rollup_dirty")),
    )
    op.create_table(
        "sample_verdicts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("sample_date", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("failure_modes", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_sample_verdicts_item_id_items"), ondelete="CASCADE"),
        _project("sample_verdicts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_verdicts")),
        sa.UniqueConstraint("item_id", name=op.f("uq_sample_verdicts_item_id")),
    )
    op.create_index("ix_sample_verdicts_project_date", "sample_verdicts",
                    ["project_id", "sample_date"])
    op.create_index("ix_generations_project_created", "generations",
                    ["project_id", "created_at"])
    op.create_index("ix_generations_project_received", "generations",
                    ["project_id", "received_at"], postgresql_where=NO_CREATED_AT,
                    sqlite_where=NO_CREATED_AT)


def downgrade() -> None:
    op.drop_index("ix_generations_project_received", table_name="generations")
    op.drop_index("ix_generations_project_created", table_name="generations")
    op.drop_index("ix_sample_verdicts_project_date", table_name="sample_verdicts")
    op.drop_table("sample_verdicts")
    op.drop_table("rollup_dirty")
    op.drop_table("rollup_marks")
    op.drop_index("ix_feedback_rollups_project_day", table_name="feedback_rollups")
    op.drop_table("feedback_rollups")
