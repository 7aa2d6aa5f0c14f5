"""The curation job: screen items in `received` and record their outcome.

Idempotent: only items still in `received` are taken, the outcome is written with a
conditional UPDATE (state = 'received'), and the dedupe index answers the same for an item it
already holds. So a retried, re-enqueued or concurrent run changes nothing a first run did.
One item failing does not hold back the others: it stays in `received` with its attempt
counted and the job raises at the end, so RQ retries it with backoff.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import runtime
from app.jobs import PUSH, new_job_id
from app.models import Item
from app.models.base import utcnow
from app.services.crypto import open_item
from app.services.screening import PENDING
from workers.curation.dedupe import conversation_text
from workers.curation.pii import PiiScreener, Span
from workers.curation.pipeline import Work
from workers.curation.pranks import Context
from workers.curation.runtime import models
from workers.curation.screening import metadata_strings, screen_free
from workers.curation.types import Turn

log = logging.getLogger("winnow.curation")
CANONICAL_STATES = (
    "accepted",
    "quarantined",
    "rejected_prank",
    "annotation_pending",
    "in_annotation",
)
USUAL_WINDOW = timedelta(days=30)
COMMIT_EVERY = 25
TAIL = 5


class CurationIncomplete(Exception):
    """Some items of the job failed; they stay in `received` and the job is retried."""


@dataclass(frozen=True)
class Outcome:
    item_id: int
    values: dict[str, Any]


def curate(item_ids: list[int]) -> dict[str, int]:
    rt = runtime.current()
    with rt.db.session() as session:
        items = list(
            session.scalars(
                select(Item)
                .where(Item.id.in_(item_ids), Item.state == "received")
                .order_by(Item.id)
            )
        )
    if not items:
        return {}
    chunks = chunked(items)
    screener = models().screener
    counts: dict[str, int] = {}
    failed: list[tuple[int, str]] = []
    # The PII analysis of a chunk (most of the job's time) runs in a thread while the chunk
    # before it is screened and written: the rest of the job (the dedupe index, the database)
    # waits on Redis and PostgreSQL, and spaCy's matrix products run without the GIL, so the
    # two overlap. Committed a chunk at a time: a worker killed mid-job keeps what it finished.
    with ThreadPoolExecutor(1, thread_name_prefix="winnow-pii") as ahead:
        raw = {item.id: unseal(item) for item in chunks[0]}
        analysis = ahead.submit(analyse, screener, raw)
        with rt.db.session() as session:
            contexts = {i.id: share_context(session, i) for i in items}
            for project_id in {i.project_id for i in items}:
                ensure_index(session, project_id)
        for number, chunk in enumerate(chunks):
            found = analysis.result()
            if number + 1 < len(chunks):
                following = {item.id: unseal(item) for item in chunks[number + 1]}
                analysis = ahead.submit(analyse, screener, following)
            outcomes: list[Outcome] = []
            chunk_failed: list[tuple[int, str]] = []
            screener.use(found)
            try:
                for item in chunk:
                    try:
                        opened = raw[item.id]
                        if isinstance(opened, Exception):
                            raise opened
                        outcomes.append(screen(item, *opened, contexts[item.id]))
                    except Exception as exc:
                        # Only the type, or our own message: a library's may quote the text.
                        own = type(exc).__module__.startswith("workers")
                        chunk_failed.append((item.id, str(exc) if own else type(exc).__name__))
            finally:
                screener.use(None)
            record(outcomes, chunk_failed, counts)
            failed.extend(chunk_failed)
            if number + 1 < len(chunks):
                raw = following
    log.info(
        "curated %d item(s): %s",
        sum(counts.values()),
        ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none new",
    )
    if counts.get("accepted") and rt.settings.label_studio_url:
        request_push({i.project_id for i in items})
    if failed:
        raise CurationIncomplete(f"{len(failed)} of {len(items)} item(s) failed: {failed[0][1]}")
    return counts


def chunked(items: list[Item]) -> list[list[Item]]:
    """Chunks of COMMIT_EVERY, the last few items on their own: the last chunk is screened
    with no analysis left to overlap it, so it is kept short."""
    body, tail = items, []
    if len(items) > COMMIT_EVERY:
        body, tail = items[:-TAIL], items[-TAIL:]
    chunks = [body[start : start + COMMIT_EVERY] for start in range(0, len(body), COMMIT_EVERY)]
    return chunks + ([tail] if tail else [])


def request_push(project_ids: set[int]) -> None:
    """Accepted items go to Label Studio: enqueue a push per project (best effort; the
    periodic push catches anything this misses)."""

    queue = runtime.current().queue
    for project_id in sorted(project_ids):
        try:
            queue.enqueue(PUSH, project_id, job_id=new_job_id("lspush"))
        except Exception as exc:
            log.warning("could not enqueue a push (%s); the periodic push will", type(exc).__name__)


def record(outcomes: list[Outcome], failed: list[tuple[int, str]], counts: dict[str, int]) -> None:
    """Write outcomes (only onto items still in `received`) and count failed attempts."""
    with runtime.current().db.session() as session:
        now = utcnow()
        for o in outcomes:
            done = session.execute(
                update(Item)
                .where(Item.id == o.item_id, Item.state == "received")
                .values(**o.values, raw_sealed=None, screened_at=now, last_error=None)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                counts[o.values["state"]] = counts.get(o.values["state"], 0) + 1
        for item_id, error in failed:
            session.execute(
                update(Item)
                .where(Item.id == item_id, Item.state == "received")
                .values(attempts=Item.attempts + 1, last_error=error[:200])
            )


Raw = tuple[tuple[Turn, ...], dict[str, Any] | None]


def unseal(item: Item) -> Raw | Exception:
    """The raw turns and metadata (an item stored before revision 0006 has its metadata in
    the column, marked pending)."""
    if item.raw_sealed is None:
        return CurationIncomplete("item has no raw text to screen")
    try:
        pairs, metadata = open_item(runtime.current().box, item.raw_sealed.encode())
    except Exception as exc:
        return exc
    if metadata is None and item.screening == PENDING:
        metadata = item.meta
    return tuple(Turn(role, text) for role, text in pairs), metadata


def analyse(screener: PiiScreener, raw: dict[int, Raw | Exception]) -> dict[str, list[Span]]:
    """The PII screener's analysis of a chunk's messages and metadata strings, in one batch."""
    texts: list[str] = []
    for found in raw.values():
        if not isinstance(found, Exception):
            texts.extend(t.text for t in found[0])
            texts.extend(metadata_strings(found[1]))
    return screener.analyse_all(texts)


def screen(item: Item, turns: tuple[Turn, ...], metadata: dict[str, Any] | None,
           context: Context) -> Outcome:
    curation = models()
    work = curation.pipeline.run(Work(item.project_id, item.id, turns, context))
    meta: dict[str, Any] = {"meta": None, "screening": None}
    if metadata is not None:  # numbered after the conversation: the same placeholders
        screened = screen_free(curation.screener, None, metadata, context=turns)
        meta = {"meta": screened.metadata, "screening": screened.state}
    return Outcome(
        item.id,
        {
            **meta,
            "state": work.state,
            "redacted": [{"role": t.role, "text": t.text} for t in work.turns],
            "findings": [
                {
                    "type": f.entity_type,
                    "turn": f.turn,
                    "start": f.start,
                    "end": f.end,
                    "placeholder": f.placeholder,
                    "score": round(f.score, 3),
                }
                for f in work.findings
            ],
            "signals": [
                {"category": s.category, "score": round(s.score, 3), "reason": s.reason}
                for s in work.signals
            ],
            "reasons": list(work.reasons),
            "content_hash": work.content_hash,
            "duplicate_of_id": work.duplicate_of,
            "duplicate_kind": work.duplicate_kind,
            "similarity": None if work.similarity is None else round(work.similarity, 4),
        },
    )


def share_context(session: Session, item: Item) -> Context:
    """How much this user shared in the hour before this item, against their usual rate."""
    if item.user_id is None:
        return Context()
    at: datetime = item.received_at
    hour_ago, window_start = at - timedelta(hours=1), at - USUAL_WINDOW
    base = select(func.count()).where(
        Item.project_id == item.project_id, Item.user_id == item.user_id
    )
    recent = (
        session.scalar(
            base.where(Item.received_at > hour_ago, Item.received_at <= at, Item.id != item.id)
        )
        or 0
    )
    before = (
        session.scalar(base.where(Item.received_at > window_start, Item.received_at <= hour_ago))
        or 0
    )
    hours = USUAL_WINDOW.total_seconds() / 3600 - 1
    return Context(user_shares_last_hour=int(recent), user_usual_per_hour=before / hours)


def ensure_index(session: Session, project_id: int) -> None:
    """Fill the dedupe index from the database when it lacks the project: always at the
    embedded mode's first job (it lives in memory), and with Redis after it lost its data."""
    curation = models()
    with curation.lock:
        index = curation.index
        if index.is_loaded(project_id):
            return
        rows = session.execute(
            select(Item.id, Item.redacted)
            .where(
                Item.project_id == project_id,
                Item.state.in_(CANONICAL_STATES),
                Item.redacted.is_not(None),
            )
            .order_by(Item.id)
        )
        count = 0
        for item_id, redacted in rows:
            turns = [Turn(t["role"], t["text"]) for t in redacted]
            index.add(project_id, item_id, conversation_text(turns))
            count += 1
        index.mark_loaded(project_id)
    if count:
        log.info("rebuilt the dedupe index of project %d from %d item(s)", project_id, count)
