"""Curation survives a worker killed mid-job and Redis stopping during intake (real servers)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from app.cli import make_app
from app.config import Settings
from app.models import Item
from tests.conftest import (
    PG_URL,
    REDIS_URL,
    TEST_ENCRYPTION_KEY,
    MakeTenant,  # noqa: F401  (fixture type)
    _truncate,
)
from tests.helpers import conversation, run_jobs

ROOT = Path(__file__).resolve().parents[2]
WINNOW = str(Path(sys.executable).parent / "winnow")
TOPICS = [
    "How long should I boil an egg for a soft yolk?",
    "What is the capital of Australia and why was it chosen?",
    "Explain the difference between TCP and UDP for a beginner.",
    "Can you suggest a vegetarian lasagna recipe for six people?",
    "Why does my sourdough starter smell like nail polish remover?",
    "Write a haiku about the first snow in the mountains.",
    "How do I convert a list of strings to integers in Python?",
    "What are the main causes of the French Revolution?",
    "Is it safe to run a marathon two weeks after a bad cold?",
    "Translate 'where is the train station' into Portuguese.",
    "How many moons does Jupiter have, and which is the largest?",
    "Suggest a name for a bakery that specialises in rye bread.",
    "What does a p-value of 0.03 actually mean in an A/B test?",
    "How can I stop my cat from scratching the sofa?",
    "Summarise the rules of cricket in five sentences.",
    "Which houseplants survive in a dark north-facing room?",
    "What is the difference between a Roth IRA and a traditional IRA?",
    "Help me write a polite email declining a wedding invitation.",
    "How do noise-cancelling headphones work?",
    "Plan a three-day walking itinerary for Lisbon.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["winnow"].db.session() as session:
        query = select(Item.state, func.count()).group_by(Item.state)
        return {state: int(n) for state, n in session.execute(query)}


def assert_each_item_curated_once(app: Flask, copies: int) -> None:
    with app.extensions["winnow"].db.session() as session:
        items = list(session.scalars(select(Item)))
    assert items and all(i.state != "received" and i.raw_sealed is None for i in items)
    by_id = {i.id: i for i in items}
    canonical = [i for i in items if i.state != "duplicate"]
    assert len(canonical) == len(items) // copies  # one per distinct conversation
    for i in items:
        if i.state == "duplicate":
            target = by_id[i.duplicate_of_id or 0]
            assert target.state != "duplicate" and target.redacted == i.redacted
    votes: dict[int, int] = {}
    for i in items:
        if i.duplicate_of_id:
            votes[i.duplicate_of_id] = votes.get(i.duplicate_of_id, 0) + 1
    assert all(votes.get(c.id, 0) == copies - 1 for c in canonical), votes


@pytest.fixture
def prod_settings(pg_engine: Engine, redis_client: object, tmp_path: Path) -> Settings:
    _truncate(pg_engine)
    assert PG_URL and REDIS_URL
    return Settings(
        data_dir=tmp_path,
        database_url=PG_URL,
        redis_url=REDIS_URL,
        encryption_key=TEST_ENCRYPTION_KEY,
        queue_name="winnow-reliability",
        reconcile_after_seconds=2,
        reconcile_every_seconds=1,
    )


def post_shares(app: Flask, token: str, copies: int, batch: int = 6) -> int:
    client = app.test_client()
    bodies = [
        conversation(f"c{n}-{k}", f"user-{k}", text, f"Here is an answer to question {n}.")
        for k in range(copies)
        for n, text in enumerate(TOPICS)
    ]
    for start in range(0, len(bodies), batch):
        resp = client.post(
            "/v1/conversations",
            json={"conversations": bodies[start : start + batch]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
    return len(bodies)


def make_token(app: Flask) -> str:
    from app.services.keys import create_key
    from app.services.projects import get_or_create_project

    with app.extensions["winnow"].db.session() as session:
        project = get_or_create_project(session, "acme")
        return create_key(session, project, "t", ["events:write"]).token


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINNOW_")}
    env.update(
        WINNOW_DATABASE_URL=str(settings.database_url),
        WINNOW_REDIS_URL=str(settings.redis_url),
        WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
        WINNOW_QUEUE_NAME=settings.queue_name,
        WINNOW_DATA_DIR=str(settings.data_dir),
        WINNOW_RECONCILE_AFTER_SECONDS="2",
        WINNOW_RECONCILE_EVERY_SECONDS="1",
        PYTHONPATH=str(ROOT),
    )
    return subprocess.Popen(
        [WINNOW, "worker"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.redis
def test_worker_killed_mid_job_loses_nothing_and_duplicates_nothing(
    prod_settings: Settings, tmp_path: Path
) -> None:
    app = make_app(prod_settings)
    copies = 3
    total = post_shares(app, make_token(app), copies, batch=len(TOPICS) * copies)
    log = tmp_path / "worker.log"
    first = start_worker(prod_settings, log)
    try:
        # Kill it mid-job: the one job (all items of one batch) has committed its first
        # chunk of items and is working on the next.
        wait_for(
            lambda: 0 < total - counts(app).get("received", total) < total,
            120,
            "the first worker to commit part of its job",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        left = counts(app).get("received", 0)
        assert 0 < left < total
        second = start_worker(prod_settings, log)
        try:
            wait_for(
                lambda: counts(app).get("received", 0) == 0,
                180,
                "the second worker to curate the rest",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert_each_item_curated_once(app, copies)
    app.extensions["winnow"].db.dispose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A Redis server of this test's own, on a free port, that the test stops and restarts."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: run the suite with `bash scripts/test`")
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    yield port, procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)


def start_redis(port: int, procs: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    procs.append(proc)

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_for(up, 20, "redis-server to start")


@pytest.mark.redis
def test_redis_stopped_during_intake_loses_nothing(
    pg_engine: Engine, own_redis: tuple[int, list[subprocess.Popen[bytes]]], tmp_path: Path
) -> None:
    _truncate(pg_engine)
    port, procs = own_redis
    start_redis(port, procs, tmp_path)
    assert PG_URL
    settings = Settings(
        data_dir=tmp_path,
        database_url=PG_URL,
        redis_url=f"redis://127.0.0.1:{port}/0",
        encryption_key=TEST_ENCRYPTION_KEY,
        reconcile_after_seconds=1,
    )
    app = make_app(settings)
    token = make_token(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [
        conversation(f"c-{n}", "u", text, f"Here is an answer to question {n}.")
        for n, text in enumerate(TOPICS[:8])
    ]
    for body in bodies[:4]:
        assert client.post("/v1/conversations", json=body, headers=headers).status_code == 201

    procs[-1].terminate()  # Redis goes away mid-intake, taking its queued jobs with it
    procs[-1].wait(10)
    for body in bodies[4:]:
        resp = client.post("/v1/conversations", json=body, headers=headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
    assert counts(app) == {"received": 8}

    start_redis(port, procs, tmp_path)  # back, empty
    from workers.curation.reconcile import reconcile

    time.sleep(1.1)  # older than WINNOW_RECONCILE_AFTER_SECONDS
    assert reconcile() == 8
    run_jobs(app)
    assert counts(app) == {"accepted": 8}
    app.extensions["winnow"].db.dispose()
