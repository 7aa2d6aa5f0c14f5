"""Idempotent storage of client-identified rows (events, generations).

A row is keyed by (project_id, external_id) and carries the sha256 of its canonical body, so a
retry of the same body is a `duplicate` and a different body under a used id is a `conflict`.
One INSERT ... ON CONFLICT DO NOTHING RETURNING stores a whole batch; one SELECT then sorts the
rows that were already there into duplicates and conflicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal

import orjson
from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Outcome = Literal["created", "duplicate", "conflict"]


def body_hash(model: BaseModel) -> str:
    """Hash of the validated body, so key order and whitespace never make a conflict."""
    canonical = orjson.dumps(model.model_dump(mode="json", exclude_none=True),
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def store_rows(
    session: Session, table: Table, project_id: int, rows: Sequence[dict[str, Any]]
) -> list[Outcome]:
    """Insert rows that are new; return, in input order, what happened to each.

    An id repeated within the batch is judged against the body that ends up stored: the stored
    one if the id was already known, else the batch's first occurrence.
    """
    first_seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        first_seen.setdefault(row["external_id"], i)
    fresh = [rows[i] for i in first_seen.values()]

    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["project_id", "external_id"])
        .returning(table.c.external_id)
    )
    created = set(session.scalars(stmt, fresh)) if fresh else set()
    stored = {ext: rows[i]["body_hash"] for ext, i in first_seen.items() if ext in created}
    known = [ext for ext in first_seen if ext not in created]
    if known:
        query = select(table.c.external_id, table.c.body_hash).where(
            table.c.project_id == project_id, table.c.external_id.in_(known)
        )
        stored.update({ext: h for ext, h in session.execute(query)})

    outcomes: list[Outcome] = []
    for i, row in enumerate(rows):
        ext = row["external_id"]
        if ext in created and first_seen[ext] == i:
            outcomes.append("created")
        else:
            outcomes.append("duplicate" if stored.get(ext) == row["body_hash"] else "conflict")
    return outcomes
