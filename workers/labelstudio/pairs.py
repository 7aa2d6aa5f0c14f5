"""Pairwise preference tasks: the assistant's answer against the user's own edit of it (a
`tweak` event's text), for items on their way to annotators. Run by the push job, under the same
per-project lock and with the same exactly-once steps (claims.py).

A tweak's text arrives raw with the event, so it is PII-screened here, with the same screener as
curation, before it leaves Winnow; if the policy would reject it, or the conversation has no
assistant answer, the item gets no pair (`ls_pair_task_id` = 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select, update

from app import runtime
from app.labelstudio import translate
from app.models import Item
from app.models.base import utcnow
from app.models.item import ACCEPTED_STATES
from app.services.items import messages
from app.services.reactions import generation_refs, latest_tweaks
from workers.curation.runtime import models
from workers.labelstudio.claims import PAIRS, record, resolve_unsure
from workers.labelstudio.tasks import ITEM_KEY

NO_PAIR = 0


def tweaks_of(session: Any, project_id: int, refs: dict[int, set[str]]) -> dict[int, str]:
    """The latest tweak text on each item's generations."""
    owners: dict[str, list[int]] = {}
    for item_id, item_refs in refs.items():
        for ref in item_refs:
            owners.setdefault(ref, []).append(item_id)
    dialect = session.get_bind().dialect.name
    return latest_tweaks(session, dialect, project_id, owners, list(owners))


def pair_task(
    item_id: int, redacted: Sequence[dict[str, Any]], tweaked: str
) -> dict[str, Any] | None:
    turns = list(redacted)
    last = max((i for i, t in enumerate(turns) if t.get("role") == "assistant"), default=None)
    if last is None:
        return None
    return {
        "data": {
            ITEM_KEY: item_id,
            "messages": messages(turns[:last]),
            "original": str(turns[last]["text"]),
            "tweaked": tweaked,
        }
    }


def push_pairs(
    ls: Any,
    ls_project: int,
    project_id: int,
    batch_size: int,
    keepalive: Callable[[], None] = lambda: None,
) -> tuple[int, int]:
    """(pair tasks created, recovered)."""
    rt = runtime.current()
    recovered = resolve_unsure(ls, ls_project, project_id, PAIRS)
    with rt.db.session() as session:
        rows = session.execute(
            select(Item.id, Item.generation_ref).where(
                Item.project_id == project_id,
                Item.state.in_(ACCEPTED_STATES),
                Item.ls_pair_task_id.is_(None),
                Item.pair_push_started_at.is_(None),
            )
        ).all()
        refs = generation_refs(session, {i: r for i, r in rows})
        tweaks = tweaks_of(session, project_id, refs)
    if not tweaks:
        return 0, recovered
    screener = models().screener
    created = 0
    todo = sorted(tweaks)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        with rt.db.session() as session:
            redacted: dict[int, Any] = dict(
                session.execute(select(Item.id, Item.redacted).where(Item.id.in_(chunk))).all()
            )
        tasks: dict[int, dict[str, Any]] = {}
        none: list[int] = []
        screened = screener.screen_texts({i: tweaks[i] for i in chunk})
        for item_id in chunk:
            task = None
            if item_id in screened:
                task = pair_task(item_id, redacted.get(item_id) or [], screened[item_id])
            if task is None:
                none.append(item_id)
            else:
                tasks[item_id] = task
        with rt.db.session() as session:
            if none:
                session.execute(
                    update(Item).where(Item.id.in_(none)).values(ls_pair_task_id=NO_PAIR)
                )
            if tasks:
                session.execute(
                    update(Item)
                    .where(Item.id.in_(list(tasks)), Item.ls_pair_task_id.is_(None))
                    .values(pair_push_started_at=utcnow())
                )
        if not tasks:
            continue
        try:
            response = ls.projects.import_tasks(
                id=ls_project, request=list(tasks.values()), return_task_ids=True
            )
        except Exception as exc:
            raise translate(exc) from exc
        task_ids = list(getattr(response, "task_ids", None) or [])
        if len(task_ids) == len(tasks):
            record(PAIRS, dict(zip(tasks, task_ids, strict=True)))
        else:
            resolve_unsure(ls, ls_project, project_id, PAIRS)
        created += len(tasks)
        keepalive()
    return created, recovered
