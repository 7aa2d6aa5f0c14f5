"""The quarantine queue as people work through it: oldest first, one item at a time.

Quarantined items wait for a person (app.services.decisions applies the decision). The queue's
order is the order of receipt (the item id), so every reviewer sees the same "3 of 57" and the
next item after a decision is the one received after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.feedback import SignalMap
from app.models import Event, Item
from app.payloads.conversations import ItemSummary
from app.payloads.events import EventOut
from app.services.decisions import Action, decide
from app.services.errors import Conflict
from app.services.events import to_out
from app.services.items import get_item, summary

WAITING = "quarantined"
# What the machine set aside on its own: the outcomes a person most often overturns.
MACHINE_REJECTED = ("rejected_prank", "rejected_pii")


@dataclass(frozen=True)
class Place:
    """Where an item stands in the queue: its 1-based position (None when it is not waiting),
    how many wait, and the waiting items before and after it."""

    position: int | None
    waiting: int
    previous: str | None
    next: str | None


def waiting_count(session: Session, project_id: int) -> int:
    """How many items wait for a person."""
    return int(session.scalar(select(func.count()).select_from(Item)
                              .where(Item.project_id == project_id, Item.state == WAITING)) or 0)


def oldest_waiting(session: Session, project_id: int) -> str | None:
    """The external id of the item that has waited longest, or None when the queue is empty."""
    return session.scalar(select(Item.external_id)
                          .where(Item.project_id == project_id, Item.state == WAITING)
                          .order_by(Item.id).limit(1))


def _neighbour(session: Session, project_id: int, item_id: int, after: bool) -> str | None:
    query = select(Item.external_id).where(Item.project_id == project_id, Item.state == WAITING)
    if after:
        query = query.where(Item.id > item_id).order_by(Item.id)
    else:
        query = query.where(Item.id < item_id).order_by(Item.id.desc())
    return session.scalar(query.limit(1))


def place(session: Session, project_id: int, item: Item) -> Place:
    """The item's place in the queue. For an item that is not waiting, `next` is the oldest
    waiting item (the way back into the queue)."""
    waiting = waiting_count(session, project_id)
    if item.state != WAITING:
        return Place(None, waiting, None, oldest_waiting(session, project_id))
    before = int(session.scalar(select(func.count()).select_from(Item).where(
        Item.project_id == project_id, Item.state == WAITING, Item.id < item.id)) or 0)
    return Place(before + 1, waiting, _neighbour(session, project_id, item.id, after=False),
                 _neighbour(session, project_id, item.id, after=True))


def next_waiting(session: Session, project_id: int, item_id: int) -> str | None:
    """The item to review after this one: the next waiting after it, else (items skipped
    earlier) the oldest still waiting, else None: the queue is clear."""
    return (_neighbour(session, project_id, item_id, after=True)
            or oldest_waiting(session, project_id))


def decide_seen(session: Session, project_id: int, external_id: str, action: Action,
                seen: str | None, *, actor: str, note: str | None) -> Item:
    """`decide`, but only if the item is still in the state the person saw when choosing: a
    quarantined item released by someone else meanwhile is not then rejected by a reviewer
    who never saw it accepted. Otherwise a Conflict, and nothing changes."""
    item = get_item(session, project_id, external_id)
    if seen is not None and item.state != seen:
        by = f" by {item.reviewed_by}" if item.reviewed_by else ""
        raise Conflict(f"item {external_id} was decided{by} meanwhile: it is now {item.state}")
    # decide() reads the same (identity-mapped) row and updates it only while still in that
    # state, so the check above and the update agree.
    return decide(session, project_id, external_id, action, actor=actor, note=note)


def machine_decided(session: Session, project_id: int, limit: int = 20) -> list[ItemSummary]:
    """The latest items the machine rejected (prank or PII) that no person has decided on,
    newest first: where a reviewer looks for a decision to overturn."""
    rows = list(session.scalars(
        select(Item).where(Item.project_id == project_id, Item.state.in_(MACHINE_REJECTED),
                           Item.reviewed_at.is_(None))
        .order_by(Item.id.desc()).limit(limit)))
    return [summary(r, 1, None) for r in rows]


def feedback_events(session: Session, item: Item, signals: SignalMap,
                    limit: int = 20) -> list[EventOut]:
    """The latest feedback events on the generations of the item and of its duplicates (the
    events its feedback summary counts), newest first; text is redacted, or null while
    unscreened."""
    refs = _generation_refs(session, item)
    if not refs:
        return []
    rows = session.scalars(select(Event).where(Event.project_id == item.project_id,
                                               Event.generation_ref.in_(refs))
                           .order_by(Event.id.desc()).limit(limit))
    return [to_out(e, signals) for e in rows]


def _generation_refs(session: Session, item: Item) -> Sequence[str]:
    dups = session.scalars(select(Item.generation_ref).where(Item.duplicate_of_id == item.id))
    return sorted({r for r in [item.generation_ref, *dups] if r})
