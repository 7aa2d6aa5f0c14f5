"""Label Studio projects roll over

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

A Winnow project may have several Label Studio projects of a kind, numbered from 1: when the
newest holds WINNOW_LABEL_STUDIO_TASKS_PER_PROJECT tasks (default 100,000, about what Label
Studio advises per project), new tasks go to the next. Existing rows become number 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("label_studio_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("uq_label_studio_projects_project_id_kind", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_label_studio_projects_project_id_kind_number"),
            ["project_id", "kind", "number"],
        )


def downgrade() -> None:
    # One project of each kind can stay, the first: the later ones' rows go (their tasks stay
    # in Label Studio; their items keep their task ids).
    op.execute(
        "DELETE FROM label_studio_projects WHERE number > (SELECT min(l.number) FROM "
        "label_studio_projects l WHERE l.project_id = label_studio_projects.project_id "
        "AND l.kind = label_studio_projects.kind)"
    )
    with op.batch_alter_table("label_studio_projects", schema=None) as batch_op:
        batch_op.drop_constraint("uq_label_studio_projects_project_id_kind_number",
                                 type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_label_studio_projects_project_id_kind"), ["project_id", "kind"]
        )
        batch_op.drop_column("number")
