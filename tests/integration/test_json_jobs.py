"""Jobs are JSON in Redis, never pickle: a pickled payload planted there does not run (real
Redis, in-process workers and the real `winnow worker`)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import Engine

from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY
from workers.curation.dedupe_index import RedisDedupeIndex
from workers.queue import JobSerializer, RQJobQueue, rq_worker

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]
QUEUE = "winnow-json-test"


@dataclass(frozen=True)
class Counts:
    tasks: int
    stored: int


def count_job(tasks: int, ids: list[int]) -> Counts:
    """A job whose result is a dataclass, like sync_project's SyncResult."""
    return Counts(tasks, len(ids))


class Planted:
    """What an attacker with write access to Redis would store: unpickling it runs os.mkdir."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def plant(redis: Redis, job_id: str, marker: Path) -> None:
    payload = zlib.compress(pickle.dumps(Planted(marker)))
    redis.hset(f"rq:job:{job_id}", "data", cast(Any, payload))


@pytest.fixture
def queue(redis_client: Redis) -> RQJobQueue:
    assert REDIS_URL is not None
    return RQJobQueue(REDIS_URL, QUEUE)


def test_jobs_and_results_round_trip_as_json(queue: RQJobQueue, redis_client: Redis) -> None:
    assert REDIS_URL is not None
    job_id = queue.enqueue(f"{__name__}.count_job", 3, [7, 8])
    stored = zlib.decompress(cast(bytes, redis_client.hget(f"rq:job:{job_id}", "data")))
    assert json.loads(stored) == [f"{__name__}.count_job", None, [3, [7, 8]], {}]
    rq_worker(REDIS_URL, QUEUE).work(burst=True)
    assert queue.status(job_id) == "finished"
    job = Job.fetch(job_id, connection=queue.connection, serializer=JobSerializer)
    assert job.return_value() == {"tasks": 3, "stored": 2}


def test_a_pickled_payload_planted_in_redis_is_never_unpickled(
    queue: RQJobQueue, redis_client: Redis, tmp_path: Path
) -> None:
    assert REDIS_URL is not None
    marker = tmp_path / "ran"
    # No retries, so the refused job is failed at once.
    job = queue.queue.enqueue(f"{__name__}.count_job", 1, [1], failure_ttl=600)
    plant(redis_client, job.id, marker)
    rq_worker(REDIS_URL, QUEUE).work(burst=True)
    assert not marker.exists()
    assert queue.status(job.id) == "failed"
    [failed] = queue.failed()
    assert (failed.id, failed.func, failed.args) == (job.id, "?", ())
    assert "DeserializationError" in failed.error

    # The control: RQ's default (pickle) worker, what ran before, does run the planted code.
    again = queue.queue.enqueue(f"{__name__}.count_job", 1, [1])
    plant(redis_client, again.id, marker)
    SimpleWorker([QUEUE], connection=queue.connection).work(burst=True)
    assert marker.exists()


@pytest.mark.postgres
def test_winnow_worker_runs_json_jobs_and_refuses_planted_ones(
    pg_engine: Engine, queue: RQJobQueue, redis_client: Redis, tmp_path: Path
) -> None:
    assert REDIS_URL is not None and PG_URL is not None
    out, marker = tmp_path / "out.txt", tmp_path / "ran"
    good = queue.enqueue("tests.jobs.append_line", str(out), "ran as JSON")
    planted = queue.queue.enqueue("tests.jobs.append_line", str(out), "planted")
    plant(redis_client, planted.id, marker)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINNOW_")}
    env.update(WINNOW_REDIS_URL=REDIS_URL, WINNOW_DATABASE_URL=PG_URL, WINNOW_QUEUE_NAME=QUEUE,
               WINNOW_DATA_DIR=str(tmp_path), WINNOW_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
               WINNOW_SPACY_MODEL="none", PYTHONPATH=str(ROOT))
    done = subprocess.run([str(Path(sys.executable).parent / "winnow"), "worker", "--burst"],
                          env=env, cwd=ROOT, timeout=180, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_text().splitlines() == ["ran as JSON"]
    assert not marker.exists()
    assert (queue.status(good), queue.status(planted.id)) == ("finished", "failed")


def test_the_dedupe_index_stores_no_pickle(redis_client: Redis) -> None:
    assert REDIS_URL is not None
    index = RedisDedupeIndex(REDIS_URL, prefix="winnow:dedupe-json-test")
    text = "How do I reset my password? Open Settings, then Security, then Reset password."
    assert index.find_or_add(1, 10, text) is None
    assert index.find_or_add(1, 11, text) is not None
    index.mark_loaded(1)
    values: list[bytes] = []
    for key in redis_client.scan_iter("winnow:dedupe-json-test:*"):
        kind = redis_client.type(key)
        if kind == b"hash":
            values += cast(list[bytes], redis_client.hvals(key))
        elif kind == b"set":
            values += cast(set[bytes], redis_client.smembers(key))
        elif kind == b"string":
            values.append(cast(bytes, redis_client.get(key)))
    assert values and all(v.decode().isprintable() for v in values)
    assert not any(v.startswith(b"\x80") for v in values)  # pickle's protocol marker
