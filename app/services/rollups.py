"""Keeping feedback rollups (app.models.rollup) equal to the raw rows they sum.

A refresh finds the days that changed and recomputes each (project, day) whole from generations
and their events, with the same query a from-scratch rollup would run, so a row is never patched
by a delta that could drift. What changed: generations and events stored since the last refresh
(read by id; ids are assigned before commit, so rows of the last `SETTLE` are read again, in case
an older id committed late) and the days marked dirty by an erasure.

A generation's day is its `created_at` (else `received_at`) in UTC; its events count on that
day, whenever they arrive, so a day's row is the cohort of generations served that day. Events
whose generation has not arrived yet count once it does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, distinct, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import among, chunks
from app.feedback import EVENT_TYPES, RATING, RATING_SIGNALS, Kind
from app.models import (
    Event,
    FeedbackRollup,
    Generation,
    Item,
    Project,
    RollupDirty,
    RollupMark,
    SampleVerdict,
)
from app.models.base import utcnow

log = logging.getLogger("winnow.rollups")

# The generation's columns a rollup row is grouped by.
DIMS = ("model_name", "model_version", "prompt_id", "prompt_version", "feature")
IMPLICIT = tuple(n for n, t in EVENT_TYPES.items() if t.kind is Kind.IMPLICIT)
EXPLICIT = tuple(n for n, t in EVENT_TYPES.items() if t.kind is Kind.EXPLICIT)
# Generation-level flags: the generation received at least one event of these types.
FLAGS: dict[str, tuple[str, ...]] = {
    "with_explicit": EXPLICIT,
    "with_implicit": IMPLICIT,
    "accepted": ("accept", "tweak", "copy"),
    "tweaked": ("tweak",),
    "copied": ("copy",),
    "regenerated": ("regenerate",),
    "ignored": ("ignore",),
    "abandoned": ("abandon",),
}
RATINGS = tuple(sorted(RATING_SIGNALS))
# Rows stored this long before a refresh are taken as committed (no transaction is that long).
SETTLE = timedelta(minutes=5)
SKETCH_PRECISION = 12  # 4,096 one-byte registers: about 1.6% error on merged user counts
# datasketch (and numpy, scipy with it) load on first use: the web process needs them only when
# an analytics query merges sketches (see app.services.stats).

Dims = tuple[str | None, ...]
EMPTY_SKETCH = bytes(1 << SKETCH_PRECISION)  # every register 0: no user


def day_of(created_at: datetime | None, received_at: datetime) -> date:
    return (created_at or received_at).astimezone(UTC).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    if day == date.max:  # a client's created_at on 9999-12-31: no day after it
        return start, datetime.max.replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


def on_days(start: datetime, end: datetime) -> Any:
    """Generations whose day falls in [start, end): each of the two indexes serves one arm."""
    g = Generation
    return or_(
        and_(g.created_at >= start, g.created_at < end),
        and_(g.created_at.is_(None), g.received_at >= start, g.received_at < end),
    )


@dataclass(frozen=True)
class Refreshed:
    project_id: int
    days: int  # (project, day) rows recomputed
    as_of: datetime


def refresh(session: Session, project_id: int) -> Refreshed:
    """Bring one project's rollups up to date (one refresher per project at a time)."""
    started = utcnow()
    mark = _lock_mark(session, project_id)
    first = mark.refreshed_at is None
    days: set[date] = set()
    g_seen, g_days = _new_generations(session, project_id, mark.generations_seen, started)
    days |= g_days
    if first:  # every generation's day is rolled up: their events come along
        e_seen = session.scalar(select(func.max(Event.id)).where(
            Event.project_id == project_id, Event.received_at < started - SETTLE)) or 0
    else:
        e_seen, e_days = _new_events(session, project_id, mark.events_seen, started)
        days |= e_days
    dirty: dict[date, datetime] = {
        day: marked_at for day, marked_at in session.execute(
            select(RollupDirty.day, RollupDirty.marked_at).where(
                RollupDirty.project_id == project_id))}
    days |= set(dirty)
    for day in sorted(days):
        recompute_day(session, project_id, day)
    for day, marked_at in dirty.items():
        # Only the mark this refresh read: a day marked again meanwhile (a later marked_at)
        # stays dirty for the next refresh.
        session.execute(delete(RollupDirty).where(
            RollupDirty.project_id == project_id, RollupDirty.day == day,
            RollupDirty.marked_at == marked_at))
    mark.generations_seen = g_seen
    mark.events_seen = e_seen
    mark.refreshed_at = started
    session.flush()
    return Refreshed(project_id, len(days), started)


def refresh_all(session: Session) -> list[Refreshed]:
    """Every project's rollups, one transaction each (the worker's chore)."""
    done = []
    for project_id in list(session.scalars(select(Project.id).order_by(Project.id))):
        try:
            done.append(refresh(session, project_id))
            session.commit()
        except Exception as exc:  # one project's failure must not stop the others' rollups
            session.rollback()
            log.warning("rollup refresh of project %d failed (%s); will try again", project_id,
                        type(exc).__name__)
    return done


def rebuild(session: Session, project_id: int) -> Refreshed:
    """Forget the project's rollups and roll everything up again."""
    _lock_mark(session, project_id)
    session.execute(delete(FeedbackRollup).where(FeedbackRollup.project_id == project_id))
    session.execute(delete(RollupMark).where(RollupMark.project_id == project_id))
    session.flush()
    return refresh(session, project_id)


def as_of(session: Session, project_id: int) -> datetime | None:
    """When the project's rollups were last brought up to date (None: never)."""
    return session.scalar(
        select(RollupMark.refreshed_at).where(RollupMark.project_id == project_id))


def mark_days(session: Session, project_id: int, days: Iterable[date]) -> None:
    """Days to recompute at the next refresh (rows deleted or changed in place)."""
    wanted = sorted(set(days))
    if not wanted:
        return
    # An upsert: two marks of one day at once do not collide, and a mark of a day already
    # dirty moves its marked_at on, so a refresh running meanwhile leaves it dirty.
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = upsert(RollupDirty).values(
        [{"project_id": project_id, "day": d, "marked_at": now} for d in wanted])
    session.execute(statement.on_conflict_do_update(
        index_elements=["project_id", "day"], set_={"marked_at": statement.excluded.marked_at}))
    session.flush()


def day_of_item(session: Session, project_id: int, generation_ref: str | None) -> date | None:
    """The day an item's verdict counts on: its generation's (None without one)."""
    if generation_ref is None:
        return None
    row = session.execute(select(Generation.created_at, Generation.received_at).where(
        Generation.project_id == project_id, Generation.external_id == generation_ref)).first()
    return day_of(row[0], row[1]) if row else None


def days_of_user(session: Session, project_id: int, user_id: str) -> set[date]:
    """The days a user's generations and events count on (before erasing them)."""
    g = Generation
    mine = select(g.created_at, g.received_at).where(g.project_id == project_id,
                                                     g.user_id == user_id)
    theirs = select(g.created_at, g.received_at).join(
        Event, and_(Event.project_id == g.project_id, Event.generation_ref == g.external_id)
    ).where(g.project_id == project_id, Event.user_id == user_id)
    # Verdicts on the user's items count on the day of the item's generation, whoever's it is.
    items = select(g.created_at, g.received_at).join(
        Item, and_(Item.project_id == g.project_id, Item.generation_ref == g.external_id)
    ).where(g.project_id == project_id, Item.user_id == user_id)
    return {day_of(c, r) for query in (mine, theirs, items) for c, r in session.execute(query)}


def recompute_day(session: Session, project_id: int, day: date) -> int:
    """Replace a (project, day)'s rows with what its raw rows say; returns the rows written."""
    session.execute(delete(FeedbackRollup).where(FeedbackRollup.project_id == project_id,
                                                 FeedbackRollup.day == day))
    start, end = day_bounds(day)
    in_day = and_(Generation.project_id == project_id, on_days(start, end))
    from datasketch import HyperLogLog

    rows = {dims: _counts(day, project_id, dims, counts)
            for dims, counts in _generation_counts(session, in_day)}
    # Each query reads its own snapshot under READ COMMITTED: a generation stored between them
    # is skipped here, and its day recomputed at the next refresh (its id is new).
    for dims, users in _users(session, in_day).items():
        if dims not in rows:
            continue
        sketch = HyperLogLog(p=SKETCH_PRECISION)
        for user in users:
            sketch.update(user.encode())
        rows[dims]["users"] = len(users)
        rows[dims]["users_sketch"] = sketch.reg.tobytes()
    for dims, verdict, count in _verdicts(session, in_day):
        if dims in rows:
            rows[dims]["verdicts"][verdict] = count
    if rows:
        session.execute(insert(FeedbackRollup), list(rows.values()))
    return len(rows)


def merged_users(sketches: Sequence[bytes]) -> int:
    """Distinct users across rows (HyperLogLog union: the registers' maximum)."""
    import numpy as np
    from datasketch import HyperLogLog

    registers = np.zeros(1 << SKETCH_PRECISION, dtype=np.int8)
    for sketch in sketches:
        np.maximum(registers, np.frombuffer(sketch, dtype=np.int8), out=registers)
    estimate: float = HyperLogLog(p=SKETCH_PRECISION, reg=registers).count()
    return round(estimate)


def _counts(day: date, project_id: int, dims: Dims, counts: Sequence[int]) -> dict[str, Any]:
    flags = len(FLAGS)
    types = counts[1 + flags : 1 + flags + len(EVENT_TYPES)]
    ratings = counts[1 + flags + len(EVENT_TYPES) :]
    return {
        "project_id": project_id,
        "day": day,
        **dict(zip(DIMS, dims, strict=True)),
        "generations": counts[0],
        **dict(zip(FLAGS, counts[1 : 1 + flags], strict=True)),
        "users": 0,
        "users_sketch": EMPTY_SKETCH,
        "events": {t: n for t, n in zip(EVENT_TYPES, types, strict=True) if n},
        "ratings": {str(v): n for v, n in zip(RATINGS, ratings, strict=True) if n},
        "verdicts": {},
    }


def _dims() -> list[Any]:
    return [getattr(Generation, d) for d in DIMS]


def _generation_counts(session: Session, in_day: Any) -> Iterable[tuple[Dims, list[int]]]:
    """Per group: generations, each flag's generations, then events per type and rating value
    (one pass over the day's generations and their events)."""
    g, e = Generation, Event
    per_type = [func.sum(case((e.type == t, 1), else_=0)).label(f"t_{t}") for t in EVENT_TYPES]
    per_rating = [func.sum(case((and_(e.type == RATING, e.rating == v), 1), else_=0)).label(
        f"r_{v}") for v in RATINGS]
    flags = [func.max(case((e.type.in_(types), 1), else_=0)).label(f) for f, types in FLAGS.items()]
    per_generation = (
        select(g.id, *_dims(), *flags, *per_type, *per_rating)
        .select_from(g)
        .outerjoin(e, and_(e.project_id == g.project_id, e.generation_ref == g.external_id))
        .where(in_day)
        .group_by(g.id, *_dims())
        .subquery()
    )
    columns = [per_generation.c[d] for d in DIMS]
    sums = [func.sum(c) for c in per_generation.c if c.name not in (*DIMS, "id")]
    query = select(*columns, func.count(), *sums).group_by(*columns)
    for row in session.execute(query):
        yield tuple(row[: len(DIMS)]), [int(v or 0) for v in row[len(DIMS):]]


def _users(session: Session, in_day: Any) -> dict[Dims, list[str]]:
    found: dict[Dims, list[str]] = {}
    query = select(*_dims(), Generation.user_id).distinct().where(
        in_day, Generation.user_id.is_not(None))
    for row in session.execute(query):
        found.setdefault(tuple(row[: len(DIMS)]), []).append(row[-1])
    return found


def _verdicts(session: Session, in_day: Any) -> Iterable[tuple[Dims, str, int]]:
    """Daily-sample verdicts on the items of the day's generations, per group."""
    g, i, v = Generation, Item, SampleVerdict
    query = (
        select(*_dims(), v.verdict, func.count())
        .select_from(v)
        .join(i, i.id == v.item_id)
        .join(g, and_(g.project_id == i.project_id, g.external_id == i.generation_ref))
        .where(in_day)
        .group_by(*_dims(), v.verdict)
    )
    for row in session.execute(query):
        yield tuple(row[: len(DIMS)]), row[-2], int(row[-1])


def _lock_mark(session: Session, project_id: int) -> RollupMark:
    """The project's mark, locked for this transaction (created on first use)."""
    mark = session.get(RollupMark, project_id, with_for_update=True)
    if mark is None:
        dialect = session.get_bind().dialect.name
        values = {"project_id": project_id, "events_seen": 0, "generations_seen": 0}
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(upsert(RollupMark).values(**values).on_conflict_do_nothing())
        mark = session.get_one(RollupMark, project_id, with_for_update=True,
                               populate_existing=True)
    return mark


def _new_generations(session: Session, project_id: int, seen: int,
                     started: datetime) -> tuple[int, set[date]]:
    """Days of generations stored after `seen`, and the id up to which all have settled."""
    g = Generation
    days: set[date] = set()
    settled = seen
    query = select(g.id, g.created_at, g.received_at).where(g.project_id == project_id,
                                                            g.id > seen)
    for row_id, created, received in session.execute(query):
        days.add(day_of(created, received))
        if received < started - SETTLE:
            settled = max(settled, row_id)
    return settled, days


def _new_events(session: Session, project_id: int, seen: int,
                started: datetime) -> tuple[int, set[date]]:
    """Days of the generations of events stored after `seen`, and the settled id."""
    e = Event
    refs: set[str] = set()
    settled = seen
    query = select(e.id, e.generation_ref, e.received_at).where(e.project_id == project_id,
                                                                 e.id > seen)
    for row_id, ref, received in session.execute(query):
        refs.add(ref)
        if received < started - SETTLE:
            settled = max(settled, row_id)
    days: set[date] = set()
    dialect = session.get_bind().dialect.name
    g = Generation
    for chunk in chunks(sorted(refs), 5000):
        found = select(g.created_at, g.received_at).where(
            g.project_id == project_id, among(g.external_id, chunk, dialect))
        days |= {day_of(c, r) for c, r in session.execute(found)}
    return settled, days


def distinct_days(session: Session, project_id: int) -> int:
    """How many days the project's rollups cover."""
    return session.scalar(select(func.count(distinct(FeedbackRollup.day))).where(
        FeedbackRollup.project_id == project_id)) or 0
