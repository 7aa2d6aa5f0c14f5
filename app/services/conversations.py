"""Intake of shared conversations: each becomes a curation item in `received`, its raw text
sealed (Fernet), and a curation job enqueued once the transaction commits.

Enqueueing never fails intake: if the queue is unreachable (Redis down) the items stay in
`received` and the reconciler enqueues them later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, select
from sqlalchemy.orm import Session

from app.jobs import CURATE, JobQueue, new_job_id
from app.models import Item
from app.models.base import utcnow
from app.payloads.conversations import ConversationIn, Message
from app.payloads.events import EventIn
from app.services.crypto import Box, seal_turns
from app.services.events import store_events
from app.services.ingest import Outcome, body_hash, store_rows
from app.services.screening import Sealing

log = logging.getLogger("winnow.intake")
ITEMS = cast(Table, Item.__table__)
PENDING_KEY = "winnow.enqueue_after_commit"


@dataclass(frozen=True)
class Share:
    """What intake needs from a conversation, whichever way it came."""

    id: str
    messages: Sequence[Message]
    generation_id: str | None
    conversation_id: str | None
    user_id: str | None
    occurred_at: datetime | None
    metadata: dict[str, Any] | None
    body_hash: str


def item_row(project_id: int, share: Share, source: str, received_at: datetime,
             box: Box, job_id: str) -> dict[str, Any]:
    turns = [(m.role, m.content) for m in share.messages]
    return {
        "project_id": project_id,
        "external_id": share.id,
        "source": source,
        "generation_ref": share.generation_id,
        "conversation_ref": share.conversation_id,
        "user_id": share.user_id,
        "state": "received",
        "raw_sealed": seal_turns(box, turns, share.metadata).decode(),
        "turns": len(turns),
        "job_id": job_id,
        "attempts": 0,
        "occurred_at": share.occurred_at or received_at,
        "received_at": received_at,
        "metadata": None,  # sealed with the turns until screened
        "body_hash": share.body_hash,
    }


def from_conversation(conv: ConversationIn) -> Share:
    return Share(conv.id, conv.messages, conv.generation_id, conv.conversation_id, conv.user_id,
                 conv.timestamp, conv.metadata, body_hash(conv))


def store_shares(session: Session, project_id: int, shares: Sequence[Share], *, source: str,
                 box: Box, queue: JobQueue) -> list[Outcome]:
    """Store new items; enqueue one curation job for those created, after the commit."""
    if not shares:
        return []
    now = utcnow()
    job_id = new_job_id("curate")
    rows = [item_row(project_id, s, source, now, box, job_id) for s in shares]
    outcomes = store_rows(session, ITEMS, project_id, rows)
    created = [s.id for s, o in zip(shares, outcomes, strict=True) if o == "created"]
    if created:
        ids = list(session.scalars(select(Item.id).where(
            Item.project_id == project_id, Item.external_id.in_(created)).order_by(Item.id)))
        enqueue_after_commit(session, queue, job_id, ids)
    return outcomes


def store_conversations(session: Session, project_id: int, convs: Sequence[ConversationIn],
                        *, box: Box, queue: JobQueue, source: str = "api"
                        ) -> list[Outcome]:
    return store_shares(session, project_id, [from_conversation(c) for c in convs],
                        source=source, box=box, queue=queue)


def store_events_with_shares(session: Session, project_id: int, events: Sequence[EventIn], *,
                             box: Box, queue: JobQueue, sealing: Sealing
                             ) -> list[Outcome]:
    """Events, plus an item for every share event that carries its conversation.

    The item is stored first: if its id is taken by a different conversation the event is a
    `conflict` and neither is stored, so nothing half-arrives.
    """
    shares = []
    for e in events:
        conversation = getattr(e, "conversation", None)
        if conversation is not None:
            shares.append(Share(e.id, conversation.messages, e.generation_id, None, e.user_id,
                                e.timestamp, e.metadata, body_hash(e)))
    if not shares:
        return store_events(session, project_id, events, sealing=sealing)
    item_outcomes = dict(zip((s.id for s in shares),
                             store_shares(session, project_id, shares, source="share", box=box,
                                          queue=queue), strict=True))
    keep = [e for e in events if item_outcomes.get(e.id) != "conflict"]
    stored = iter(store_events(session, project_id, keep, sealing=sealing) if keep else [])
    return ["conflict" if item_outcomes.get(e.id) == "conflict" else next(stored)
            for e in events]


def enqueue_after_commit(session: Session, queue: JobQueue, job_id: str,
                         item_ids: list[int]) -> None:
    pending: list[tuple[JobQueue, str, list[int]]] = session.info.setdefault(PENDING_KEY, [])
    pending.append((queue, job_id, item_ids))


def enqueue_curation(queue: JobQueue, job_id: str, item_ids: list[int]) -> bool:
    try:
        queue.enqueue(CURATE, item_ids, job_id=job_id)
    except Exception as exc:  # Redis down: the reconciler will enqueue them
        log.warning("could not enqueue curation of %d item(s) (%s); the reconciler will retry",
                    len(item_ids), type(exc).__name__)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for queue, job_id, item_ids in session.info.pop(PENDING_KEY, ()):
        enqueue_curation(queue, job_id, item_ids)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
