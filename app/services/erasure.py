"""Erasing a user (right to erasure): everything Winnow holds about one user id of a project.

At once, in the request: their Label Studio tasks (review and pairwise, with the annotations on
them) are deleted first, so a Label Studio outage fails the request with nothing erased and it
can simply be retried; then their items (with annotations and sealed raw text), their events,
and their generations (one that another user's event or item refers to is kept, its user id
cleared), and their items' entries in the dedupe index.
Then a job (`PURGE` in app/jobs.py) purges their examples from every stored dataset
version. The erasure row never holds the user id; it keeps the erased items'
ids only until that purge is done.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.jobs import PURGE, JobQueue
from app.labelstudio import NotConfigured, Refused, connect, translate
from app.labelstudio import Unavailable as LabelStudioDown
from app.models import Erasure, Event, Generation, Item
from app.models.base import utcnow
from app.models.item import ACCEPTED_STATES
from app.services import rollups
from app.services.errors import Unavailable

log = logging.getLogger("winnow.erasure")


def find(session: Session, project_id: int, user_id: str) -> dict[str, Any]:
    """What belongs to the user: their items (and those items' Label Studio tasks) and the
    generations whose `user_id` is theirs. Their events are found by `user_id` alone."""
    items = session.execute(
        select(Item.id, Item.external_id, Item.generation_ref, Item.ls_task_id,
               Item.ls_pair_task_id)
        .where(Item.project_id == project_id, Item.user_id == user_id)
    ).all()
    generations = set(session.scalars(
        select(Generation.external_id).where(Generation.project_id == project_id,
                                             Generation.user_id == user_id)))
    tasks = sorted({t for r in items for t in (r[3], r[4]) if t})
    return {"items": items, "generations": generations, "tasks": tasks}


def _still_referred(session: Session, project_id: int, refs: list[str], user_id: str,
                    erased_items: list[int]) -> set[str]:
    """Those of the user's generations that something else refers to: another user's (or an
    anonymous) event, or an item that is not being erased."""
    kept: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        kept.update(session.scalars(
            select(Event.generation_ref).distinct().where(
                Event.project_id == project_id, Event.generation_ref.in_(chunk),
                or_(Event.user_id.is_(None), Event.user_id != user_id))))
        kept.update(r for r in session.scalars(
            select(Item.generation_ref).distinct().where(
                Item.project_id == project_id, Item.generation_ref.in_(chunk),
                Item.id.not_in(erased_items))) if r)
    return kept


def delete_tasks(ls: Any, tasks: list[int]) -> int:
    """Delete Label Studio tasks; one already gone counts as deleted."""
    from label_studio_sdk.core.api_error import ApiError

    deleted = 0
    for task in tasks:
        try:
            ls.tasks.delete(id=task)
        except ApiError as exc:
            if exc.status_code != 404:
                raise translate(exc) from None
        except Exception as exc:
            raise translate(exc) from None
        deleted += 1
    return deleted


def erase(session: Session, project_id: int, user_id: str, tasks_deleted: int,
          requested_by: str) -> Erasure:
    """Delete what belongs to the user (their Label Studio tasks already deleted) and record
    the erasure; the caller enqueues the purge (dedupe index, dataset versions) after
    committing. Exactly theirs: their events, their items, and their generations unless
    another user's event or item refers to one, which then stays with its user id cleared, so
    other people's feedback keeps its generation and a promoted copy keeps its link."""
    found = find(session, project_id, user_id)  # again: anything that arrived meanwhile too
    rollups.mark_days(session, project_id, rollups.days_of_user(session, project_id, user_id))
    item_ids = [r[0] for r in found["items"]]
    result = session.execute(
        delete(Event).where(Event.project_id == project_id, Event.user_id == user_id))
    events = result.rowcount or 0  # type: ignore[attr-defined]
    promoted = promote_duplicates(session, item_ids)
    for start in range(0, len(item_ids), 500):
        session.execute(delete(Item).where(Item.id.in_(item_ids[start : start + 500])))
    refs = sorted(found["generations"])
    shared = _still_referred(session, project_id, refs, user_id, item_ids)
    owned = [r for r in refs if r not in shared]
    generations = 0
    for start in range(0, len(owned), 500):
        result = session.execute(delete(Generation).where(
            Generation.project_id == project_id, Generation.user_id == user_id,
            Generation.external_id.in_(owned[start : start + 500])))
        generations += result.rowcount or 0  # type: ignore[attr-defined]
    kept = sorted(shared)
    for start in range(0, len(kept), 500):
        session.execute(update(Generation).where(
            Generation.project_id == project_id, Generation.user_id == user_id,
            Generation.external_id.in_(kept[start : start + 500])).values(user_id=None))
    erasure = Erasure(
        project_id=project_id,
        state="pending",
        requested_by=requested_by,
        requested_at=utcnow(),
        examples=sorted(r[1] for r in found["items"]),
        item_ids=sorted(item_ids),
        promoted_ids=promoted or None,
        counts={
            "items": len(item_ids),
            "promoted": len(promoted),
            "events": events,
            "generations": generations,
            "generations_unlinked": len(kept),
            "label_studio_tasks": tasks_deleted,
        },
    )
    session.add(erasure)
    session.flush()
    return erasure


def promote_duplicates(session: Session, erased: list[int]) -> list[int]:
    """Other users' copies of an erased item lose their canonical: the earliest of them takes
    its place (its outcome: accepted, and on to annotation again, or quarantined or rejected as
    the erased one was), the others become its duplicates. Nothing is left pointing nowhere."""
    promoted: list[int] = []
    for start in range(0, len(erased), 500):
        chunk = erased[start : start + 500]
        states = dict(session.execute(select(Item.id, Item.state).where(Item.id.in_(chunk))).all())
        copies: dict[int, list[Item]] = {}
        for copy in session.scalars(
            select(Item).where(Item.duplicate_of_id.in_(chunk), Item.id.not_in(erased))
            .order_by(Item.id)
        ):
            copies.setdefault(copy.duplicate_of_id or 0, []).append(copy)
        for canonical, items in copies.items():
            first, rest = items[0], items[1:]
            state = states[canonical]
            first.state = "accepted" if state in ACCEPTED_STATES else state
            first.duplicate_of_id = None
            first.duplicate_kind = None
            first.similarity = None
            first.reasons = [*(first.reasons or []),
                             "promoted: the item it copied was erased"]
            for other in rest:
                other.duplicate_of_id = first.id
            promoted.append(first.id)
    session.flush()
    return promoted


def erase_user(db: Database, settings: Settings, queue: JobQueue, project_id: int,
               user_id: str, requested_by: str) -> Erasure:
    """The whole request: Label Studio tasks, then rows (one transaction), then the purge job."""
    with db.session() as session:
        tasks = find(session, project_id, user_id)["tasks"]
    deleted = 0
    if tasks:
        try:
            deleted = delete_tasks(connect(settings), tasks)
        except (NotConfigured, LabelStudioDown, Refused) as exc:
            raise Unavailable(f"the user's Label Studio tasks could not be deleted ({exc}); "
                              "nothing was erased, retry") from None
    with db.session() as session:
        erasure = erase(session, project_id, user_id, deleted, requested_by)
    try:
        queue.enqueue(PURGE, erasure.id)
    except Exception as exc:  # the reconciler enqueues it again
        log.warning("could not enqueue erasure %d's purge (%s)", erasure.id, type(exc).__name__)
    return erasure
