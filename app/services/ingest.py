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
    """Insert rows that are new; return, in input order, what happened to each."""
    outcomes: list[Outcome | None] = [None] * len(rows)
    first_seen: dict[str, int] = {}
    fresh: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        seen = first_seen.get(row["external_id"])
        if seen is None:
            first_seen[row["external_id"]] = i
            fresh.append(row)
        else:  # the same id twice in one batch: judged against the first
            same = rows[seen]["body_hash"] == row["body_hash"]
            outcomes[i] = "duplicate" if same else "conflict"

    created: set[str] = set()
    if fresh:
        stmt = (
            _insert(session, table)
            .on_conflict_do_nothing(index_elements=["project_id", "external_id"])
            .returning(table.c.external_id)
        )
        created = set(session.scalars(stmt, fresh))
    existing_ids = [r["external_id"] for r in fresh if r["external_id"] not in created]
    existing: dict[str, str] = {}
    if existing_ids:
        query = select(table.c.external_id, table.c.body_hash).where(
            table.c.project_id == project_id, table.c.external_id.in_(existing_ids)
        )
        existing = {ext: h for ext, h in session.execute(query)}

    for ext, i in first_seen.items():
        if ext in created:
            outcomes[i] = "created"
        else:
            outcomes[i] = "duplicate" if existing.get(ext) == rows[i]["body_hash"] else "conflict"
    return [o for o in outcomes if o is not None]
