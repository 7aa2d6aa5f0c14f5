"""label studio annotations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_studio_projects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ls_project_id", sa.Integer(), nullable=False),
        sa.Column("config_sha256", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_label_studio_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_studio_projects")),
        sa.UniqueConstraint("ls_project_id", name=op.f("uq_label_studio_projects_ls_project_id")),
        sa.UniqueConstraint(
            "project_id", "kind", name=op.f("uq_label_studio_projects_project_id_kind")
        ),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ls_project_id", sa.Integer(), nullable=False),
        sa.Column("ls_task_id", sa.Integer(), nullable=False),
        sa.Column("ls_annotation_id", sa.Integer(), nullable=False),
        sa.Column("annotator", sa.String(length=256), nullable=True),
        sa.Column("verdict", sa.String(length=8), nullable=True),
        sa.Column(
            "failure_modes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("preference", sa.String(length=16), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("lead_time", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_annotations_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_annotations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint(
            "ls_project_id",
            "ls_annotation_id",
            name=op.f("uq_annotations_ls_project_id_ls_annotation_id"),
        ),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index("ix_annotations_item", ["item_id"], unique=False)
        batch_op.create_index(
            "ix_annotations_project_updated", ["project_id", "updated_at"], unique=False
        )

    with op.batch_alter_table("items", schema=None) as batch_op:
        # "annotation_pending" is longer than the 16 characters the first states needed.
        batch_op.alter_column(
            "state", existing_type=sa.String(length=16), type_=sa.String(length=24)
        )
        batch_op.add_column(sa.Column("ls_task_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("push_started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("push_attempts", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("push_error", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("ls_pair_task_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("pair_push_started_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Before this revision an item waiting for annotation was simply accepted; the longer
    # states would not fit the narrower column.
    op.execute(
        "UPDATE items SET state = 'accepted' WHERE state IN ('annotation_pending', "
        "'in_annotation')"
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sa.String(length=24), type_=sa.String(length=16)
        )
        batch_op.drop_column("pair_push_started_at")
        batch_op.drop_column("ls_pair_task_id")
        batch_op.drop_column("push_error")
        batch_op.drop_column("push_attempts")
        batch_op.drop_column("pushed_at")
        batch_op.drop_column("push_started_at")
        batch_op.drop_column("ls_task_id")

    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_annotations_project_updated")
        batch_op.drop_index("ix_annotations_item")

    op.drop_table("annotations")
    op.drop_table("label_studio_projects")
