"""A curation failure end to end, on PostgreSQL + RQ: an item sealed with a key its worker
cannot open counts its attempts and names the error's type, `winnow jobs failed` shows it,
and once the worker has the key `winnow jobs retry` brings it back and it is curated."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from pydantic import SecretStr
from redis import Redis
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import Engine, select

from app import runtime
from app.cli import main, make_app
from app.config import Settings
from app.models import Item
from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY, _truncate
from tests.helpers import conversation
from tests.integration.test_cli import clean_env
from workers.queue import RETRY_INTERVALS, JobSerializer, rq_worker

QUEUE = "winnow-failure-test"
SECRET = "ottoline.brackenbury@example.net"
OTHER_KEY = Fernet.generate_key().decode()  # not the key the API sealed with


@pytest.fixture
def prod_settings(pg_engine: Engine, redis_client: Redis, tmp_path: Path) -> Settings:
    _truncate(pg_engine)
    assert PG_URL and REDIS_URL
    return Settings(data_dir=tmp_path, database_url=PG_URL, redis_url=REDIS_URL,
                    encryption_key=TEST_ENCRYPTION_KEY, queue_name=QUEUE, spacy_model="none")


def work_once(settings: Settings, key: str) -> None:
    """One burst of the real worker class `winnow worker` runs, holding `key` (this thread,
    its own runtime: the worker process of a deployment whose key is `key`)."""
    worker_settings = settings.model_copy(update={"encryption_key": SecretStr(key)})
    make_app(worker_settings)  # installs the worker's runtime
    try:
        assert settings.redis_url
        rq_worker(settings.redis_url, QUEUE).work(burst=True)
    finally:
        runtime.current().db.dispose()


def due_now(redis: Redis) -> int:
    """Enqueue the scheduled retries now instead of after their backoff (2, 4, ... 32 s): the
    retry itself is RQ's, only the waiting is skipped."""
    from rq import Queue

    queue = Queue(QUEUE, connection=redis, serializer=JobSerializer)
    registry = ScheduledJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=redis, serializer=JobSerializer))
    return len(ids)


def stored(app: Flask, external_id: str) -> Item:
    with app.extensions["winnow"].db.session() as session:
        item = session.scalar(select(Item).where(Item.external_id == external_id))
        assert item is not None
        return item


def winnow(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = clean_env(tmp_path, WINNOW_DATABASE_URL=str(settings.database_url),
                    WINNOW_REDIS_URL=str(settings.redis_url), WINNOW_QUEUE_NAME=QUEUE,
                    WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, WINNOW_SPACY_MODEL="none")
    result = CliRunner(env=env).invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.postgres
@pytest.mark.redis
def test_an_item_the_worker_cannot_open_fails_visibly_and_comes_back_with_retry(
    prod_settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    app = make_app(prod_settings)
    from app.services.keys import create_key
    from app.services.projects import create_project

    with app.extensions["winnow"].db.session() as session:
        token = create_key(session, create_project(session, "acme"), "t", ["events:write"]).token
    body = conversation("sealed-1", "u-1", f"Please write to {SECRET} about my refund.",
                        "I will send it there today.")
    resp = app.test_client().post("/v1/conversations", json=body,
                                  headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    job_id = stored(app, "sealed-1").job_id
    assert job_id

    # Every attempt fails on the item and counts on it; RQ retries the job each time.
    for attempt in range(1, len(RETRY_INTERVALS) + 2):
        work_once(prod_settings, OTHER_KEY)
        item = stored(app, "sealed-1")
        assert (item.state, item.attempts, item.last_error) == ("received", attempt, "KeyMissing")
        assert item.raw_sealed is not None  # nothing lost: the sealed text waits for its key
        scheduled = due_now(redis_client)
        assert scheduled == (0 if attempt > len(RETRY_INTERVALS) else 1), attempt
    from rq import Queue

    failed = FailedJobRegistry(queue=Queue(QUEUE, connection=redis_client))
    assert failed.get_job_ids() == [job_id]

    code, out = winnow(prod_settings, tmp_path, "jobs", "failed")
    assert code == 0, out
    job_line = next(ln for ln in out.splitlines() if ln.startswith(f"job {job_id}"))
    assert "workers.curation.job.curate" in job_line and "KeyMissing" in job_line
    assert f"item sealed-1\tjob {job_id}\tattempts={len(RETRY_INTERVALS) + 1}\tKeyMissing" in out
    assert SECRET not in out and "refund" not in out  # the error names a type, never text
    result = Job.fetch(job_id, connection=redis_client, serializer=JobSerializer).latest_result()
    assert result is not None and "KeyMissing" in str(result.exc_string)
    assert SECRET not in str(result.exc_string)

    # The operator gives the worker the key (rotation: the new first, the old still opens).
    code, out = winnow(prod_settings, tmp_path, "jobs", "retry", job_id)
    assert code == 0 and "retried 1 job(s)" in out, out
    assert stored(app, "sealed-1").attempts == 0  # a full round of attempts again
    work_once(prod_settings, f"{OTHER_KEY},{TEST_ENCRYPTION_KEY}")
    item = stored(app, "sealed-1")
    assert item.state == "accepted" and item.raw_sealed is None and item.last_error is None
    assert SECRET not in str(item.redacted)
    assert failed.get_job_ids() == []
    code, out = winnow(prod_settings, tmp_path, "jobs", "failed")
    assert code == 0 and out.strip() == "no failed jobs", out
    app.extensions["winnow"].db.dispose()


@pytest.mark.postgres
@pytest.mark.redis
def test_retrying_an_unknown_job_is_a_one_line_error(
    prod_settings: Settings, tmp_path: Path
) -> None:
    code, out = winnow(prod_settings, tmp_path, "jobs", "retry", "curate-nosuchjob")
    assert code == 1
    assert "curate-nosuchjob: not a failed job" in out
    code, out = winnow(prod_settings, tmp_path, "jobs", "retry")
    assert code == 1 and len(out.strip().splitlines()) == 1, out
