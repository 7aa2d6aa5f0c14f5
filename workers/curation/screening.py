"""The screening job: free text and metadata sealed at intake, replaced by their redacted form.

Comment, tweak and flag texts and the metadata of events, generations and (before revision
0006) items wait in `screening = 'pending'` (see app.services.screening). This job opens them,
runs curation's PII screener with the same policy, and writes the redacted form in the same
conditional UPDATE that drops the sealed text, so a retried or concurrent run changes nothing
a first run did. An event whose generation has a shared conversation still waiting for
curation is screened together with that conversation's raw turns: a name gets the same
placeholder in the tweak as in the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from app import runtime
from app.models import Event, Generation, Item
from app.models.base import utcnow
from app.services.crypto import open_item
from app.services.screening import (
    FAILED,
    PENDING,
    REDACTED,
    WITHHELD,
    claim_key,
    enqueue_screening,
    open_sealed,
    screenable,
)
from workers.curation.pii import PiiScreener
from workers.curation.runtime import models
from workers.curation.types import Turn

log = logging.getLogger("winnow.screening")
BATCH = 200
WITHHELD_KEY = "<WITHHELD>"


class ScreeningIncomplete(Exception):
    """Some rows could not be opened (a key the worker lacks); they stay pending."""


@dataclass(frozen=True)
class Screened:
    text: str | None
    metadata: dict[str, Any] | None
    state: str  # redacted | withheld


def _strings(value: Any, out: list[str]) -> None:
    """Every screenable string of a metadata value, keys included, in a fixed order."""
    if isinstance(value, dict):
        for key, item in value.items():
            out.append(key)
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif screenable(value):
        out.append(str(value))


def metadata_strings(metadata: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    if metadata is not None:
        _strings(metadata, out)
    return out


def _rebuild(value: Any, done: Iterator[tuple[str, bool]]) -> Any:
    """The value with each screenable string replaced by its redacted form (None, or
    WITHHELD_KEY for a key, where the policy rejects what was found)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for item in value.values():
            new_key, withheld = next(done)
            out[WITHHELD_KEY if withheld else new_key] = _rebuild(item, done)
        return out
    if isinstance(value, list):
        return [_rebuild(item, done) for item in value]
    if not screenable(value):
        return value
    text, withheld = next(done)
    if withheld:
        return None
    if isinstance(value, int) and text == str(value):
        return value  # a number with nothing found stays a number
    return text


def screen_free(screener: PiiScreener, text: str | None, metadata: dict[str, Any] | None,
                context: Sequence[Turn] = ()) -> Screened:
    """Screen a row's text and metadata strings as one conversation (one numbering, a value
    found in one masked in all), after `context`, the linked conversation's raw turns."""
    strings: list[str] = []
    if metadata is not None:
        _strings(metadata, strings)
    has_text = bool(text and text.strip())
    turns = [*context, *([Turn("user", text or "")] if has_text else []),
             *(Turn("user", s) for s in strings)]
    result = screener.screen(turns)
    reject = {k for k, v in screener.config.policy.items() if v == "reject"}
    withheld_turns = {f.turn for f in result.findings if f.entity_type in reject}
    first = len(context)
    out_text = None
    if has_text:
        out_text = None if first in withheld_turns else result.turns[first].text
        first += 1
    done = iter(
        (result.turns[i].text, i in withheld_turns) for i in range(first, len(result.turns))
    )
    out_meta = _rebuild(metadata, done) if metadata is not None else None
    return Screened(out_text, out_meta, WITHHELD if withheld_turns - set(range(len(context)))
                    else REDACTED)


def screen_pending(project_id: int) -> dict[str, int]:
    """Screen every pending row of the project (events, generations, legacy items)."""
    runtime.current().queue.release(claim_key(project_id))  # rows from now on: another job
    counts: dict[str, int] = {}
    failed = 0
    for name, step in (("events", _events), ("generations", _generations), ("items", _items)):
        last = 0
        while True:
            last, done, bad = step(project_id, last)
            if last == 0:
                break
            counts[name] = counts.get(name, 0) + done
            failed += bad
    if any(counts.values()):
        log.info("screened %s", ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v))
    if failed:
        raise ScreeningIncomplete(f"{failed} row(s) could not be opened; they stay pending")
    return counts


def _open(sealed: str | None, text: str | None,
          meta: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None] | None:
    """The raw text and metadata: from the sealed token, or (rows stored before revision 0006)
    from the columns themselves; None when the token cannot be opened."""
    if sealed is None:
        return text, meta
    try:
        return open_sealed(runtime.current().box, sealed)
    except Exception as exc:
        log.warning("a sealed row could not be opened (%s)", type(exc).__name__)
        return None


def _events(project_id: int, after: int) -> tuple[int, int, int]:
    rt = runtime.current()
    with rt.db.session() as session:
        rows = session.execute(
            select(Event.id, Event.generation_ref, Event.sealed, Event.text, Event.meta)
            .where(Event.project_id == project_id, Event.screening == PENDING, Event.id > after)
            .order_by(Event.id).limit(BATCH)
        ).all()
        if not rows:
            return 0, 0, 0
        raw = {r.id: _open(r.sealed, r.text, r.meta) for r in rows}
        linked = _waiting_conversations(session, project_id,
                                        {r.generation_ref for r in rows if raw[r.id]})
    screener = models().screener
    screener.prime([t for found in raw.values() if found for t in _texts(*found)]
           + [t.text for turns in linked.values() for t in turns])
    try:
        screened = {
            r.id: screen_free(screener, *found, context=linked.get(r.generation_ref, ()))
            for r in rows if (found := raw[r.id]) is not None
        }
    finally:
        screener.unprime()
    with rt.db.session() as session:
        for event_id, s in screened.items():
            session.execute(
                update(Event).where(Event.id == event_id, Event.screening == PENDING)
                .values({Event.text: s.text, Event.meta: s.metadata, Event.sealed: None,
                         Event.screening: s.state})
            )
    return rows[-1].id, len(screened), len(rows) - len(screened)


def _generations(project_id: int, after: int) -> tuple[int, int, int]:
    rt = runtime.current()
    with rt.db.session() as session:
        rows = session.execute(
            select(Generation.id, Generation.sealed, Generation.meta)
            .where(Generation.project_id == project_id, Generation.screening == PENDING,
                   Generation.id > after)
            .order_by(Generation.id).limit(BATCH)
        ).all()
    if not rows:
        return 0, 0, 0
    raw = {r.id: _open(r.sealed, None, r.meta) for r in rows}
    screened = _screen_all(raw)
    with rt.db.session() as session:
        for row_id, s in screened.items():
            session.execute(
                update(Generation)
                .where(Generation.id == row_id, Generation.screening == PENDING)
                .values({Generation.meta: s.metadata, Generation.sealed: None,
                         Generation.screening: s.state})
            )
    return rows[-1].id, len(screened), len(rows) - len(screened)


def _items(project_id: int, after: int) -> tuple[int, int, int]:
    """Items screened before revision 0006 kept their metadata raw: redact it in place."""
    rt = runtime.current()
    with rt.db.session() as session:
        rows = session.execute(
            select(Item.id, Item.meta)
            .where(Item.project_id == project_id, Item.screening == PENDING,
                   Item.state != "received", Item.id > after)
            .order_by(Item.id).limit(BATCH)
        ).all()
    if not rows:
        return 0, 0, 0
    screened = _screen_all({r.id: (None, r.meta) for r in rows})
    with rt.db.session() as session:
        for row_id, s in screened.items():
            session.execute(
                update(Item).where(Item.id == row_id, Item.screening == PENDING)
                .values({Item.meta: s.metadata, Item.screening: s.state})
            )
    return rows[-1].id, len(screened), 0


def _screen_all(
    raw: dict[int, tuple[str | None, dict[str, Any] | None] | None],
) -> dict[int, Screened]:
    screener = models().screener
    screener.prime([t for found in raw.values() if found for t in _texts(*found)])
    try:
        return {i: screen_free(screener, *found) for i, found in raw.items() if found}
    finally:
        screener.unprime()


def _texts(text: str | None, metadata: dict[str, Any] | None) -> list[str]:
    out = [text] if text else []
    if metadata is not None:
        _strings(metadata, out)
    return out


def _waiting_conversations(session: Any, project_id: int,
                           refs: set[str]) -> dict[str, tuple[Turn, ...]]:
    """The raw turns of the first conversation still waiting for curation on each of `refs`."""
    if not refs:
        return {}
    found: dict[str, tuple[Turn, ...]] = {}
    rows = session.execute(
        select(Item.generation_ref, Item.raw_sealed)
        .where(Item.project_id == project_id, Item.generation_ref.in_(sorted(refs)),
               Item.state == "received", Item.raw_sealed.is_not(None))
        .order_by(Item.id)
    )
    box = runtime.current().box
    for ref, sealed in rows:
        if ref in found:
            continue
        try:
            turns, _ = open_item(box, sealed.encode())
        except Exception:
            continue  # its curation reports it; the event is screened alone
        found[ref] = tuple(Turn(role, text) for role, text in turns)
    return found


def reconcile_screening(cutoff: datetime) -> int:
    """Enqueue screening for projects with rows pending since before `cutoff` (intake while
    Redis was down, a job lost or failed); returns how many projects."""
    rt = runtime.current()
    projects: set[int] = set()
    with rt.db.session() as session:
        for model in (Event, Generation):  # rows from before revision 0006 have no token
            projects.update(session.scalars(
                select(model.project_id).distinct()
                .where(model.screening == PENDING,
                       or_(model.received_at <= cutoff, model.sealed.is_(None)))))
        projects.update(session.scalars(
            select(Item.project_id).distinct()
            .where(Item.screening == PENDING, Item.state != "received")))
    for project_id in sorted(projects):
        enqueue_screening(rt.queue, project_id, coalesce=False)
    return len(projects)


def purge_expired(retention: timedelta) -> dict[str, int]:
    """Sealed raw text is short-lived: past `retention` what is still unscreened is purged.
    An item ends `failed` with a reason; an event's or a generation's text and metadata are
    dropped (`screening` failed); nothing raw is left behind."""
    cutoff = utcnow() - retention
    days = retention.total_seconds() / 86400
    reason = (f"not screened within the retention limit ({days:g} days): its raw text was "
              "purged")
    counts: dict[str, int] = {}
    with runtime.current().db.session() as session:
        done = session.execute(
            update(Item)
            .where(Item.state == "received", Item.received_at <= cutoff)
            .values({Item.state: FAILED, Item.raw_sealed: None, Item.meta: None,
                     Item.reasons: [reason], Item.screened_at: utcnow(),
                     Item.last_error: reason[:200]})
        )
        counts["items"] = done.rowcount or 0  # type: ignore[attr-defined]
        for name, model in (("events", Event), ("generations", Generation)):
            values: dict[Any, Any] = {model.sealed: None, model.meta: None,
                                      model.screening: FAILED}
            if model is Event:
                values[Event.text] = None
            done = session.execute(
                update(model)  # a row from before revision 0006 (no token) is screened
                .where(model.screening == PENDING, model.received_at <= cutoff,
                       model.sealed.is_not(None))
                .values(values)
            )
            counts[name] = done.rowcount or 0  # type: ignore[attr-defined]
    if any(counts.values()):
        log.warning("purged unscreened raw text past the retention limit: %s",
                    ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v))
    return counts
