"""Fixtures: a real app on a real database, SQLite (embedded) and PostgreSQL + Redis.

PostgreSQL and Redis come from scripts/services.sh (scripts/test starts them). Without them the
PostgreSQL variants skip, except under CI, where a missing server fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, text

from app.cli import make_app
from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import Base
from app.services.keys import create_key
from app.services.projects import create_project
from tests.helpers import Tenant

PG_URL = os.environ.get("WINNOW_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("WINNOW_TEST_REDIS_URL")
IN_CI = os.environ.get("CI") == "true"


def need_servers() -> None:
    if PG_URL and REDIS_URL:
        return
    message = (
        "WINNOW_TEST_DATABASE_URL / WINNOW_TEST_REDIS_URL not set: run the suite with "
        "`bash scripts/test`, which starts PostgreSQL and Redis"
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    need_servers()
    assert PG_URL is not None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)  # the suite runs on the migrated schema, so migrations are tested too
    yield engine
    engine.dispose()


# Which server a fixture needs: a test using it (directly or through another fixture) gets
# the marker, so `-m "not labelstudio"` (or postgres, redis) deselects exactly the tests that
# cannot run without that server. The `settings` fixture marks its postgresql variant itself.
SERVER_FIXTURES = {
    "pg_engine": "postgres",
    "redis_client": "redis",
    "ls": "labelstudio",
    "ls_settings": "labelstudio",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in SERVER_FIXTURES.items():
            if fixture in names:
                item.add_marker(marker)


# Production refuses to run without a shared key; the tests use a fresh one per run.
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture
def redis_client() -> Iterator[Redis]:
    need_servers()
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _truncate(engine: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Embedded (SQLite, no Redis) and production (PostgreSQL + Redis) configurations."""
    if request.param == "sqlite":
        s = Settings(data_dir=tmp_path, database_url=None, redis_url=None)
        upgrade(make_engine(s.effective_database_url))
        return s
    engine = request.getfixturevalue("pg_engine")
    request.getfixturevalue("redis_client")
    _truncate(engine)
    return Settings(
        data_dir=tmp_path,
        database_url=PG_URL,
        redis_url=REDIS_URL,
        encryption_key=TEST_ENCRYPTION_KEY,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = make_app(settings)
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


MakeTenant = Callable[..., Tenant]


@pytest.fixture
def make_tenant(app: Flask) -> MakeTenant:
    def make(
        slug: str = "acme",
        scopes: tuple[str, ...] = ("events:write", "events:read"),
        rate_limit: str | None = None,
    ) -> Tenant:
        db = app.extensions["winnow"].db
        with db.session() as session:
            from sqlalchemy import select

            from app.models import Project

            project = session.scalar(select(Project).where(Project.slug == slug))
            project = project or create_project(session, slug)
            issued = create_key(session, project, "test", scopes, rate_limit)
            return Tenant(slug, project.id, issued.token)

    return make


@pytest.fixture
def tenant(make_tenant: MakeTenant) -> Tenant:
    return make_tenant()
