"""The engine and sessions: one Database per app, sessions scoped to a request or a job."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, any_, bindparam, cast, create_engine, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A pooled PostgreSQL connection idle longer than this is pinged before use (see _ping_if_idle).
IDLE_PING_SECONDS = 10.0
_LAST_USED = "winnow.last_used"


def _ping_if_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that may have gone stale only.

    SQLAlchemy's `pool_pre_ping` costs a round trip on every checkout, about a tenth of a
    single-event request. A connection given back moments ago is as alive as a ping would
    show; one idle for IDLE_PING_SECONDS (a database restart, a proxy's idle timeout) is
    pinged, and on failure the pool discards it and connects afresh (the documented
    `DisconnectionError` recipe), so a request never gets a dead connection after a quiet
    spell. A connection that dies mid-burst fails that one request, as with pre-ping's race."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"stale pooled connection ({type(exc).__name__})") from exc

    @event.listens_for(engine, "checkin")
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()


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
    engine = create_engine(
        parsed, pool_size=10, max_overflow=10, hide_parameters=True,
        json_deserializer=orjson.loads,  # JSON columns read ~3x faster than with json.loads
    )
    _ping_if_idle(engine)
    return engine


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
