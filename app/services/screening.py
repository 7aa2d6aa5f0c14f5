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


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for project_id, queue in session.info.pop(_PENDING_KEY, {}).items():
        enqueue_screening(queue, project_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
