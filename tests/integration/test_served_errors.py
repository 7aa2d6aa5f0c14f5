"""Behind the real servers (waitress for `winnow up`, gunicorn for `winnow serve`) a too-long
URI, a too-large body, OPTIONS and 405 still come back from the app, as problem+json: the
servers' own limits sit above the app's."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.api.http import MAX_TARGET_BYTES
from app.cli import main
from tests.integration.test_cli import WINNOW, clean_env, embedded, free_port, wait_healthy

__all__ = ["embedded"]  # the fixture, used below


def _ask(base: str, method: str, target: str, token: str | None = None,
         body: bytes | None = None) -> tuple[int, str, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheader("Content-Type") or "", dict(resp.getheaders()), data
    finally:
        conn.close()


def _problem(answer: tuple[int, str, dict[str, str], bytes], status: int) -> None:
    got, content_type, _headers, data = answer
    assert got == status, (got, data[:200])
    assert content_type == "application/problem+json"
    assert json.loads(data)["status"] == status


def _the_app_answers(base: str, token: str) -> None:
    # Past the app's limit, under the server's: gunicorn's own default (4094) would answer 414
    # itself, as HTML.
    long_query = "/v1/events?generation_id=" + "a" * (MAX_TARGET_BYTES + 1000)
    _problem(_ask(base, "GET", long_query, token), 414)
    _problem(_ask(base, "POST", "/v1/events", token, b" " * (1024 * 1024 + 1)), 413)
    _problem(_ask(base, "PATCH", "/v1/events", token), 405)
    _problem(_ask(base, "GET", "/v1/events/a%00b", token), 404)
    status, content_type, headers, data = _ask(base, "OPTIONS", "/v1/events")
    assert status == 204 and not data and "POST" in headers["Allow"], (status, content_type)


@pytest.mark.slow
def test_behind_waitress(embedded: tuple[str, str, subprocess.Popen[str]]) -> None:
    base, token, _proc = embedded
    _the_app_answers(base, token)


@pytest.fixture
def served(pg_engine: object, redis_client: object, tmp_path: Path) -> Iterator[tuple[str, str]]:
    from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY

    assert PG_URL and REDIS_URL
    env = clean_env(tmp_path, WINNOW_DATABASE_URL=PG_URL, WINNOW_REDIS_URL=REDIS_URL,
                    WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY)
    runner = CliRunner(env=env)
    runner.invoke(main, ["projects", "create", "limits"])
    token = runner.invoke(main, ["keys", "create", "--project", "limits"]).output.strip()
    port = free_port()
    proc = subprocess.Popen([WINNOW, "serve", "--port", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, token
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_behind_gunicorn(served: tuple[str, str]) -> None:
    base, token = served
    _the_app_answers(base, token)
