"""Jobs as the rest of Winnow sees them: their names, the queue they go on, their ids.

Code that enqueues names a job (`CURATE`, `PUSH`, ...) and passes ids only; which function
runs it, and where (a thread of this process, or an RQ worker), is the job side's business: its
registry maps each name to a function, and it holds the two queues (docs/architecture.md).
This module is the contract both sides keep, so it imports nothing of theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from redis import Redis

# Job names. Each takes ids only (JSON): never text, never a secret.
CURATE = "curate"  # item ids: screen, dedupe and judge each item
SCREEN = "screen"  # project id: redact the pending free text of events
PUSH = "push"  # project id: accepted items to Label Studio tasks
SYNC_TASKS = "sync-tasks"  # project id, task ids, annotation ids: a webhook's changes
SYNC_PROJECT = "sync-project"  # project id: every task's annotations (periodic sync)
BUILD = "build"  # dataset version id: write its files and manifest
PURGE = "purge"  # erasure id: take a user's rows out of stored dataset files
NAMES = frozenset({CURATE, SCREEN, PUSH, SYNC_TASKS, SYNC_PROJECT, BUILD, PURGE})

# A job is a name from NAMES; tests may also enqueue a callable or its dotted path.
Func = Callable[..., Any] | str

# Job states in which a job will still run (or is running): the reconciler leaves these alone.
LIVE_STATES = frozenset({"queued", "started", "deferred", "scheduled"})


def new_job_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@cache
def redis_connection(url: str) -> Redis:
    """The one Redis connection of this process for `url`: the queue, claims, chore locks and
    the readiness check share it."""
    return Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30
    )


@dataclass(frozen=True)
class FailedJob:
    id: str
    func: str
    args: tuple[Any, ...]
    failed_at: datetime | None
    error: str  # the exception's type and message, never the traceback's locals


class JobQueue(Protocol):
    @property
    def durable(self) -> bool:
        """Whether queued and failed jobs outlive this process (RQ on Redis); the embedded
        queue's live in this process's memory and end with it."""

    def enqueue(self, func: Func, *args: Any, job_id: str | None = None) -> str: ...

    def claim(self, key: str, ttl: int) -> bool:
        """Take `key` unless another holder has it (for at most `ttl` seconds): a caller
        enqueues a coalescing job only when it takes the key, and the job gives it back with
        `release` before it starts its work, so nothing it should see is missed."""

    def release(self, key: str) -> None: ...

    def status(self, job_id: str) -> str | None:
        """queued, started, deferred, scheduled, finished, failed; None if unknown."""

    def started_at(self, job_id: str) -> datetime | None: ...

    def failed(self) -> list[FailedJob]: ...

    def retry(self, job_id: str) -> bool: ...

    def drain(self) -> bool:
        """Wait until every job enqueued so far by this process has run, when they run in
        this process; True if there was such a wait. Jobs run by workers elsewhere are not
        waited for (False)."""

    def clean_abandoned(self) -> None:
        """Jobs of workers that died (SIGKILL, lost machine) go to retry or to failed."""
