"""Curation items: list, search and read (people's decisions on them: app.services.decisions)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, select, update
from sqlalchemy.orm import Session

from app import manifest
from app.feedback import SignalMap
from app.models import Annotation, Dataset, DatasetVersion, Generation, Item
from app.payloads.conversations import (
    DuplicateOut,
    FindingOut,
    ItemOut,
    ItemSummary,
    RedactedMessage,
    SignalOut,
)
from app.payloads.datasets import AnnotationOut
from app.services.decisions import history
from app.services.errors import NotFound
from app.services.events import decode_cursor, encode_cursor
from app.services.generations import feedback_summary
from app.services.screening import PENDING
from app.store import Store


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


# -- the console's search and item page ------------------------------------------------------

@dataclass(frozen=True)
class ItemSearch:
    """What the Items page filters on. `model` is a name or `name@version`, `prompt_version` a
    version or `prompt id@version`, `reason` a piece of any reason (case-insensitive);
    received in [since, until)."""

    state: str | None = None
    reason: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Versions:
    """The model and prompt versions of an item's generation (None without one)."""

    model: str | None = None
    model_version: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None


@dataclass(frozen=True)
class ListedItem:
    item: ItemSummary
    versions: Versions


def search_items(session: Session, project_id: int, search: ItemSearch, cursor: str | None,
                 limit: int) -> tuple[list[ListedItem], str | None]:
    """A page of items, newest first, with their generation's versions. Keyset on the id, so
    every filter rides the primary key (state: ix_items_project_state) and stops at `limit`."""
    # With a state, ix_items_project_state walks (project_id, state, id) in order. Without one,
    # walk the primary key (`+ 0` keeps SQLite's planner from reading every row of the project
    # through another index and sorting them all before it can stop at `limit`).
    project = Item.project_id == project_id if search.state else \
        (Item.project_id + 0) == project_id
    query = select(Item).where(project, *_conditions(session, project_id, search))
    if cursor:
        query = query.where(Item.id < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(Item.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    votes = _votes(session, [r.id for r in rows])
    canon = _external_ids(session, {r.duplicate_of_id for r in rows if r.duplicate_of_id})
    gens = generation_versions(session, project_id, {r.generation_ref for r in rows
                                                     if r.generation_ref})
    page = [ListedItem(summary(r, votes.get(r.id, 0) + 1, canon.get(r.duplicate_of_id or 0)),
                       gens.get(r.generation_ref or "", Versions())) for r in rows]
    return page, (encode_cursor(rows[-1].id) if more and rows else None)


def _conditions(session: Session, project_id: int,
                search: ItemSearch) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search.state:
        where.append(Item.state == search.state)
    if search.since is not None:
        where.append(Item.received_at >= search.since)
    if search.until is not None:
        where.append(Item.received_at < search.until)
    if search.reason:
        where.append(cast(Item.reasons, Text).icontains(_as_json_text(session, search.reason),
                                                        autoescape=True))
    generation: list[ColumnElement[bool]] = []
    if search.model:
        name, at, version = search.model.partition("@")
        generation.append(Generation.model_name == name)
        if at:
            generation.append(Generation.model_version == version)
    if search.prompt_version:
        prompt, at, version = search.prompt_version.rpartition("@")
        generation.append(Generation.prompt_version == version)
        if at:
            generation.append(Generation.prompt_id == prompt)
    if generation:
        where.append(Item.generation_ref.in_(select(Generation.external_id).where(
            Generation.project_id == project_id, *generation)))
    return where


def _as_json_text(session: Session, text: str) -> str:
    """`text` as it reads inside the stored JSON list: quotes escaped, and on SQLite (whose JSON
    is json.dumps's) non-ASCII characters too; PostgreSQL's jsonb text keeps them."""
    ascii_only = session.get_bind().dialect.name == "sqlite"
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


def generation_versions(session: Session, project_id: int, refs: set[str]) -> dict[str, Versions]:
    """The model and prompt versions of these generations (a page's worth), by external id."""
    if not refs:
        return {}
    g = Generation
    rows = session.execute(select(g.external_id, g.model_name, g.model_version, g.prompt_id,
                                  g.prompt_version).where(g.project_id == project_id,
                                                          g.external_id.in_(sorted(refs))))
    return {r.external_id: Versions(r.model_name, r.model_version, r.prompt_id,
                                    r.prompt_version) for r in rows}


def annotations_of(session: Session, item: Item) -> list[AnnotationOut]:
    """The Label Studio annotations brought back for the item (corrections screened: redacted),
    oldest first, deleted ones included with their deletion time."""
    return [
        AnnotationOut(
            kind=a.kind, ls_project_id=a.ls_project_id, ls_task_id=a.ls_task_id,
            ls_annotation_id=a.ls_annotation_id, annotator=a.annotator, verdict=a.verdict,
            failure_modes=list(a.failure_modes or []), correction=a.correction, rating=a.rating,
            preference=a.preference, skipped=a.skipped, created_at=a.created_at,
            updated_at=a.updated_at, deleted_at=a.deleted_at,
        )
        for a in session.scalars(select(Annotation).where(Annotation.item_id == item.id)
                                 .order_by(Annotation.id))
    ]


@dataclass(frozen=True)
class Inclusion:
    """A dataset version that holds the item: in which split, in which files."""

    dataset: str
    version: int
    split: str
    files: tuple[str, ...]
    built_at: datetime | None


@dataclass(frozen=True)
class Included:
    found: list[Inclusion]
    checked: int  # versions whose manifests were read
    unchecked: int  # older ready versions not read (beyond `per_dataset`)


FLAG_FILES = (("e", "eval"), ("f", "finetune"))


def included_in(session: Session, store: Store, project: str, project_id: int,
                external_id: str, per_dataset: int = 5) -> Included:
    """Which ready dataset versions list the item, read from their manifests (the only record of
    membership): the newest `per_dataset` versions of each dataset, newest first."""
    found: list[Inclusion] = []
    checked = unchecked = 0
    for dataset in session.scalars(select(Dataset).where(Dataset.project_id == project_id)
                                   .order_by(Dataset.name)):
        versions = list(session.scalars(
            select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id,
                                         DatasetVersion.state == "ready")
            .order_by(DatasetVersion.number.desc())))
        unchecked += max(0, len(versions) - per_dataset)
        for v in versions[:per_dataset]:
            checked += 1
            try:
                entry = manifest.item_index(store, project, dataset.name, v.number).get(
                    external_id)
                hit = (entry[0], entry[2]) if entry is not None else None
            except OSError:
                continue  # a purged or unreadable version: nothing to show of it
            if hit is not None:
                files = tuple(name for flag, name in FLAG_FILES if flag in hit[1])
                found.append(Inclusion(dataset.name, v.number, hit[0], files or ("preference",),
                                       v.built_at))
    return Included(found, checked, unchecked)
