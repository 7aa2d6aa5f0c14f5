"""Free text and metadata at intake: sealed until a worker has screened them.

A comment, tweak or flag text and the string values of an event's, a generation's or a shared
conversation's metadata are user text like a conversation's turns: they may hold names, e-mail
addresses, card numbers. So they are kept only as a Fernet token (`sealed`) with `screening`
set to `pending`, and the screening job (`SCREEN` in app/jobs.py) replaces them with their
redacted form through the same PII screener and policy as curation. Readers never see the raw
form: while pending, `text` and `metadata` read as null and `screening` says why.

`screening` values: NULL (nothing to screen), pending, redacted, withheld (the policy rejects
something found: the offending text was dropped, the rest kept) or failed (not screened within
the retention limit: the sealed text was purged).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.fernet import InvalidToken
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.jobs import SCREEN, JobQueue, new_job_id
from app.services.crypto import Box, KeyMissing

log = logging.getLogger("winnow.intake")

PENDING, REDACTED, WITHHELD, FAILED = "pending", "redacted", "withheld", "failed"
STATES = (PENDING, REDACTED, WITHHELD, FAILED)
# Integers this long may be a card, phone or social security number written as a number.
SCREENED_DIGITS = 9
_PENDING_KEY = "winnow.screen_after_commit"
CLAIM_SECONDS = 60


def screenable(value: Any) -> bool:
    """Whether a metadata value holds anything the PII screener should see: a string (key or
    value, at any depth) or a long integer."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return len(str(abs(value))) >= SCREENED_DIGITS
    if isinstance(value, dict):
        return any(screenable(k) or screenable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(screenable(v) for v in value)
    return False


@dataclass
class Sealing:
    """What intake needs to seal free text: the cipher (resolved on first use, so plain events
    never need a key) and the queue the screening job goes to after the commit."""

    box: Callable[[], Box]
    queue: JobQueue
    _box: Box | None = field(default=None, init=False, repr=False)

    def fields(self, session: Session, project_id: int, text: str | None,
               metadata: dict[str, Any] | None) -> dict[str, Any]:
        """The row's text, metadata, sealed and screening columns."""
        if not (text and text.strip()) and not screenable(metadata):
            return {"text": text, "metadata": metadata, "sealed": None, "screening": None}
        if self._box is None:  # resolved once, not once per row of a batch
            self._box = self.box()
        token = self._box.encrypt(orjson.dumps({"text": text, "metadata": metadata}))
        screen_after_commit(session, self.queue, project_id)
        return {"text": None, "metadata": None, "sealed": token.decode(), "screening": PENDING}


def open_sealed(box: Box, token: str) -> tuple[str | None, dict[str, Any] | None]:
    try:
        data = orjson.loads(box.decrypt(token.encode()))
    except InvalidToken:
        raise KeyMissing("the sealed text cannot be decrypted with the configured keys") from None
    return data.get("text"), data.get("metadata")


def screen_after_commit(session: Session, queue: JobQueue, project_id: int) -> None:
    """Ask for one screening job per project once this transaction commits."""
    pending: dict[int, JobQueue] = session.info.setdefault(_PENDING_KEY, {})
    pending[project_id] = queue


def claim_key(project_id: int) -> str:
    return f"screen:{project_id}"


def enqueue_screening(queue: JobQueue, project_id: int, *, coalesce: bool = True) -> bool:
    """One screening job per project waiting at a time: while one is queued and not started,
    intake enqueues none (a Redis SET instead of an enqueue); the job gives the claim back as it
    starts. A claim whose job was lost expires, and the reconciler enqueues without one."""
    try:
        if coalesce and not queue.claim(claim_key(project_id), CLAIM_SECONDS):
            return True
        queue.enqueue(SCREEN, project_id, job_id=new_job_id("screen"))
    except Exception as exc:  # Redis down: the reconciler enqueues it
        log.warning("could not enqueue screening for project %d (%s); the reconciler will",
                    project_id, type(exc).__name__)
        return False
    return True


# With Redis, asking for a screening job costs a round trip after every commit that sealed
# something; a process asks at most once per CLAIM_EVERY seconds per project instead.
CLAIM_EVERY = 0.05


class _Coalescer:
    """The first commit after a quiet spell asks at once; commits within CLAIM_EVERY of an ask
    share one ask on a timer thread when the spell ends. Every commit is followed by an ask
    that starts after it (a commit that finds an ask scheduled happened before that ask takes
    itself off the schedule), so the job that ask finds or enqueues sees the commit's rows:
    the claim protocol's guarantee, for one Redis call per burst instead of one per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, float] = {}
        self._scheduled: set[int] = set()

    def ask(self, queue: JobQueue, project_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            wait = self._last.get(project_id, -CLAIM_EVERY) + CLAIM_EVERY - now
            if wait <= 0:
                self._last[project_id] = now
            elif project_id in self._scheduled:
                return
            else:
                self._scheduled.add(project_id)
        if wait <= 0:
            enqueue_screening(queue, project_id)
            return
        timer = threading.Timer(wait, self._deferred, (queue, project_id))
        timer.daemon = True
        timer.start()

    def _deferred(self, queue: JobQueue, project_id: int) -> None:
        with self._lock:
            self._scheduled.discard(project_id)
            self._last[project_id] = time.monotonic()
        enqueue_screening(queue, project_id)

    def reset(self) -> None:
        """In a forked child: its parent's timers do not run there."""
        self._lock = threading.Lock()
        self._last, self._scheduled = {}, set()


_coalescer = _Coalescer()
os.register_at_fork(after_in_child=_coalescer.reset)


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for project_id, queue in session.info.pop(_PENDING_KEY, {}).items():
        if queue.durable:
            _coalescer.ask(queue, project_id)
        else:  # the embedded queue's claim is a set in memory: as cheap as coalescing
            enqueue_screening(queue, project_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
