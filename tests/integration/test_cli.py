"""The `winnow` command: projects, keys, and the embedded service from a clean data dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main

WINNOW = str(Path(sys.executable).parent / "winnow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINNOW_")}
    env.update(WINNOW_DATA_DIR=str(tmp_path), **extra)
    return env


def call(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_healthy(base: str, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited early"
        try:
            if call("GET", f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def test_projects_and_keys(tmp_path: Path) -> None:
    runner = CliRunner(env=clean_env(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["projects", "create", "shop"]).exit_code == 0
    dup = runner.invoke(main, ["projects", "create", "shop"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    bad = runner.invoke(main, ["projects", "create", "Not A Slug!"])
    assert bad.exit_code == 1 and "slug" in bad.output

    made = runner.invoke(main, ["keys", "create", "--project", "shop", "--scope", "events:read"])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    assert token.startswith("wn_")
    prefix = token.split("_")[1]
    listed = runner.invoke(main, ["keys", "list", "--project", "shop"])
    assert prefix in listed.output and "events:read" in listed.output
    assert token.split("_", 2)[2] not in listed.output  # the secret is never shown again

    assert runner.invoke(main, ["keys", "revoke", prefix]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["keys", "list", "--project", "shop"]).output
    for args, message in [
        (["keys", "create", "--project", "nope"], "no project"),
        (["keys", "create", "--project", "shop", "--scope", "root"], "unknown scope"),
        (["keys", "create", "--project", "shop", "--rate-limit", "lots"], "rate limit"),
        (["keys", "revoke", "ffffff"], "no API key"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)

    worker = runner.invoke(main, ["worker", "--burst"])
    assert worker.exit_code == 1 and "WINNOW_REDIS_URL" in worker.output


@contextmanager
def running_up(tmp_path: Path, **env: str) -> Iterator[tuple[str, str, list[str]]]:
    """`winnow up` on a fresh data folder: its address, the key it printed, the lines it
    printed up to the key; stopped (SIGINT) afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [WINNOW, "up", "--port", str(port)],
        env=clean_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = None
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "API key (shown once" in line:
                token = line.rsplit(" ", 1)[1].strip()
                break
        assert token and token.startswith("wn_")
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        yield base, token, lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """`winnow up` with no configuration at all, as a newcomer runs it."""
    with running_up(tmp_path) as up:
        yield up


def test_winnow_up_posts_a_batch_reads_it_back_and_replays_idempotently(
    embedded: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    base, token, _ = embedded
    assert (tmp_path / "winnow.db").exists()
    batch = {
        "events": [
            {"id": "e1", "type": "thumbs_up", "generation_id": "g1", "user_id": "u1"},
            {"id": "e2", "type": "tweak", "generation_id": "g1", "text": "better answer"},
            {"id": "e3", "type": "rating", "generation_id": "g2", "rating": 2},
        ]
    }
    status, body = call("POST", f"{base}/v1/events", token, batch)
    assert status == 200 and body["summary"]["created"] == 3
    status, body = call("POST", f"{base}/v1/events", token, batch)
    assert status == 200 and body["summary"]["duplicate"] == 3
    status, page = call("GET", f"{base}/v1/events?generation_id=g1", token)
    assert status == 200
    assert [(e["id"], e["signal"]) for e in page["data"]] == [
        ("e1", "positive"),
        ("e2", "positive"),
    ]
    status, all_events = call("GET", f"{base}/v1/events", token)
    assert len(all_events["data"]) == 3
    status, ready = call("GET", f"{base}/readyz")
    assert status == 200 and ready["checks"] == {"database": "ok", "queue": "in-process"}


def test_winnow_up_again_keeps_data_and_prints_no_new_key(tmp_path: Path) -> None:
    runner = CliRunner(env=clean_env(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["projects", "create", "local"]).exit_code == 0
    assert runner.invoke(main, ["keys", "create", "--project", "local"]).exit_code == 0
    port = free_port()
    proc = subprocess.Popen(
        [WINNOW, "up", "--port", str(port)],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert "shown once" not in out
    assert "winnow keys create --project local" in out


@pytest.mark.postgres
def test_winnow_serve_on_postgres_and_redis(
    pg_engine: object, redis_client: object, tmp_path: Path
) -> None:
    from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY

    assert PG_URL and REDIS_URL
    env = clean_env(tmp_path, WINNOW_DATABASE_URL=PG_URL, WINNOW_REDIS_URL=REDIS_URL)
    runner = CliRunner(env=env)
    refused = runner.invoke(main, ["serve", "--port", str(free_port())])
    assert refused.exit_code != 0 and "WINNOW_ENCRYPTION_KEY is not set" in refused.output
    env["WINNOW_ENCRYPTION_KEY"] = TEST_ENCRYPTION_KEY
    runner = CliRunner(env=env)
    runner.invoke(main, ["projects", "create", "served"])
    token = runner.invoke(main, ["keys", "create", "--project", "served"]).output.strip()
    port = free_port()
    proc = subprocess.Popen(
        [WINNOW, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        status, ready = call("GET", f"{base}/readyz")
        assert status == 200 and ready["checks"] == {"database": "ok", "redis": "ok"}
        event = {"id": "s1", "type": "accept", "generation_id": "g"}
        assert call("POST", f"{base}/v1/events", token, event)[0] == 201
        assert call("POST", f"{base}/v1/events", token, event)[0] == 200
        assert call("GET", f"{base}/v1/events/s1", token)[1]["signal"] == "strong_positive"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
