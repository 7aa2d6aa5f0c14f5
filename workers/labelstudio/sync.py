"""Bring annotations back from Label Studio: for the tasks a webhook names (`sync_tasks`) or for
every task of a project (`sync_project`, run periodically and by `winnow labelstudio sync`, which
catches whatever a lost webhook missed). Label Studio is the source of truth: each run stores
what it lists now, so a replay or a repeat changes nothing, and an annotation no longer listed
is marked deleted."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import select

from app import runtime
from app.db import chunks
from app.labelstudio import connect, translate
from app.models import Annotation, Item, LabelStudioProject
from app.models.base import utcnow
from workers.curation.runtime import models
from workers.labelstudio.normalize import Normalized, normalize
from workers.labelstudio.tasks import ITEM_KEY

log = logging.getLogger("winnow.labelstudio")
PAGE = 100
_FIELDS = [f.name for f in fields(Normalized)]


@dataclass(frozen=True)
class SyncResult:
    tasks: int
    stored: int  # annotations inserted or changed
    deleted: int


def sync_project(project_id: int) -> SyncResult:
    rt = runtime.current()
    ls = connect(rt.settings)
    with rt.db.session() as session:
        targets = list(
            session.scalars(
                select(LabelStudioProject).where(LabelStudioProject.project_id == project_id)
            )
        )
        ids = [(t.id, t.ls_project_id) for t in targets]
    total = SyncResult(0, 0, 0)
    for row_id, ls_project in ids:
        try:
            tasks = list(_all_tasks(ls, ls_project))
            users = _users(ls) if _annotated(tasks) else {}
        except Exception as exc:
            raise translate(exc) from exc
        result = store(ls_project, tasks, users)
        with rt.db.session() as session:
            target = session.get(LabelStudioProject, row_id)
            if target is not None:
                target.last_sync_at = utcnow()
        total = SyncResult(
            total.tasks + result.tasks, total.stored + result.stored, total.deleted + result.deleted
        )
    if total.stored or total.deleted:
        log.info(
            "synced %d task(s): %d stored, %d deleted", total.tasks, total.stored, total.deleted
        )
    return total


def sync_tasks(
    ls_project: int, task_ids: Sequence[int], annotation_ids: Sequence[int] = ()
) -> SyncResult:
    """The tasks a webhook names, and those of the annotations it names (a deletion names
    only annotation ids: their tasks are the ones stored with them)."""
    rt = runtime.current()
    ls = connect(rt.settings)
    if annotation_ids:
        with rt.db.session() as session:
            task_ids = [
                *task_ids,
                *session.scalars(
                    select(Annotation.ls_task_id).where(
                        Annotation.ls_project_id == ls_project,
                        Annotation.ls_annotation_id.in_(list(annotation_ids)),
                    )
                ),
            ]
    tasks = []
    try:
        for task_id in dict.fromkeys(task_ids):
            annotations = [_plain(a) for a in ls.annotations.list(id=task_id)]
            tasks.append({"id": task_id, "annotations": annotations})
        users = _users(ls) if _annotated(tasks) else {}
    except Exception as exc:
        raise translate(exc) from exc
    return store(ls_project, tasks, users)


def _all_tasks(ls: Any, ls_project: int) -> Iterable[dict[str, Any]]:
    for task in ls.tasks.list(project=ls_project, fields="all", page_size=PAGE):
        yield _plain(task)


def _annotated(tasks: Sequence[Mapping[str, Any]]) -> bool:
    return any(t.get("annotations") for t in tasks)


def _users(ls: Any) -> dict[int, str]:
    """Label Studio user id -> email: one call per sync, only when there is something to name."""
    return {int(u.id): str(u.email or u.username or u.id) for u in ls.users.list()}


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    dumped: dict[str, Any] = obj.model_dump() if hasattr(obj, "model_dump") else obj.dict()
    return dumped


def store(
    ls_project: int, tasks: Sequence[Mapping[str, Any]], users: Mapping[int, str]
) -> SyncResult:
    """Upsert the annotations of `tasks` (each {"id", "annotations", "data"?}); an annotation of
    one of these tasks that Label Studio no longer lists is marked deleted."""
    rt = runtime.current()
    stored = deleted = 0
    now = utcnow()
    with rt.db.session() as session:
        target = session.scalar(
            select(LabelStudioProject).where(LabelStudioProject.ls_project_id == ls_project)
        )
        if target is None:
            return SyncResult(len(tasks), 0, 0)
        task_ids = [int(t["id"]) for t in tasks]
        items = _items_of(session, target, tasks)
        existing: dict[int, Annotation] = {}
        for chunk in chunks(task_ids, 1000):
            for found in session.scalars(
                select(Annotation).where(
                    Annotation.ls_project_id == ls_project, Annotation.ls_task_id.in_(chunk)
                )
            ):
                existing[found.ls_annotation_id] = found
        seen: set[int] = set()
        corrections = _screened_corrections(
            [task for task in tasks if int(task["id"]) in items])
        for task in tasks:
            item_id = items.get(int(task["id"]))
            if item_id is None:
                continue  # not a Winnow task (someone imported other data): left alone
            for raw in task.get("annotations") or []:
                norm = normalize(raw, int(task["id"]))
                if norm.correction is not None:  # annotators type text too: kept redacted
                    norm = replace(norm, correction=corrections.get(norm.correction))
                completed_by = raw.get("completed_by")
                if isinstance(completed_by, int) and completed_by in users:
                    norm = Normalized(**{**_as_dict(norm), "annotator": users[completed_by]})
                seen.add(norm.ls_annotation_id)
                row = existing.get(norm.ls_annotation_id)
                values = _as_dict(norm)
                if row is None:
                    session.add(
                        Annotation(
                            project_id=target.project_id,
                            item_id=item_id,
                            kind=target.kind,
                            ls_project_id=ls_project,
                            synced_at=now,
                            **values,
                        )
                    )
                    stored += 1
                elif row.deleted_at is not None or any(
                    getattr(row, k) != v for k, v in values.items()
                ):
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.deleted_at = None
                    row.synced_at = now
                    stored += 1
        for ann_id, row in existing.items():
            if ann_id not in seen and row.deleted_at is None:
                row.deleted_at = now
                deleted += 1
    return SyncResult(len(tasks), stored, deleted)


def _screened_corrections(tasks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Annotators' corrections through curation's PII screener, batched: an annotator may type
    a name or an address (from the redacted text's context, or their own); a correction the
    policy rejects is not kept."""
    typed = {
        norm.correction
        for task in tasks
        for raw in task.get("annotations") or []
        if (norm := normalize(raw, int(task["id"]))).correction
    }
    if not typed:
        return {}
    return models().screener.screen_texts({text: text for text in typed})


def _items_of(
    session: Any, target: LabelStudioProject, tasks: Sequence[Mapping[str, Any]]
) -> dict[int, int]:
    """task id -> item id, for tasks that belong to items of the target's Winnow project."""
    task_ids = [int(t["id"]) for t in tasks]
    found: dict[int, int] = {}
    column = Item.ls_pair_task_id if target.kind == "pairwise" else Item.ls_task_id
    for chunk in chunks(task_ids, 1000):
        for item_id, task_id in session.execute(
            select(Item.id, column).where(Item.project_id == target.project_id, column.in_(chunk))
        ):
            found[int(task_id)] = int(item_id)
    # A task an unsure push created but never recorded: its data names the item.
    claimed: dict[int, Any] = {
        int(t["id"]): (t.get("data") or {}).get(ITEM_KEY)
        for t in tasks
        if int(t["id"]) not in found and isinstance((t.get("data") or {}).get(ITEM_KEY), int)
    }
    if claimed:
        owned = set(
            session.scalars(
                select(Item.id).where(
                    Item.project_id == target.project_id, Item.id.in_(list(claimed.values()))
                )
            )
        )
        found.update({t: i for t, i in claimed.items() if i in owned})
    return found


def _as_dict(norm: Normalized) -> dict[str, Any]:
    return {k: getattr(norm, k) for k in _FIELDS}


