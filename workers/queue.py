"""Where jobs go: RQ on Redis when WINNOW_REDIS_URL is set, else a thread in this process.

Both run a job the same way (same retry policy, failed jobs kept and retryable), so code that
enqueues does not care which. A job is named by its dotted path ("workers.curation.job.curate"),
so the API process never imports the heavy curation stages: the name a caller enqueues
(`app.jobs.CURATE`) becomes that path here (`workers.registry`). The in-process queue keeps
nothing across restarts: anything that must survive one is recorded in the database first, and
the reconciler re-enqueues it.

RQ pickles jobs by default, so anyone able to write to Redis could run code in a worker. Jobs
here carry ids only, and are stored as JSON (JobSerializer): a pickled payload planted in Redis
fails to load instead of running.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from rq import Queue, Retry, SimpleWorker
from rq.exceptions import DeserializationError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from app.jobs import FailedJob, Func, JobQueue, redis_connection
from workers import registry

log = logging.getLogger("winnow.queue")

RETRY_INTERVALS = (2, 4, 8, 16, 32)  # seconds: exponential backoff, five retries
FAILURE_TTL = 14 * 24 * 3600  # failed jobs stay visible (and retryable) for two weeks
JOB_TIMEOUT = 600  # seconds; a job running longer is killed and counts as failed





def resolve(func: Func) -> Callable[..., Any]:
    func = registry.target(func)
    if callable(func):
        return func
    module, _, name = func.rpartition(".")
    target: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return target


def _name(func: Func) -> str:
    func = registry.target(func)
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"



def _plain(value: Any) -> Any:
    """A job's result as JSON: its dataclasses (SyncResult, PushResult) as objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"a {type(value).__name__} cannot be stored as JSON in a job")


class JobSerializer:
    """JSON for everything RQ stores about a job (call, arguments, result, meta), never pickle;
    RQ's own JSONSerializer, which has no place for a dataclass result."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, default=_plain, separators=(",", ":")).encode()

    @staticmethod
    def loads(data: bytes) -> Any:
        return json.loads(data)


def rq_worker(redis_url: str, name: str) -> SimpleWorker:
    """A worker that reads jobs as JSON, like the queue writes them (`winnow worker`)."""
    return SimpleWorker([name], connection=redis_connection(redis_url), serializer=JobSerializer)


def _exc_string(job: Job) -> str | None:
    """The traceback text of a failed job's latest result (RQ 2's `exc_info` is deprecated)."""
    try:
        result = job.latest_result()
    except Exception:  # a result RQ cannot read back
        return None
    return None if result is None else getattr(result, "exc_string", None)


def _last_line(exc_info: str | None) -> str:
    lines = [ln for ln in (exc_info or "").strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "unknown error"


class RQJobQueue:
    def __init__(self, redis_url: str, name: str) -> None:
        self.connection = redis_connection(redis_url)
        self.queue = Queue(name, connection=self.connection, serializer=JobSerializer)

    @property
    def durable(self) -> bool:
        return True

    def enqueue(self, func: Func, *args: Any, job_id: str | None = None) -> str:
        job = self.queue.enqueue(
            cast(Any, registry.target(func)),
            *args,
            job_id=job_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            failure_ttl=FAILURE_TTL,
            job_timeout=JOB_TIMEOUT,
        )
        return str(job.id)

    def claim(self, key: str, ttl: int) -> bool:
        return bool(self.connection.set(f"winnow:claim:{key}", "1", nx=True, ex=ttl))

    def release(self, key: str) -> None:
        self.connection.delete(f"winnow:claim:{key}")

    def status(self, job_id: str) -> str | None:
        job = self._fetch([job_id])[0]
        if job is None:
            return None
        state = job.get_status(refresh=False)
        return str(state.value) if isinstance(state, JobStatus) else None

    def started_at(self, job_id: str) -> datetime | None:
        job = self._fetch([job_id])[0]
        if job is None or job.started_at is None:
            return None
        return job.started_at.replace(tzinfo=UTC)

    def _fetch(self, ids: list[str]) -> list[Job | None]:
        return Job.fetch_many(ids, connection=self.connection, serializer=JobSerializer)

    def clean_abandoned(self) -> None:
        """Jobs of workers that died (SIGKILL, lost machine) go to retry or to failed."""
        StartedJobRegistry(queue=self.queue).cleanup()

    def drain(self) -> bool:
        return False  # its jobs run in `winnow worker` processes

    def failed(self) -> list[FailedJob]:
        registry = FailedJobRegistry(queue=self.queue)
        ids = registry.get_job_ids()
        out = []
        for job in self._fetch(ids):
            if job is None:
                continue
            try:
                func, args = job.func_name or "?", tuple(job.args)
            except DeserializationError:  # not JSON: planted, or left by a pickling version
                func, args = "?", ()
            out.append(
                FailedJob(
                    job.id,
                    func,
                    args,
                    job.ended_at and job.ended_at.replace(tzinfo=UTC),
                    _last_line(_exc_string(job)),
                )
            )
        return out

    def retry(self, job_id: str) -> bool:
        registry = FailedJobRegistry(queue=self.queue)
        if job_id not in registry.get_job_ids():
            return False
        registry.requeue(job_id)
        return True


@dataclass
class _Job:
    id: str
    func: Func
    args: tuple[Any, ...]
    attempt: int = 0


@dataclass
class InProcessJobQueue:
    """A daemon thread that runs jobs in order, retrying with the same backoff as RQ."""

    intervals: tuple[float, ...] = RETRY_INTERVALS
    failures: dict[str, tuple[_Job, FailedJob]] = field(default_factory=dict)
    _states: dict[str, str] = field(default_factory=dict)
    _jobs: queue.Queue[_Job | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _claims: set[str] = field(default_factory=set)

    @property
    def durable(self) -> bool:
        return False

    @property
    def failed_ids(self) -> list[str]:
        return list(self.failures)

    def enqueue(self, func: Func, *args: Any, job_id: str | None = None) -> str:
        with self._lock:
            self._counter += 1
            jid = job_id or f"local-{self._counter}"
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="winnow-jobs", daemon=True)
                self._thread.start()
            self._states[jid] = "queued"
        self._jobs.put(_Job(jid, func, args))
        return jid

    def claim(self, key: str, ttl: int) -> bool:
        with self._lock:
            if key in self._claims:
                return False
            self._claims.add(key)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._claims.discard(key)

    def status(self, job_id: str) -> str | None:
        return self._states.get(job_id)

    def started_at(self, job_id: str) -> datetime | None:
        return None  # a job of this process runs while the process lives

    def failed(self) -> list[FailedJob]:
        return [f for _, f in self.failures.values()]

    def retry(self, job_id: str) -> bool:
        entry = self.failures.pop(job_id, None)
        if entry is None:
            return False
        job = entry[0]
        job.attempt = 0
        self._states[job_id] = "queued"
        self._jobs.put(job)
        return True

    def join(self) -> None:
        """Wait until every job enqueued so far has finished (tests and shutdown)."""
        self._jobs.join()

    def drain(self) -> bool:
        self.join()
        return True

    def clean_abandoned(self) -> None:
        """Nothing to clean: a job of this process runs while the process lives."""

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._jobs.task_done()
                return
            self._states[job.id] = "started"
            try:
                resolve(job.func)(*job.args)
                self._states[job.id] = "finished"
            except Exception as exc:
                self._retry_or_fail(job, exc)
            finally:
                self._jobs.task_done()

    def _retry_or_fail(self, job: _Job, exc: Exception) -> None:
        if job.attempt < len(self.intervals):
            delay = self.intervals[job.attempt]
            job.attempt += 1
            self._states[job.id] = "scheduled"
            log.warning(
                "job %s failed (%s); retry %d in %ss",
                job.id,
                type(exc).__name__,
                job.attempt,
                delay,
            )
            timer = threading.Timer(delay, self._jobs.put, args=(job,))
            timer.daemon = True
            timer.start()
        else:
            log.error("job %s failed for good (%s)", job.id, type(exc).__name__)
            self._states[job.id] = "failed"
            error = f"{type(exc).__name__}: {str(exc)[:250]}"
            self.failures[job.id] = (
                job,
                FailedJob(job.id, _name(job.func), job.args, datetime.now(UTC), error),
            )

    def stop(self, timeout: float = 5.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            deadline = time.monotonic() + timeout
            thread.join(max(0.0, deadline - time.monotonic()))


def make_queue(redis_url: str | None, name: str) -> JobQueue:
    return RQJobQueue(redis_url, name) if redis_url else InProcessJobQueue()
