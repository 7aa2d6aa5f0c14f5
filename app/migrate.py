"""Alembic, driven from code: `winnow db upgrade`, `winnow up`, and the tests use this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

import migrations


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # configparser interpolates '%': a URL-encoded password or option must be escaped.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """The whole run in one transaction, so a failing step leaves the schema as it was."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    # pysqlite commits DDL as it goes unless we begin the transaction ourselves. Foreign keys
    # are off meanwhile (a no-op inside a transaction, so before it): batch mode recreates a
    # table by dropping it, which would cascade-delete the rows that refer to it.
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        else:
            connection.exec_driver_sql("COMMIT")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` ("-1", "base", an id) in one transaction: a failing
    step raises and leaves the schema where it was."""
    config = alembic_config(engine)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


def schema_problem(engine: Engine, at_head: bool = True) -> str | None:
    """Why commands cannot use this database yet (missing, unreachable or, with `at_head`, not
    migrated), in one line; None when usable. Checks an SQLite file exists before connecting,
    so asking never creates an empty one."""
    setup = "run 'winnow up' or 'winnow db upgrade' first"
    where = engine.url.render_as_string(hide_password=True)
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).is_file():
            return f"no Winnow database at {path}: {setup}"
        where = path or where
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        return f"cannot open the database at {where} ({type(exc).__name__})"
    head = head_revision(engine)
    if current is None and at_head:
        return f"no Winnow database at {where}: {setup}"
    if current != head and at_head:
        return (f"the database at {where} is at revision {current}, this Winnow needs {head}: "
                "run 'winnow db upgrade' first")
    return None
