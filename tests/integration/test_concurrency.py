"""Races on the real servers: two workers curating the same items at once (PostgreSQL, RQ,
Label Studio), two version requests for one dataset at once, and a build that fails midway."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr
from rq import Worker
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import Engine, select

from app.cli import make_app
from app.config import Settings
from app.jobs import CURATE, PUSH
from app.models import DatasetVersion, Item, LabelStudioProject, Project
from app.services import datasets as service
from app.services.errors import Conflict
from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY, MakeTenant, _truncate
from tests.helpers import Tenant, conversation, event, generation, is_problem, run_jobs
from tests.integration.test_curation_reliability import (
    TOPICS,
    assert_each_item_curated_once,
    make_token,
    wait_for,
)
from tests.integration.test_labelstudio import LS_TOKEN, LS_URL, need_label_studio

ROOT = Path(__file__).resolve().parents[2]
WINNOW = str(Path(sys.executable).parent / "winnow")
QUEUE = "winnow-concurrency-test"
COPIES = 3
CURATED = re.compile(r"curated (\d+) item\(s\)")


@pytest.fixture
def ls() -> Any:
    """A client of the real Label Studio (as tests/integration/test_labelstudio.py's)."""
    need_label_studio()
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=LS_URL, api_key=LS_TOKEN)


@pytest.fixture
def ls_prod_settings(pg_engine: Engine, redis_client: object, ls: Any,
                     tmp_path: Path) -> Iterator[Settings]:
    """PostgreSQL, Redis and Label Studio; the Label Studio projects made are deleted after."""
    _truncate(pg_engine)
    assert PG_URL and REDIS_URL
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, redis_url=REDIS_URL,
                        encryption_key=TEST_ENCRYPTION_KEY, queue_name=QUEUE,
                        spacy_model="none", label_studio_url=LS_URL,
                        label_studio_token=SecretStr(LS_TOKEN or ""))
    yield settings
    from app.db import Database

    db = Database(PG_URL)
    try:
        with db.session() as session:
            for row in session.scalars(select(LabelStudioProject)):
                with suppress(Exception):
                    ls.projects.delete(id=row.ls_project_id)
    finally:
        db.dispose()


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINNOW_")}
    env.update(
        WINNOW_DATABASE_URL=str(settings.database_url),
        WINNOW_REDIS_URL=str(settings.redis_url),
        WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
        WINNOW_QUEUE_NAME=QUEUE,
        WINNOW_DATA_DIR=str(settings.data_dir),
        WINNOW_SPACY_MODEL="none",
        WINNOW_LABEL_STUDIO_URL=str(LS_URL),
        WINNOW_LABEL_STUDIO_TOKEN=str(LS_TOKEN),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.Popen([WINNOW, "worker"], env=env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_two_workers_curating_the_same_items_curate_each_once_and_push_once(
    ls_prod_settings: Settings, ls: Any, tmp_path: Path
) -> None:
    from app.labelstudio import connect
    from workers.labelstudio.setup import setup_project

    app = make_app(ls_prod_settings)
    token = make_token(app)
    with app.extensions["winnow"].db.session() as session:
        project = session.scalar(select(Project).where(Project.slug == "acme"))
        assert project is not None
        kinds = {r.kind: r.ls_project_id
                 for r in setup_project(session, project, ls_prod_settings,
                                        connect(ls_prod_settings))}
    # Both workers are up and idle before any job exists, so they take jobs at once.
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(ls_prod_settings, log) for log in logs]
    try:
        queue = app.extensions["winnow"].queue
        wait_for(lambda: len(Worker.all(queue=queue.queue)) == 2, 120, "two idle workers")
        client = app.test_client()
        # A user each: twenty shares by one user in an hour would be quarantined as a burst.
        bodies = [conversation(f"c{n}-{k}", f"user-{n}-{k}", text,
                               f"Here is an answer to question {n}.")
                  for k in range(COPIES) for n, text in enumerate(TOPICS)]
        resp = client.post("/v1/conversations", json={"conversations": bodies},
                           headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        with app.extensions["winnow"].db.session() as session:
            ids = list(session.scalars(select(Item.id).order_by(Item.id)))
        # The same items in more jobs (as a reconciler re-enqueueing a slow job would), and
        # pushes besides the ones curation asks for.
        for n in range(3):
            queue.enqueue(CURATE, ids, job_id=f"curate-again-{n}-{uuid.uuid4().hex[:8]}")
        for n in range(2):
            queue.enqueue(PUSH, project.id, job_id=f"lspush-extra-{n}-{uuid.uuid4().hex[:8]}")
        wait_for(lambda: queue.queue.count == 0
                 and not StartedJobRegistry(queue=queue.queue).get_job_ids()
                 and not ScheduledJobRegistry(queue=queue.queue).get_job_ids(),
                 300, "the workers to finish every job")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
    text = "".join(log.read_text() for log in logs)
    assert sum(int(n) for n in CURATED.findall(text)) == len(ids), text[-3000:]

    assert_each_item_curated_once_after_push(app)
    with app.extensions["winnow"].db.session() as session:
        canonical = list(session.scalars(select(Item).where(Item.state != "duplicate")))
    assert len(canonical) == len(TOPICS)
    assert {i.state for i in canonical} == {"in_annotation"}, {i.state for i in canonical}
    task_ids = [i.ls_task_id for i in canonical]
    assert None not in task_ids and len(set(task_ids)) == len(TOPICS)
    tasks = list(ls.tasks.list(project=kinds["review"], fields="all", page_size=100))
    assert sorted(t.id for t in tasks) == sorted(task_ids)  # one task per item: one push
    app.extensions["winnow"].db.dispose()


def assert_each_item_curated_once_after_push(app: Flask) -> None:
    """As `assert_each_item_curated_once`, where canonical items went on to annotation."""
    with app.extensions["winnow"].db.session() as session:
        states = set(session.scalars(select(Item.state)))
    assert "received" not in states, states
    assert_each_item_curated_once(app, COPIES)


SCOPES = ("events:write", "events:read", "items:read", "datasets:read", "datasets:write")


@pytest.fixture
def owner(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def define(app: Flask, t: Tenant, name: str = "help-eval") -> None:
    client = app.test_client()
    for i in range(4):
        assert client.post("/v1/generations", json=generation(f"g-{i}"),
                           headers=t.headers).status_code == 201
        body = conversation(f"c-{i}", f"u-{i}", f"Ticket {i}: how do I export invoice {i}?",
                            f"Open Billing, then Invoices, then export number {i}.",
                            generation_id=f"g-{i}")
        assert client.post("/v1/conversations", json=body, headers=t.headers).status_code == 201
        client.post("/v1/events", json=event(f"up-{i}", "thumbs_up", f"g-{i}"),
                    headers=t.headers)
    run_jobs(app)
    resp = client.post("/v1/datasets", json={"name": name, "purpose": "eval"},
                       headers=t.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)


def versions(app: Flask) -> list[DatasetVersion]:
    with app.extensions["winnow"].db.session() as session:
        return list(session.scalars(select(DatasetVersion).order_by(DatasetVersion.number)))


def test_concurrent_version_requests_get_distinct_numbers(
    app: Flask, owner: Tenant
) -> None:
    define(app, owner)
    for _ in range(5):
        barrier = threading.Barrier(2)
        answers: list[Any] = []

        def ask(message: str, barrier: threading.Barrier = barrier,
                answers: list[Any] = answers) -> None:
            client = app.test_client()  # a request of its own: its own session, connection
            barrier.wait()
            answers.append(client.post("/v1/datasets/help-eval/versions",
                                       json={"message": message}, headers=owner.headers))

        threads = [threading.Thread(target=ask, args=(m,)) for m in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        made = [a.get_json()["version"] for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        for a in refused:  # one build per dataset at a time: the other one waits
            assert "still building" in is_problem(a, 409)["detail"]
        assert made and len(set(made)) == len(made)
        run_jobs(app)
    built = versions(app)
    numbers = [v.number for v in built]
    assert numbers == list(range(1, len(numbers) + 1))
    # Every version a request was answered with was built: none was failed by the other.
    assert {v.state for v in built} == {"ready"}, [(v.number, v.state, v.error) for v in built]


def test_a_request_between_anothers_commit_and_enqueue_does_not_fail_it(
    owner: Tenant, app: Flask
) -> None:
    """The exact interleaving of two requests: A has committed its version, not yet enqueued
    its build; B arrives. B must wait (409), not mark A's version failed."""
    define(app, owner)
    db = app.extensions["winnow"].db
    queue = app.extensions["winnow"].queue
    with db.session() as session:
        first = service.request_version(session, owner.project_id, "help-eval", "a", False,
                                        queue)
        number = first.number
        session.expunge(first)
    with db.session() as session, pytest.raises(Conflict, match="still building"):
        service.request_version(session, owner.project_id, "help-eval", "b", False, queue)
    service.enqueue_build(queue, first)
    run_jobs(app)
    [built] = versions(app)
    assert (built.number, built.state) == (number, "ready"), built.error


def test_a_failed_build_ends_failed_and_leaves_no_files(
    app: Flask, owner: Tenant, settings: Settings
) -> None:
    define(app, owner)
    client = app.test_client()
    root = Path(settings.data_dir) / "datasets" / "acme" / "help-eval" / "1"
    # A real fault after the data files are written: the manifest's place is taken.
    (root / "manifest.json.part").mkdir(parents=True)
    resp = client.post("/v1/datasets/help-eval/versions", json={"message": "x"},
                       headers=owner.headers)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    run_jobs(app)
    [version] = versions(app)
    assert version.state == "failed" and version.error
    assert not root.exists() or list(root.rglob("*")) == [], list(root.rglob("*"))
    listed = client.get("/v1/datasets/help-eval/versions", headers=owner.headers).get_json()
    assert [v["state"] for v in listed["data"]] == ["failed"]
    assert "not ready" in is_problem(
        client.get("/v1/datasets/help-eval/versions/1", headers=owner.headers), 409)["detail"]
    # The next request builds a fresh version 2, and it is complete.
    resp = client.post("/v1/datasets/help-eval/versions", json={"message": "y"},
                       headers=owner.headers)
    assert resp.status_code == 202 and resp.get_json()["version"] == 2
    run_jobs(app)
    assert [v.state for v in versions(app)] == ["failed", "ready"]
    done = Path(settings.data_dir) / "datasets" / "acme" / "help-eval" / "2"
    assert (done / "manifest.json").is_file()
