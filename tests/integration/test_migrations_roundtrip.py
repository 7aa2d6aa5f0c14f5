"""Every migration down and up again with rows in every table, on SQLite and PostgreSQL.

Generic over whatever revisions exist (read from Alembic's script directory): at each step every
table present gets a row, each downgrade and upgrade must keep the rows of the tables it keeps,
and the walk ends at head with the schema the models describe. A failing step fails the test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from app.db import make_engine
from app.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from app.models import Base
from app.models.item import STATES
from tests.conftest import PG_URL, need_servers

Rows = dict[str, set[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema at all: an SQLite file, or a PostgreSQL schema of its own
    (so the suite's migrated schema is left alone)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
        yield engine
        engine.dispose()
        return
    need_servers()
    assert PG_URL is not None and "?" not in PG_URL
    schema = f"roundtrip_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def revisions(engine: Engine) -> list[str]:
    """Base to head, as the script directory orders them."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def reflect(conn: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(conn)
    meta.remove(meta.tables["alembic_version"]) if "alembic_version" in meta.tables else None
    return meta


COUNTER = itertools.count(1)


def value(table: Table, column: Any) -> Any:
    """A valid value for the column's type; a state column gets the longest state it fits,
    as rows written by the newest code would."""
    n = next(COUNTER)
    kind = column.type
    if column.name == "state" and table.name == "items":
        length = getattr(kind, "length", None) or 64
        return max((s for s in STATES if len(s) <= length), key=len)
    if isinstance(kind, JSON | JSONB):
        return {"k": n}
    if isinstance(kind, DateTime):
        return datetime.now(UTC)
    if isinstance(kind, Date):
        return date(2026, 1, 1) + timedelta(days=n)
    if isinstance(kind, LargeBinary):
        return b"bytes %d" % n
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Float):
        return 0.5
    if isinstance(kind, Integer):  # SmallInteger too: keep it small
        return n % 30_000
    if isinstance(kind, String) and not isinstance(kind, Text):
        return f"v{n}"[: kind.length or 64]
    return f"text {n}"


def fill(conn: Connection) -> None:
    """One more row in every table, parents first; foreign keys point at existing rows."""
    meta = reflect(conn)
    for table in meta.sorted_tables:
        row: dict[str, Any] = {}
        for column in table.columns:
            refs = [fk for fk in column.foreign_keys if fk.column.table is not table]
            if column.foreign_keys and not refs:  # a row pointing at its own table
                continue
            if refs:
                target = refs[0].column
                row[column.name] = conn.scalar(select(target).order_by(target.desc()).limit(1))
                assert row[column.name] is not None, (table.name, column.name)
            elif column.primary_key and column.autoincrement in (True, "auto") and isinstance(
                column.type, Integer
            ) and len(table.primary_key.columns) == 1:
                continue  # the database numbers it
            else:
                row[column.name] = value(table, column)
        conn.execute(table.insert().values(**row))


def rows(conn: Connection) -> Rows:
    """Each table's primary keys: what must survive a step."""
    meta = reflect(conn)
    return {
        t.name: {tuple(r) for r in conn.execute(select(*t.primary_key.columns))}
        for t in meta.sorted_tables
    }


def step(engine: Engine, action: str, target: str) -> tuple[Rows, Rows]:
    with engine.begin() as conn:
        fill(conn)
        before = rows(conn)
    if action == "down":
        downgrade(engine, target)
    else:
        upgrade(engine, target)
    assert (current_revision(engine) or "base") == target
    with engine.connect() as conn:
        after = rows(conn)
    return before, after


def test_every_migration_goes_down_and_up_again_keeping_rows(empty_engine: Engine) -> None:
    engine = empty_engine
    revs = revisions(engine)
    assert revs and revs[-1] == head_revision(engine)
    upgrade(engine)
    # Head down to base, one revision at a time.
    for target in [*reversed(revs[:-1]), "base"]:
        before, after = step(engine, "down", target)
        for table, kept in after.items():
            assert table in before, f"downgrade to {target} created table {table}"
            assert kept == before[table], f"downgrade to {target} lost rows of {table}"
    with engine.connect() as conn:
        assert reflect(conn).sorted_tables == []  # base: nothing left but alembic_version
    # And back up, one at a time: every table that was there keeps its rows.
    for target in revs:
        before, after = step(engine, "up", target)
        for table, kept in before.items():
            assert after[table] == kept, f"upgrade to {target} lost rows of {table}"
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert list(compare_metadata(context, Base.metadata)) == []
        # A row from every step up from 0001 is still there at head.
        assert conn.scalar(select(func.count()).select_from(text("projects"))) == len(revs) - 1


def test_a_failing_downgrade_raises_and_leaves_the_schema_where_it_was(
    empty_engine: Engine,
) -> None:
    """A downgrade that cannot run is an error, never a half-done schema. The faults are real:
    on PostgreSQL a view of ours holds a table the downgrade drops; on SQLite a table left by
    an interrupted batch migration takes the name batch mode needs."""
    engine = empty_engine
    upgrade(engine)
    head = current_revision(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (slug, name, created_at) "
                          "VALUES ('p', 'p', CURRENT_TIMESTAMP)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE VIEW held AS SELECT id FROM projects"))
        else:
            for table in reflect(conn).sorted_tables:
                conn.execute(text(f"CREATE TABLE _alembic_tmp_{table.name} (x INTEGER)"))
    with pytest.raises(Exception, match=r"held|_alembic_tmp_"):
        downgrade(engine, "base")
    assert current_revision(engine) == head
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM projects")) == 1
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata)
                if not (d[0] == "remove_table" and d[1].name.startswith("_alembic_tmp_"))]
        assert diff == []  # no index, column or table of the first steps went
