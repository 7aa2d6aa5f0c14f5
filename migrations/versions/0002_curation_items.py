"""curation items

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("generation_ref", sa.String(length=128), nullable=True),
        sa.Column("conversation_ref", sa.String(length=128), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("raw_sealed", sa.Text(), nullable=True),
        sa.Column("turns", sa.SmallInteger(), nullable=False),
        sa.Column("redacted", JSON_DOC, nullable=True),
        sa.Column("findings", JSON_DOC, nullable=True),
        sa.Column("signals", JSON_DOC, nullable=True),
        sa.Column("reasons", JSON_DOC, nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("duplicate_of_id", BIG_ID, nullable=True),
        sa.Column("duplicate_kind", sa.String(length=8), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("metadata", JSON_DOC, nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["items.id"],
            name=op.f("fk_items_duplicate_of_id_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_items_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint(
            "project_id", "external_id", name=op.f("uq_items_project_id_external_id")
        ),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_duplicate_of", ["duplicate_of_id"], unique=False)
        batch_op.create_index("ix_items_project_state", ["project_id", "state", "id"], unique=False)
        batch_op.create_index(
            "ix_items_project_user_received", ["project_id", "user_id", "received_at"], unique=False
        )
        batch_op.create_index("ix_items_state_received", ["state", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_state_received")
        batch_op.drop_index("ix_items_project_user_received")
        batch_op.drop_index("ix_items_project_state")
        batch_op.drop_index("ix_items_duplicate_of")

    op.drop_table("items")
