"""Curation items: list and read (people's decisions on them: app.services.decisions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.feedback import SignalMap
from app.models import Item
from app.payloads.conversations import (
    DuplicateOut,
    FindingOut,
    ItemOut,
    ItemSummary,
    RedactedMessage,
    SignalOut,
)
from app.services.decisions import history
from app.services.errors import NotFound
from app.services.events import decode_cursor, encode_cursor
from app.services.generations import feedback_summary
from app.services.screening import PENDING


def get_item(session: Session, project_id: int, external_id: str) -> Item:
    item = session.scalar(select(Item).where(Item.project_id == project_id,
                                             Item.external_id == external_id))
    if item is None:
        raise NotFound("no item with that id in this project")
    return item


def list_items(session: Session, project_id: int, states: tuple[str, ...], cursor: str | None,
               limit: int) -> tuple[list[ItemSummary], str | None]:
    query = select(Item).where(Item.project_id == project_id)
    if states:
        query = query.where(Item.state.in_(states))
    if cursor:
        query = query.where(Item.id > decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(Item.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    votes = _votes(session, [r.id for r in rows])
    canon = _external_ids(session, {r.duplicate_of_id for r in rows if r.duplicate_of_id})
    page = [summary(r, votes.get(r.id, 0) + 1, canon.get(r.duplicate_of_id or 0)) for r in rows]
    return page, (encode_cursor(rows[-1].id) if more and rows else None)


def _votes(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    query = (select(Item.duplicate_of_id, func.count()).where(Item.duplicate_of_id.in_(ids))
             .group_by(Item.duplicate_of_id))
    return {int(k): int(n) for k, n in session.execute(query) if k is not None}


def _external_ids(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: e for i, e in session.execute(select(Item.id, Item.external_id)
                                             .where(Item.id.in_(ids)))}


def summary(item: Item, votes: int, duplicate_of: str | None) -> ItemSummary:
    return ItemSummary(
        id=item.external_id, state=item.state,  # type: ignore[arg-type]
        source=item.source, user_id=item.user_id, generation_id=item.generation_ref,
        conversation_id=item.conversation_ref, reasons=list(item.reasons or []), votes=votes,
        duplicate_of=duplicate_of, received_at=item.received_at, screened_at=item.screened_at,
    )


def item_detail(session: Session, item: Item, signals: SignalMap) -> ItemOut:
    dups = list(session.scalars(select(Item).where(Item.duplicate_of_id == item.id)
                                .order_by(Item.id)))
    canon = _external_ids(session, {item.duplicate_of_id} if item.duplicate_of_id else set())
    refs = [r for r in [item.generation_ref, *(d.generation_ref for d in dups)] if r]
    base = summary(item, len(dups) + 1, canon.get(item.duplicate_of_id or 0))
    return ItemOut(
        **base.model_dump(),
        messages=[RedactedMessage(role=t["role"], content=t["text"]) for t in item.redacted]
        if item.redacted is not None else None,
        findings=[FindingOut(entity_type=f["type"], message=f["turn"], start=f["start"],
                             end=f["end"], placeholder=f["placeholder"], score=f["score"])
                  for f in item.findings or []],
        signals=[SignalOut(**s) for s in item.signals or []],
        duplicates=[DuplicateOut(id=d.external_id, kind=d.duplicate_kind or "exact",
                                 similarity=d.similarity, user_id=d.user_id) for d in dups],
        feedback=feedback_summary(session, item.project_id, refs, signals) if refs else None,
        similarity=item.similarity,
        reviewed_at=item.reviewed_at,
        reviewed_by=item.reviewed_by,
        reviews=history(session, [item.id]).get(item.id, []),
        metadata=None if item.screening == PENDING else item.meta,  # never unscreened
    )


def messages(redacted: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Redacted turns as chat messages (role, content), the shape every export and task uses."""
    return [{"role": str(t["role"]), "content": str(t["text"])} for t in redacted]


def failed_waiting(session: Session) -> list[tuple[str, str | None, int, str | None]]:
    """Items still in `received` after a failed attempt: (external id, job id, attempts,
    the last error's one line), for `winnow jobs failed`."""
    rows = session.execute(
        select(Item.external_id, Item.job_id, Item.attempts, Item.last_error).where(
            Item.state == "received", Item.last_error.is_not(None)
        )
    )
    return [(ext, job_id, attempts, error) for ext, job_id, attempts, error in rows]


def rearm_failed(session: Session, job_ids: Sequence[str] | None = None) -> list[int]:
    """Give items waiting after a failure (of these jobs, or of any) another full round of
    attempts; returns their ids."""
    waiting = select(Item.id).where(Item.state == "received", Item.last_error.is_not(None))
    if job_ids is not None:
        waiting = waiting.where(Item.job_id.in_(job_ids))
    stuck = list(session.scalars(waiting))
    session.execute(update(Item).where(Item.id.in_(stuck)).values(attempts=0))
    return stuck


def assign_job(session: Session, item_ids: Sequence[int], job_id: str) -> None:
    """Record the job that will curate these items (the reconciler reads it)."""
    session.execute(update(Item).where(Item.id.in_(item_ids)).values(job_id=job_id))
