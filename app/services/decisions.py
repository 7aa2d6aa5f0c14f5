"""People overturning or confirming the machine's curation decisions.

Any outcome can be decided again by a person: release (to accepted), reject (as a prank), split
(a duplicate wrongly merged becomes its own item: its vote and its feedback leave the canonical
item, which counts them from its duplicates at read time) and confirm (the decision stands). Each
decision is a `reviews` row with who, when and a note: the item's history, and a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Item, Review
from app.models.base import utcnow
from app.models.item import ACCEPTED_STATES
from app.payloads.reviews import ReviewOut
from app.services.errors import Conflict, NotFound

Action = Literal["release", "reject", "split", "confirm"]

# The states each action may start from. Releasing a rejected_pii item is safe: screening
# replaced every finding (rejected types too) by its placeholder, and the raw text is gone.
FROM_STATES: dict[str, tuple[str, ...]] = {
    "release": ("quarantined", "rejected_prank", "rejected_pii"),
    "reject": ("quarantined", *ACCEPTED_STATES),
    "split": ("duplicate",),
    # Quarantine is no machine decision to confirm: a person releases or rejects it.
    "confirm": ("rejected_pii", "duplicate", "rejected_prank", *ACCEPTED_STATES),
}


def _target(action: Action, item: Item) -> str:
    if action == "reject":
        return "rejected_prank"
    if action == "confirm":
        return item.state
    # An item that already has its Label Studio task goes back to it, not through a new push.
    return "in_annotation" if item.ls_task_id else "accepted"


def decide(session: Session, project_id: int, external_id: str, action: Action, *,
           actor: str, note: str | None = None) -> Item:
    """Apply one person's decision. A decision the item's state does not allow, or one that
    lost a race with another (the state changed meanwhile), is a Conflict and changes nothing."""
    item = session.scalar(select(Item).where(Item.project_id == project_id,
                                             Item.external_id == external_id))
    if item is None:
        raise NotFound("no item with that id in this project")
    allowed = FROM_STATES[action]
    if item.state not in allowed:
        raise Conflict(f"item is {item.state}; {action} applies to items in "
                       f"{', '.join(sorted(set(allowed)))}")
    source, target = item.state, _target(action, item)
    canonical = None
    if action == "split" and item.duplicate_of_id is not None:
        canonical = session.scalar(select(Item.external_id)
                                   .where(Item.id == item.duplicate_of_id))
    now = utcnow()
    reasons = list(item.reasons or [])
    if action != "confirm":
        reasons.append(f"{_past(action)} by {actor}" + (f": {note}" if note else ""))
    values: dict[str, object] = {"state": target, "reviewed_at": now, "reviewed_by": actor,
                                 "reasons": reasons}
    if action == "split":
        values.update(duplicate_of_id=None, duplicate_kind=None, similarity=None)
    done = session.execute(update(Item).where(Item.id == item.id, Item.state == source)
                           .values(**values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("item was decided by someone else meanwhile")
    session.add(Review(project_id=project_id, item_id=item.id, action=action,
                       from_state=source, to_state=target, actor=actor, at=now, note=note,
                       duplicate_of=canonical))
    session.flush()
    session.refresh(item)
    return item


def _past(action: str) -> str:
    return {"release": "released", "reject": "rejected", "split": "split out",
            "confirm": "confirmed"}[action]


def history(session: Session, item_ids: Sequence[int]) -> dict[int, list[ReviewOut]]:
    """The decisions on these items, oldest first."""
    out: dict[int, list[ReviewOut]] = {}
    if not item_ids:
        return out
    for r in session.scalars(select(Review).where(Review.item_id.in_(list(item_ids)))
                             .order_by(Review.item_id, Review.id)):
        out.setdefault(r.item_id, []).append(
            ReviewOut(action=r.action, from_state=r.from_state,  # type: ignore[arg-type]
                      to_state=r.to_state, by=r.actor, at=r.at, note=r.note,
                      duplicate_of=r.duplicate_of))
    return out
