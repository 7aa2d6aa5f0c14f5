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

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update

from app import runtime
from app.db import chunks
from app.feedback import SignalMap
from app.labelstudio import Refused, connect, translate
from app.models import Item, LabelStudioProject, Project
from app.models.base import utcnow
from app.services.reactions import Feedback, feedback_of
from workers.labelstudio.tasks import ITEM_KEY, order_key, review_task

log = logging.getLogger("winnow.labelstudio")
LOOKUP_PAGE = 500
LOCK_SECONDS = 300
WAITING = ("accepted", "annotation_pending")  # accepted items that may still lack a task
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
        from app.jobs import redis_connection

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
            target = session.scalar(
                select(LabelStudioProject).where(
                    LabelStudioProject.project_id == project_id,
                    LabelStudioProject.kind == "review",
                )
            )
            project = session.get(Project, project_id)
            if target is None or project is None:
                raise NotSetUp("no Label Studio project: run `winnow labelstudio setup`")
            ls_project = target.ls_project_id
            signals = SignalMap.from_overrides(project.signal_map)
        recovered = resolve_unsure(ls, ls_project, project_id)
        order, known = _pending_in_order(project_id, settings.annotation_order, signals)
        created = 0
        for start in range(0, len(order), settings.push_batch_size):
            batch = order[start : start + settings.push_batch_size]
            created += _push_batch(ls, ls_project, project_id, batch, signals, known)
            keepalive()
        waiting = _waiting(project_id)
        pairs = pairs_recovered = 0
        with rt.db.session() as session:
            pairwise = session.scalar(
                select(LabelStudioProject.ls_project_id).where(
                    LabelStudioProject.project_id == project_id,
                    LabelStudioProject.kind == "pairwise",
                )
            )
        if pairwise is not None:
            from workers.labelstudio.pairs import push_pairs

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
        _record(dict(zip(ids, task_ids, strict=True)))
    else:  # not what we asked for: trust only what Label Studio lists
        resolve_unsure(ls, ls_project, project_id)
    return len(ids)


def _note_error(ids: Sequence[int], message: str) -> None:
    with runtime.current().db.session() as session:
        session.execute(update(Item).where(Item.id.in_(ids)).values(push_error=message[:200]))


@dataclass(frozen=True)
class Lane:
    """Where a kind of task is recorded on the item: its task id and its claim time."""

    task: str
    started: str
    review: bool  # the review lane also moves the item to in_annotation


REVIEW = Lane("ls_task_id", "push_started_at", review=True)
PAIRS = Lane("ls_pair_task_id", "pair_push_started_at", review=False)


def record(lane: Lane, tasks: dict[int, int]) -> None:
    if not tasks:
        return
    values: dict[str, Any] = {lane.task: bindparam("task")}
    table = Item.__table__
    if lane.review:
        # A person may have rejected the item while its task was being created: the task is
        # recorded (erasure and sync need it), the decision stands.
        waiting = or_(*(table.c.state == s for s in WAITING))  # no IN: executemany
        state = case((waiting, "in_annotation"), else_=table.c.state)
        values.update(state=state, pushed_at=utcnow(), push_error=None)
    with runtime.current().db.session() as session:
        session.connection().execute(
            update(table)  # type: ignore[arg-type]
            .where(table.c.id == bindparam("item"))
            .values(**values),
            [{"item": i, "task": t} for i, t in tasks.items()],
        )


def _record(tasks: dict[int, int]) -> None:
    record(REVIEW, tasks)


def resolve_unsure(ls: Any, ls_project: int, project_id: int, lane: Lane = REVIEW) -> int:
    """Items an earlier push claimed but never recorded: record the tasks Label Studio has for
    them, and release the rest to be pushed again."""
    task, started = getattr(Item, lane.task), getattr(Item, lane.started)
    with runtime.current().db.session() as session:
        unsure = list(
            session.scalars(
                select(Item.id).where(
                    Item.project_id == project_id, task.is_(None), started.is_not(None)
                )
            )
        )
    if not unsure:
        return 0
    try:
        found = find_tasks(ls, ls_project, unsure)
    except Exception as exc:
        raise translate(exc) from exc
    if lane.review:
        _record(found)  # (through the module name: a test stands in for a crash here)
    else:
        record(lane, found)
    missing = [i for i in unsure if i not in found]
    with runtime.current().db.session() as session:
        for chunk in chunks(missing, 1000):
            session.execute(
                update(Item)
                .where(Item.id.in_(chunk), task.is_(None))
                .values(**{lane.started: None})
            )
    return len(found)


def find_tasks(ls: Any, ls_project: int, item_ids: Sequence[int]) -> dict[int, int]:
    """item id -> task id for the tasks of `ls_project` that carry these item ids (the lowest
    task id wins should there ever be two)."""
    wanted = set(item_ids)
    found: dict[int, int] = {}
    ordered = sorted(wanted)
    for chunk in chunks(ordered, LOOKUP_PAGE):
        query = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": f"filter:tasks:data.{ITEM_KEY}",
                        "operator": "in",
                        "type": "Number",
                        "value": {"min": chunk[0], "max": chunk[-1]},
                    }
                ],
            }
        }
        pager = ls.tasks.list(
            project=ls_project,
            query=json.dumps(query),
            fields="task_only",
            include="id,data",
            page_size=LOOKUP_PAGE,
        )
        for task in pager:
            data = task.data or {}
            item = data.get(ITEM_KEY)
            known = found.get(item) if isinstance(item, int) else None
            if isinstance(item, int) and item in wanted and (known is None or task.id < known):
                found[item] = int(task.id)
    return found


def pending_projects() -> list[int]:
    """Projects with a review project in Label Studio and accepted items without a task."""
    with runtime.current().db.session() as session:
        return list(
            session.scalars(
                select(LabelStudioProject.project_id)
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
