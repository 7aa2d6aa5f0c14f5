"""The Alembic baseline builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from app.db import make_engine
from app.migrate import current_revision, head_revision, upgrade
from app.models import Base


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert _diff(engine) == []
    upgrade(engine)  # idempotent


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_engine: Engine) -> None:
    assert current_revision(pg_engine) == head_revision(pg_engine)
    assert _diff(pg_engine) == []
