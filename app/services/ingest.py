"""Idempotent storage of client-identified rows (events, generations).

A row is keyed by (project_id, external_id) and carries the sha256 of its canonical body, so a
retry of the same body is a `duplicate` and a different body under a used id is a `conflict`.
One INSERT ... ON CONFLICT DO NOTHING RETURNING stores a whole batch; one SELECT then sorts the
rows that were already there into duplicates and conflicts.

On PostgreSQL the batch travels as one JSON parameter (`INSERT ... SELECT ... FROM
json_to_recordset(...)`): the statement text is the same whatever the batch size, so it is
prepared once per connection, and neither a 1,000-row VALUES list nor per-value quoting is built
in Python (orjson writes the parameter). Timestamps are already in UTC (payloads.common).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import orjson
from pydantic import BaseModel
from sqlalchemy import Table, TextClause, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models.base import UTCDateTime

Outcome = Literal["created", "duplicate", "conflict"]


def _fields(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} is not part of a payload")


def body_hash(model: BaseModel) -> str:
    """Hash of the validated body, so key order, whitespace and time-zone notation never make a
    conflict: the validated fields (timestamps already in UTC), serialized with sorted keys."""
    canonical = orjson.dumps(model.__dict__, default=_fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@cache
def _recordset_insert(table: Table, columns: tuple[str, ...]) -> TextClause:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = ", ".join(f'"{c}"' for c in columns)
    record = ", ".join(f'"{c}" {table.c[c].type.compile(dialect)}' for c in columns)
    return text(
        f'INSERT INTO "{table.name}" ({names}) '
        f"SELECT {names} FROM json_to_recordset(CAST(:rows AS json)) AS r({record}) "
        "ON CONFLICT (project_id, external_id) DO NOTHING RETURNING external_id"
    )


@cache
def _datetime_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if isinstance(c.type, UTCDateTime))


def _insert_new(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows whose key is not taken; return the external ids that were inserted."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        for row in rows:
            for name in _datetime_columns(table):
                value = row.get(name)
                if value is not None and value.tzinfo is None:
                    raise ValueError(f"naive datetime given to the UTC column {name}")
        rows_json = orjson.dumps(rows).decode()
        # On the session's connection (Core): the ORM's execution layer adds nothing here.
        insert = _recordset_insert(table, tuple(rows[0]))
        return set(session.connection().scalars(insert, {"rows": rows_json}))
    if dialect.name == "sqlite":
        stmt = (
            sqlite.insert(table)
            .on_conflict_do_nothing(index_elements=["project_id", "external_id"])
            .returning(table.c.external_id)
        )
        return set(session.scalars(stmt, rows))
    raise RuntimeError(f"unsupported database dialect {dialect.name!r}")


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

    created = _insert_new(session, table, fresh) if fresh else set()
    stored = {ext: rows[i]["body_hash"] for ext, i in first_seen.items() if ext in created}
    known = [ext for ext in first_seen if ext not in created]
    if known:
        query = select(table.c.external_id, table.c.body_hash).where(
            table.c.project_id == project_id, table.c.external_id.in_(known)
        )
        stored.update({ext: h for ext, h in session.connection().execute(query)})

    outcomes: list[Outcome] = []
    for i, row in enumerate(rows):
        ext = row["external_id"]
        if ext in created and first_seen[ext] == i:
            outcomes.append("created")
        else:
            outcomes.append("duplicate" if stored.get(ext) == row["body_hash"] else "conflict")
    return outcomes
