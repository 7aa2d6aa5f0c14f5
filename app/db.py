"""The engine and sessions: one Database per app, sessions scoped to a request or a job."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, any_, bindparam, cast, create_engine, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True,
                               json_deserializer=orjson.loads)
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            # On first connect, not here: a CLI command that refuses a missing database must
            # leave nothing behind (see app.migrate.schema_problem).
            event.listen(engine, "do_connect",
                         lambda *_: folder.mkdir(parents=True, exist_ok=True))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # hide_parameters: SQL errors must never carry user values into logs.
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True,
        json_deserializer=orjson.loads,  # JSON columns read ~3x faster than with json.loads
    )


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commits on success, rolls back on any exception."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work on a new session, closed afterwards."""
        session = self.sessions()
        try:
            with unit_of_work(session):
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def among(column: Any, values: Sequence[Any], dialect: str) -> Any:
    """`column IN values`; on PostgreSQL as `= ANY(string_to_array(csv, ','))`: one text
    parameter, not thousands (the driver's cost of a statement grows with its placeholders,
    and dumping a list as an array costs more than joining it). Safe because ids and refs
    never contain a comma (the identifier pattern excludes it)."""
    if dialect == "postgresql":
        text_values = [str(v) for v in values]
        if any("," in v for v in text_values):
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        array = func.string_to_array(bindparam(None, ",".join(text_values)), ",")
        return column == any_(cast(array, ARRAY(column.type)))
    return column.in_(list(values))


def chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """`values` in slices of at most `size`: one statement per slice, its placeholders bounded."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
