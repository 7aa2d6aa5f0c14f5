"""The log of a real served process (`winnow up` on waitress, `winnow serve` on gunicorn): access
lines name routes, an erased user's id never appears, and no request forges a line."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis import Redis
from sqlalchemy import Engine

from app.cli import main
from tests.integration.test_cli import WINNOW, call, clean_env, free_port, wait_healthy

FORGED = "/v1/events/y%0D%0Afake-line%1B%5B31mRED"


def send_raw(port: int, request: bytes) -> bytes:
    """Bytes no HTTP client would send: a header name with an escape sequence."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(65536)


def exercise(base: str, port: int, token: str) -> None:
    status, _ = call("DELETE", f"{base}/v1/users/smoke@example.com", token)
    assert status == 202
    forged = urllib.request.Request(base + FORGED, headers={"Authorization": f"Bearer {token}"})
    try:
        urllib.request.urlopen(forged, timeout=10)
    except urllib.error.HTTPError as err:
        assert err.code == 404
    assert call("GET", f"{base}/v1/users/smoke%40example.com/nothing")[0] == 404
    send_raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-\x1b[31mRED\r\nfake-line: 1\r\n\r\n")


def assert_clean(log: str) -> None:
    assert '"DELETE /v1/users/<user_id>" 202 ' in log, log[-3000:]
    assert '"GET (no route)" 404 ' in log
    assert "smoke" not in log and "example.com" not in log
    assert "\x1b" not in log and "\r" not in log
    assert not any(line.startswith("fake-line") for line in log.splitlines())


def test_winnow_up_logs_routes_and_escapes_every_line(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([WINNOW, "up", "--port", str(port)], env=clean_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        token = next(ln for ln in proc.stdout if "API key" in ln).rsplit(" ", 1)[1].strip()
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        exercise(base, port, token)
    finally:
        proc.send_signal(signal.SIGINT)
        log, _ = proc.communicate(timeout=30)
    assert_clean(log)


@pytest.mark.postgres
def test_winnow_serve_logs_routes_and_escapes_every_line(
    pg_engine: Engine, redis_client: Redis, tmp_path: Path
) -> None:
    from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY

    assert PG_URL and REDIS_URL
    env = clean_env(tmp_path, WINNOW_DATABASE_URL=PG_URL, WINNOW_REDIS_URL=REDIS_URL,
                    WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY)
    runner = CliRunner(env=env)
    runner.invoke(main, ["projects", "create", "logged"])
    made = runner.invoke(main, ["keys", "create", "--project", "logged", "--scope", "admin"])
    token = made.output.strip().splitlines()[-1]
    port = free_port()
    proc = subprocess.Popen([WINNOW, "serve", "--port", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        exercise(base, port, token)
    finally:
        proc.terminate()
        log, _ = proc.communicate(timeout=30)
    assert_clean(log)
    assert "Invalid request from ip=127.0.0.1" in log  # gunicorn's own line, on one line
