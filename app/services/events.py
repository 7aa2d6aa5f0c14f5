"""Feedback events: store a batch idempotently, list with filters and a cursor."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.orm import Session

from app.feedback import EVENT_TYPES, SignalMap
from app.models import Event
from app.models.base import utcnow
from app.payloads.common import Screening
from app.payloads.events import EventIn, EventOut
from app.services.errors import Invalid
from app.services.ingest import Outcome, body_hash, store_rows
from app.services.screening import PENDING, Sealing

EVENTS = cast(Table, Event.__table__)


def event_row(session: Session, project_id: int, event: EventIn, received_at: datetime,
              sealing: Sealing) -> dict[str, Any]:
    fields = event.__dict__  # the type-specific fields, without pydantic's slow getattr misses
    free = sealing.fields(session, project_id, fields.get("text"), event.metadata)
    return {
        "project_id": project_id,
        "external_id": event.id,
        "generation_ref": event.generation_id,
        "type": event.type,
        "rating": fields.get("rating"),
        "rank": fields.get("rank"),
        "text": free["text"],
        "reason": fields.get("reason"),
        "user_id": event.user_id,
        "occurred_at": event.timestamp or received_at,
        "received_at": received_at,
        "metadata": free["metadata"],  # the column behind the ORM attribute `meta`
        "sealed": free["sealed"],
        "screening": free["screening"],
        "body_hash": body_hash(event),
    }


def store_events(session: Session, project_id: int, events: Sequence[EventIn], *,
                 sealing: Sealing) -> list[Outcome]:
    now = utcnow()
    rows = [event_row(session, project_id, e, now, sealing) for e in events]
    return store_rows(session, EVENTS, project_id, rows)


def get_event(session: Session, project_id: int, external_id: str) -> Event | None:
    return session.scalar(
        select(Event).where(Event.project_id == project_id, Event.external_id == external_id)
    )


def to_out(event: Event, signals: SignalMap) -> EventOut:
    return EventOut(
        id=event.external_id,
        type=event.type,
        kind=EVENT_TYPES[event.type].kind,
        signal=signals.signal(event.type, event.rating),
        generation_id=event.generation_ref,
        user_id=event.user_id,
        rating=event.rating,
        rank=event.rank,
        text=None if event.screening == PENDING else event.text,  # never unscreened
        reason=event.reason,
        timestamp=event.occurred_at,
        received_at=event.received_at,
        metadata=None if event.screening == PENDING else event.meta,
        screening=cast(Screening | None, event.screening),
    )


@dataclass(frozen=True)
class EventFilter:
    generation_id: str | None = None
    types: tuple[str, ...] = ()
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


MAX_ROW_ID = 2**63 - 1


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"e:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, value = raw.partition(":")
        # ASCII digits only (str.isdigit takes "²"), and an id a BIGINT column can hold.
        if tag != "e" or not (value.isascii() and value.isdigit()) or int(value) > MAX_ROW_ID:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not one this API returned") from None


def _filtered(project_id: int, f: EventFilter) -> Select[Event]:
    query = select(Event).where(Event.project_id == project_id)
    if f.generation_id is not None:
        query = query.where(Event.generation_ref == f.generation_id)
    if f.types:
        query = query.where(Event.type.in_(f.types))
    if f.user_id is not None:
        query = query.where(Event.user_id == f.user_id)
    if f.since is not None:
        query = query.where(Event.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(Event.occurred_at < f.until)
    return query


def list_events(
    session: Session, project_id: int, f: EventFilter, cursor: str | None, limit: int
) -> tuple[list[Event], str | None]:
    """A page in order of receipt; the cursor is the last row's id, so pages never overlap."""
    query = _filtered(project_id, f)
    if cursor:
        query = query.where(Event.id > decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(Event.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].id) if more and rows else None)
