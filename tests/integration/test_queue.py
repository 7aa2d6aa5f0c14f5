"""Jobs run on real Redis by `winnow worker`, or in-process in the embedded mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from tests import jobs
from tests.conftest import REDIS_URL, TEST_ENCRYPTION_KEY
from workers.queue import InProcessJobQueue, RQJobQueue

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
def test_worker_process_runs_enqueued_jobs(redis_client: Redis, tmp_path: Path) -> None:
    assert REDIS_URL is not None
    out = tmp_path / "out.txt"
    queue = RQJobQueue(REDIS_URL, "winnow-test")
    ids = [queue.enqueue(jobs.append_line, str(out), f"job {i}") for i in range(3)]
    assert len(set(ids)) == 3
    env = {
        **os.environ,
        "WINNOW_REDIS_URL": REDIS_URL,
        "WINNOW_QUEUE_NAME": "winnow-test",
        "WINNOW_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "WINNOW_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }
    winnow = str(Path(sys.executable).parent / "winnow")
    # A worker refuses a database that was never set up: set it up as a user would.
    setup = subprocess.run([winnow, "db", "upgrade"], env=env, cwd=ROOT, timeout=120,
                           capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr[-2000:]
    done = subprocess.run(
        [winnow, "worker", "--burst"],
        env=env,
        cwd=ROOT,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_text().splitlines() == ["job 0", "job 1", "job 2"]


def test_in_process_queue_retries_a_transient_failure(tmp_path: Path) -> None:
    queue = InProcessJobQueue(intervals=(0.01, 0.01, 0.01))
    counter = tmp_path / "count"
    queue.enqueue(jobs.fail_until, str(counter), 2)
    out = tmp_path / "out.txt"
    queue.enqueue(jobs.append_line, str(out), "after")
    for _ in range(200):  # bounded wait for the retries (timers) to land
        queue.join()
        if counter.exists() and int(counter.read_text()) == 3:
            break
        time.sleep(0.01)
    assert int(counter.read_text()) == 3  # two failures, then success
    assert out.read_text() == "after\n"
    assert queue.failed_ids == []
    queue.stop()


def test_in_process_queue_gives_up_after_its_retries(tmp_path: Path) -> None:
    queue = InProcessJobQueue(intervals=(0.01,))
    counter = tmp_path / "count"
    jid = queue.enqueue(jobs.fail_until, str(counter), 5)
    for _ in range(200):
        queue.join()
        if queue.failed_ids:
            break
        time.sleep(0.01)
    assert queue.failed_ids == [jid]
    assert int(counter.read_text()) == 2
    queue.stop()
