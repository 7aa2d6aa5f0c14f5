"""Where jobs go: RQ on Redis when WINNOW_REDIS_URL is set, else a thread in this process.

Both run a job the same way (same retry policy), so code that enqueues does not care which.
The in-process queue keeps nothing across restarts: anything that must survive one is recorded
in the database first, and reconcilers re-enqueue it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from redis import Redis
from rq import Queue, Retry

log = logging.getLogger("winnow.queue")

RETRY_INTERVALS = (2, 4, 8, 16, 32)  # seconds: exponential backoff, five retries
FAILURE_TTL = 14 * 24 * 3600  # failed jobs stay visible (and retryable) for two weeks


@cache
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10,
                          health_check_interval=30)


class JobQueue(Protocol):
    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None) -> str:
        ...


class RQJobQueue:
    def __init__(self, redis_url: str, name: str) -> None:
        self.queue = Queue(name, connection=redis_connection(redis_url))

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None) -> str:
        job = self.queue.enqueue(
            func, *args, job_id=job_id, retry=Retry(max=len(RETRY_INTERVALS),
                                                    interval=list(RETRY_INTERVALS)),
            failure_ttl=FAILURE_TTL,
        )
        return str(job.id)


@dataclass
class _Job:
    id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    attempt: int = 0


@dataclass
class InProcessJobQueue:
    """A daemon thread that runs jobs in order, retrying with the same backoff as RQ."""

    intervals: tuple[float, ...] = RETRY_INTERVALS
    failed: list[str] = field(default_factory=list)
    _jobs: queue.Queue[_Job | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, func: Callable[..., Any], *args: Any, job_id: str | None = None) -> str:
        with self._lock:
            self._counter += 1
            jid = job_id or f"local-{self._counter}"
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="winnow-jobs", daemon=True)
                self._thread.start()
        self._jobs.put(_Job(jid, func, args))
        return jid

    def join(self) -> None:
        """Wait until every job enqueued so far has finished (tests and shutdown)."""
        self._jobs.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._jobs.task_done()
                return
            try:
                job.func(*job.args)
            except Exception as exc:
                self._retry_or_fail(job, exc)
            finally:
                self._jobs.task_done()

    def _retry_or_fail(self, job: _Job, exc: Exception) -> None:
        if job.attempt < len(self.intervals):
            delay = self.intervals[job.attempt]
            job.attempt += 1
            log.warning("job %s failed (%s); retry %d in %ss", job.id, type(exc).__name__,
                        job.attempt, delay)
            timer = threading.Timer(delay, self._jobs.put, args=(job,))
            timer.daemon = True
            timer.start()
        else:
            log.error("job %s failed for good (%s)", job.id, type(exc).__name__)
            self.failed.append(job.id)

    def stop(self, timeout: float = 5.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            deadline = time.monotonic() + timeout
            thread.join(max(0.0, deadline - time.monotonic()))


def make_queue(redis_url: str | None, name: str) -> JobQueue:
    return RQJobQueue(redis_url, name) if redis_url else InProcessJobQueue()
