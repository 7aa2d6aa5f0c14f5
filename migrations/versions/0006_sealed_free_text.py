"""sealed free text and metadata on events and generations, screened by a worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Free text (comments, tweaks, flags) and metadata string values arrive raw; they are now kept
sealed (Fernet, in `sealed`) until a worker replaces them with their redacted form. `screening`
says where a row is: NULL (nothing to screen), pending, redacted, withheld (policy) or failed.
Rows stored before this revision are marked pending with their text where it was: the worker's
screening job (enqueued by the reconciler) redacts them in place, and readers see nothing of
them until then. Items get `screening` for the same reason: metadata stored raw before.
Annotators' corrections are now screened when synced; those stored raw before are cleared here,
and the next sync from Label Studio (which keeps the originals) stores them redacted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("events", "generations", "items")
# What was stored raw before, per table: marked pending so the worker screens it.
LEGACY = {
    "events": "text IS NOT NULL OR metadata IS NOT NULL",
    "generations": "metadata IS NOT NULL",
    "items": "metadata IS NOT NULL",  # a received one's curation screens it
}
PENDING = sa.text("screening = 'pending'")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            if table != "items":  # items keep theirs in raw_sealed
                batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))
            batch_op.add_column(sa.Column("screening", sa.String(length=12), nullable=True))
        # Only rows waiting for the worker are indexed: intake of plain events pays nothing.
        op.create_index(f"ix_{table}_screening", table, ["project_id", "id"], unique=False,
                        postgresql_where=PENDING, sqlite_where=PENDING)
        op.execute(f"UPDATE {table} SET screening = 'pending' WHERE {LEGACY[table]}")
    op.execute("UPDATE annotations SET correction = NULL WHERE correction IS NOT NULL")


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_screening", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("screening")
            if table != "items":
                batch_op.drop_column("sealed")
