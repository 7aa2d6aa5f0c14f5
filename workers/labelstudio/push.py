"""Push job: accepted items become Label Studio review tasks, exactly once.

Per Winnow project, one push runs at a time (a Redis lock, or a process lock when embedded).
Before each import, the items it will carry are marked `annotation_pending` with
`push_started_at` and committed; after it, their task ids are recorded and they move to
`in_annotation`. If a push dies or Label Studio fails between the two, those items keep
`push_started_at` and no task id: the next push first looks them up in Label Studio (by the item
id in the task data) and records what it finds, and only then imports the rest again. So a
retried or concurrent push never creates a second task for an item.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update

from app import runtime
from app.db import chunks
from app.feedback import SignalMap
from app.jobs import redis_connection
from app.labelstudio import Refused, connect, translate
from app.models import Item, LabelStudioProject, Project
from app.models.base import utcnow
from app.services.reactions import Feedback, feedback_of
from workers.labelstudio import claims
from workers.labelstudio.claims import REVIEW, WAITING, resolve_unsure
from workers.labelstudio.pairs import push_pairs
from workers.labelstudio.setup import projects_of, roll_over
from workers.labelstudio.tasks import order_key, review_task

log = logging.getLogger("winnow.labelstudio")
LOCK_SECONDS = 300
_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()


class NotSetUp(Refused):
    """The project has no Label Studio project yet: run `winnow labelstudio setup`."""


@dataclass(frozen=True)
class PushResult:
    created: int  # tasks imported by this push
    recovered: int  # tasks found in Label Studio for items an earlier push left unsure
    waiting: int  # accepted items still without a task
    pairs: int = 0  # pairwise preference tasks imported
    pairs_recovered: int = 0


@contextmanager
def project_lock(project_id: int) -> Iterator[Callable[[], None]]:
    """One push per project at a time. Yields `keepalive`, to call between batches: the Redis
    lock expires after LOCK_SECONDS if its holder died, and must not while it is working (a
    second push would take the first one's in-flight claims for abandoned ones)."""
    settings = runtime.current().settings
    if settings.redis_url:
        lock = redis_connection(settings.redis_url).lock(
            f"winnow:labelstudio:push:{project_id}", timeout=LOCK_SECONDS, blocking_timeout=120
        )
        if not lock.acquire():
            raise TimeoutError("another push of this project is still running")
        try:
            yield lock.reacquire
        finally:
            lock.release()
    else:
        with _local_guard:
            local = _local_locks.setdefault(project_id, threading.Lock())
        with local:
            yield lambda: None


def push_project(project_id: int) -> PushResult:
    rt = runtime.current()
    settings = rt.settings
    ls = connect(settings)
    with project_lock(project_id) as keepalive:
        with rt.db.session() as session:
            rows = projects_of(session, project_id, "review")
            target = rows[-1] if rows else None  # the newest takes new tasks
            project = session.get(Project, project_id)
            if target is None or project is None:
                raise NotSetUp("no Label Studio project: run `winnow labelstudio setup`")
            ls_project = target.ls_project_id
            signals = SignalMap.from_overrides(project.signal_map)
        # Claims are only ever made in the newest project, and it changes only below, after
        # this: an earlier push's unsure items can only be there.
        recovered = resolve_unsure(ls, ls_project, project_id)
        order, known = _pending_in_order(project_id, settings.annotation_order, signals)
        created = 0
        cap = settings.label_studio_tasks_per_project
        room = cap - _task_count(ls, ls_project, order) if order else 0
        start = 0
        while start < len(order):
            if room <= 0:  # full: the next project takes the rest
                full, ls_project = ls_project, _roll_over(project_id, ls)
                log.info("Label Studio project %d holds %d tasks or more: new review tasks go "
                         "to project %d", full, cap, ls_project)
                room = cap
            size = min(settings.push_batch_size, room)
            batch = order[start : start + size]
            start += size
            pushed = _push_batch(ls, ls_project, project_id, batch, signals, known)
            created += pushed
            room -= pushed
            keepalive()
        waiting = _waiting(project_id)
        pairs = pairs_recovered = 0
        with rt.db.session() as session:
            pairwise = session.scalar(
                select(LabelStudioProject.ls_project_id)
                .where(
                    LabelStudioProject.project_id == project_id,
                    LabelStudioProject.kind == "pairwise",
                )
                .order_by(LabelStudioProject.number.desc())
                .limit(1)
            )
        if pairwise is not None:
            pairs, pairs_recovered = push_pairs(
                ls, pairwise, project_id, settings.push_batch_size, keepalive
            )
    if created or recovered or pairs:
        log.info(
            "pushed %d task(s), recovered %d, %d waiting; %d pair task(s)",
            created,
            recovered,
            waiting,
            pairs,
        )
    return PushResult(created, recovered, waiting, pairs, pairs_recovered)


def _task_count(ls: Any, ls_project: int, waiting: Sequence[int]) -> int:
    """The tasks the project holds; if Label Studio cannot say, the waiting items note why."""
    try:
        return int(ls.projects.get(id=ls_project).task_number or 0)
    except Exception as exc:
        error = translate(exc)
        _note_error(waiting, str(error))
        raise error from exc


def _roll_over(project_id: int, ls: Any) -> int:
    rt = runtime.current()
    with rt.db.session() as session:
        project = session.get_one(Project, project_id)
        return roll_over(session, project, rt.settings, ls, "review").ls_project_id


def _waiting(project_id: int) -> int:
    with runtime.current().db.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Item.project_id == project_id,
                    Item.state.in_(WAITING),
                    Item.ls_task_id.is_(None),
                )
            )
            or 0
        )


def _pending_in_order(
    project_id: int, order: str, signals: SignalMap
) -> tuple[list[int], dict[int, Feedback]]:
    """The items to push, in order, and their feedback when the order needed it."""
    with runtime.current().db.session() as session:
        rows = session.execute(
            select(Item.id, Item.generation_ref).where(
                Item.project_id == project_id,
                Item.state.in_(WAITING),
                Item.ls_task_id.is_(None),
                Item.push_started_at.is_(None),
            )
        ).all()
        if order != "negative_first":
            ids = [r[0] for r in rows]
            return sorted(ids, key=lambda i: order_key(order, i, None)), {}
        feedback = feedback_of(session, project_id, {r[0]: r[1] for r in rows})
    ordered = sorted(
        (r[0] for r in rows),
        key=lambda i: order_key(order, i, feedback[i].score(signals)),
    )
    return ordered, feedback


def _push_batch(
    ls: Any,
    ls_project: int,
    project_id: int,
    batch: Sequence[int],
    signals: SignalMap,
    known: dict[int, Feedback],
) -> int:
    rt = runtime.current()
    with rt.db.session() as session:
        rows = session.execute(
            select(Item.id, Item.redacted, Item.generation_ref).where(
                Item.id.in_(batch),
                Item.state.in_(WAITING),
                Item.ls_task_id.is_(None),
                Item.push_started_at.is_(None),
            )
        ).all()
        if not rows:
            return 0
        # Read once per push when the order needed it; otherwise here, a batch at a time.
        missing = {r[0]: r[2] for r in rows if r[0] not in known}
        feedback = {**known, **feedback_of(session, project_id, missing)} if missing else known
        ids = [r[0] for r in rows]
        # Claimed and committed before the import: whatever happens next, the next push knows
        # these may already exist in Label Studio.
        session.execute(
            update(Item)
            .where(Item.id.in_(ids))
            .values(
                state="annotation_pending",
                push_started_at=utcnow(),
                push_attempts=Item.push_attempts + 1,
                push_error=None,
            )
        )
    tasks = [review_task(r[0], r[1] or [], feedback[r[0]], signals) for r in rows]
    try:
        response = ls.projects.import_tasks(id=ls_project, request=tasks, return_task_ids=True)
    except Exception as exc:
        error = translate(exc)
        _note_error(ids, str(error))
        raise error from exc
    task_ids = list(getattr(response, "task_ids", None) or [])
    if len(task_ids) == len(ids):
        claims.record(REVIEW, dict(zip(ids, task_ids, strict=True)))
    else:  # not what we asked for: trust only what Label Studio lists
        resolve_unsure(ls, ls_project, project_id)
    return len(ids)


def _note_error(ids: Sequence[int], message: str) -> None:
    with runtime.current().db.session() as session:
        for chunk in chunks(ids, 1000):
            session.execute(
                update(Item).where(Item.id.in_(chunk)).values(push_error=message[:200])
            )


def pending_projects() -> list[int]:
    """Projects with a review project in Label Studio and accepted items without a task."""
    with runtime.current().db.session() as session:
        return list(
            session.scalars(
                select(LabelStudioProject.project_id)
                .distinct()
                .where(LabelStudioProject.kind == "review")
                .where(
                    select(Item.id)
                    .where(
                        Item.project_id == LabelStudioProject.project_id,
                        or_(Item.state == "accepted", Item.state == "annotation_pending"),
                        Item.ls_task_id.is_(None),
                    )
                    .exists()
                )
            )
        )
