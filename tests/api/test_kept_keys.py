"""With Redis, a key verified moments ago is kept: its next requests skip the database lookup,
and a revocation, from this process or another, still stops it at once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy import event as sa_event

from app.api import ratelimit
from app.cli import make_app
from app.config import Settings
from app.services.keys import create_key, revoke_key
from app.services.projects import create_project
from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY
from tests.helpers import event, is_problem


@pytest.fixture
def production(pg_engine: Engine, redis_client: Redis, tmp_path: Path) -> Iterator[Flask]:
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, redis_url=REDIS_URL,
                        encryption_key=SecretStr(TEST_ENCRYPTION_KEY))
    app = make_app(settings)
    yield app
    app.extensions["winnow"].db.dispose()


def issue(app: Flask, slug: str, **options: Any) -> tuple[str, str]:
    with app.extensions["winnow"].db.session() as session:
        issued = create_key(session, create_project(session, slug), "t", **options)
        return issued.token, issued.key.prefix


def key_lookups(app: Flask) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM api_keys" in statement:
            seen.append(statement)

    sa_event.listen(app.extensions["winnow"].db.engine, "before_cursor_execute", before)
    return seen


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_kept_key_is_not_looked_up_again(production: Flask) -> None:
    token, _ = issue(production, "kept")
    client = production.test_client()
    lookups = key_lookups(production)
    assert client.post("/v1/events", json=event(1), headers=bearer(token)).status_code == 201
    assert len(lookups) == 1
    for i in range(2, 6):
        resp = client.post("/v1/events", json=event(i), headers=bearer(token))
        assert resp.status_code == 201
    assert len(lookups) == 1
    # The call is still counted: the remaining budget goes down request by request.
    first = client.get("/v1/events/evt-1", headers=bearer(token))
    second = client.get("/v1/events/evt-2", headers=bearer(token))
    assert int(second.headers["X-RateLimit-Remaining"]) == (
        int(first.headers["X-RateLimit-Remaining"]) - 1)
    # A wrong secret with a kept key's prefix is not the kept key.
    prefix = token.split("_")[1]
    is_problem(client.get("/v1/events/evt-1", headers=bearer(f"wn_{prefix}_wrongsecret")), 401)


def test_a_kept_key_keeps_its_rate_limit(production: Flask) -> None:
    token, _ = issue(production, "slow", rate_limit="3/minute")
    client = production.test_client()
    for i in range(3):
        assert client.post("/v1/events", json=event(i), headers=bearer(token)).status_code == 201
    refused = client.post("/v1/events", json=event(9), headers=bearer(token))
    assert is_problem(refused, 429)["type"] == "urn:winnow:problem:rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_a_revocation_in_this_process_stops_a_kept_key_at_once(production: Flask) -> None:
    token, prefix = issue(production, "here")
    client = production.test_client()
    assert client.post("/v1/events", json=event(1), headers=bearer(token)).status_code == 201
    with production.extensions["winnow"].db.session() as session:
        revoke_key(session, prefix)
    assert "revoked" in is_problem(client.get("/v1/events/evt-1", headers=bearer(token)),
                                   401)["detail"]


def test_a_revocation_by_another_process_stops_a_kept_key_at_once(
    production: Flask, tmp_path: Path
) -> None:
    """`winnow keys revoke` in a separate process: this one learns it from Redis, at once."""
    token, prefix = issue(production, "there")
    client = production.test_client()
    assert client.post("/v1/events", json=event(1), headers=bearer(token)).status_code == 201
    assert client.get("/v1/events/evt-1", headers=bearer(token)).status_code == 200
    env = {"WINNOW_DATA_DIR": str(tmp_path), "WINNOW_DATABASE_URL": str(PG_URL),
           "WINNOW_REDIS_URL": str(REDIS_URL), "WINNOW_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(Path(sys.executable).parent / "winnow"), "keys", "revoke",
                           prefix], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "revoked" in is_problem(client.get("/v1/events/evt-1", headers=bearer(token)),
                                   401)["detail"]


def test_a_key_is_kept_only_for_a_while(production: Flask,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A revocation whose announcement was lost (Redis unreachable from the revoking
    process) is seen when the kept copy expires: it is looked up again."""
    monkeypatch.setattr(ratelimit, "KEY_SECONDS", 0.0)
    token, _ = issue(production, "brief")
    client = production.test_client()
    lookups = key_lookups(production)
    for i in range(3):
        assert client.post("/v1/events", json=event(i), headers=bearer(token)).status_code == 201
    assert len(lookups) == 3


def test_without_redis_nothing_is_kept(app: Flask, settings: Settings) -> None:
    """Embedded, another process (`winnow keys revoke`) could not announce a revocation:
    every request looks its key up. With Redis, the first one does."""
    token, _ = issue(app, "embedded")
    client = app.test_client()
    lookups = key_lookups(app)
    for i in range(3):
        assert client.post("/v1/events", json=event(i), headers=bearer(token)).status_code == 201
    assert len(lookups) == (3 if settings.redis_url is None else 1)
