"""What users said about items' generations: the shared queries of reactions.

An item's feedback is every event on its own generation and on its duplicates' generations
(their users' reactions count for the canonical item). The Label Studio push (pre-annotations,
negative-first order), dataset builds (signals, tweaks for preference pairs) and the agreement
report all read it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from app.db import among, chunks
from app.feedback import RANK, RATING, SignalMap
from app.models import Event, Item
from app.services.screening import PENDING


@dataclass(frozen=True)
class Feedback:
    """The users' reactions to an item's generations (its own and its duplicates')."""

    by_type: Mapping[str, int]  # event type -> count
    ratings: Mapping[int, int]  # rating value -> count

    def score(self, signals: SignalMap) -> float | None:
        """Mean signal in -2..+2 over every reaction that carries one; None if none does."""
        total = n = 0
        for event_type, count in self.by_type.items():
            if event_type in (RATING, RANK, "share", "comment"):
                continue
            total += signals.signal(event_type, None).score * count
            n += count
        for value, count in self.ratings.items():
            total += signals.signal(RATING, value).score * count
            n += count
        return total / n if n else None


def generation_refs(session: Any, refs: dict[int, str | None]) -> dict[int, set[str]]:
    """Each item's generation refs: its own and its duplicates' (their users' reactions count
    for the canonical item)."""
    by_item: dict[int, set[str]] = {i: ({r} if r else set()) for i, r in refs.items()}
    for chunk in chunks(list(refs), 1000):
        for canonical, ref in session.execute(
            select(Item.duplicate_of_id, Item.generation_ref).where(
                Item.duplicate_of_id.in_(chunk), Item.generation_ref.is_not(None)
            )
        ):
            by_item[canonical].add(ref)
    return by_item


def feedback_of(session: Any, project_id: int, refs: dict[int, str | None]) -> dict[int, Feedback]:
    """Each item's feedback: events on its generation and on its duplicates' generations."""
    by_item = generation_refs(session, refs)
    owners: dict[str, list[int]] = {}
    for item_id, item_refs in by_item.items():
        for ref in item_refs:
            owners.setdefault(ref, []).append(item_id)
    types: dict[int, dict[str, int]] = {i: {} for i in refs}
    ratings: dict[int, dict[int, int]] = {i: {} for i in refs}
    for chunk in chunks(list(owners), 1000):
        query = (
            select(Event.generation_ref, Event.type, Event.rating, func.count())
            .where(Event.project_id == project_id, Event.generation_ref.in_(chunk))
            .group_by(Event.generation_ref, Event.type, Event.rating)
        )
        for ref, event_type, rating, count in session.execute(query):
            for item_id in owners[ref]:
                types[item_id][event_type] = types[item_id].get(event_type, 0) + count
                if rating is not None:
                    ratings[item_id][rating] = ratings[item_id].get(rating, 0) + count
    return {i: Feedback(types[i], ratings[i]) for i in refs}


def latest_tweaks(
    session: Any,
    dialect: str,
    project_id: int,
    owners: Mapping[str, Sequence[int]],
    refs: Sequence[str],
) -> dict[int, str]:
    """The latest tweak text among `refs` (generation refs), for each item that owns one."""
    latest: dict[int, tuple[Any, str]] = {}
    for start in range(0, len(refs), 5000):
        rows = session.execute(
            select(Event.generation_ref, Event.occurred_at, Event.id, Event.text).where(
                Event.project_id == project_id,
                Event.type == "tweak",
                Event.text.is_not(None),
                # screened text only (a row from before revision 0006 may wait raw)
                or_(Event.screening.is_(None), Event.screening != PENDING),
                among(Event.generation_ref, refs[start : start + 5000], dialect),
            )
        )
        for ref, occurred, event_id, text in rows:
            for item_id in owners[ref]:
                key = (occurred, event_id)
                if item_id not in latest or key > latest[item_id][0]:
                    latest[item_id] = (key, text)
    return {i: t for i, (_, t) in latest.items() if t and t.strip()}


