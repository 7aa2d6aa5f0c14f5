"""Claims: how a kind of Label Studio task is created for an item exactly once, shared by the
review push (workers/labelstudio/push.py) and the pairwise push (pairs.py).

Before an import, the items it carries are claimed (a claim time set and committed); after it,
their task ids are recorded. An item claimed but never recorded is unsure: the next push looks
it up in Label Studio by the item id in the task data, records what it finds and releases the
rest to be imported again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update

from app import runtime
from app.db import chunks
from app.labelstudio import translate
from app.models import Item
from app.models.base import utcnow
from workers.labelstudio.tasks import ITEM_KEY

LOOKUP_PAGE = 500
WAITING = ("accepted", "annotation_pending")  # accepted items that may still lack a task


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
