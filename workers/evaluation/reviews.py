"""Each curation stage's precision against the decisions people made on production data.

An item's first review starts from the machine's decision; its last review ends at the human's
final say. A stage's decision stands when the person confirmed it (or, for a quarantine, rejected
the item) and is overturned when they released or split it out. Accepted items a person rejected
are what the prank stage missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Review
from app.models.item import ACCEPTED_STATES

# The machine's decision -> the stage that made it, and the final states that agree with it.
STAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "rejected_pii": ("pii", ("rejected_pii",)),
    "duplicate": ("dedupe", ("duplicate",)),
    "rejected_prank": ("pranks", ("rejected_prank",)),
    "quarantined": ("pranks", ("rejected_prank",)),
    **{state: ("accepted", ACCEPTED_STATES) for state in ACCEPTED_STATES},
}


def outcomes(session: Session, project_id: int) -> list[tuple[str, str]]:
    """(machine decision, human final state) for every item people decided on."""
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for item_id, source, target in session.execute(
        select(Review.item_id, Review.from_state, Review.to_state)
        .where(Review.project_id == project_id).order_by(Review.item_id, Review.id)
    ):
        first.setdefault(item_id, source)
        last[item_id] = target
    return [(first[i], last[i]) for i in first]


def precision(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Per stage: items reviewed, decisions that stood, overturned, and precision."""
    stats: dict[str, dict[str, Any]] = {
        name: {"reviewed": 0, "stood": 0, "overturned": 0, "by_outcome": {}}
        for name in ("pii", "dedupe", "pranks", "accepted")
    }
    for machine, human in pairs:
        if machine not in STAGES:
            continue
        name, agreeing = STAGES[machine]
        stage = stats[name]
        stage["reviewed"] += 1
        stood = human in agreeing
        stage["stood" if stood else "overturned"] += 1
        key = f"{machine}->{human}"
        stage["by_outcome"][key] = stage["by_outcome"].get(key, 0) + 1
    for stage in stats.values():
        n = stage["reviewed"]
        stage["precision"] = round(stage["stood"] / n, 4) if n else None
    return stats


def render(project: str, stats: dict[str, Any]) -> str:
    lines = [f"curation decisions against people's reviews (project {project})"]
    for name, stage in stats.items():
        figure = "-" if stage["precision"] is None else f"{stage['precision']:.3f}"
        lines.append(f"  {name:<9} precision={figure} reviewed={stage['reviewed']} "
                     f"stood={stage['stood']} overturned={stage['overturned']}")
    return "\n".join(lines)
