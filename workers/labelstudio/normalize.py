"""Label Studio annotation JSON -> Winnow's normalized fields (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The review config's choice labels -> stored keys.
FAILURE_MODES = {
    "hallucination": "hallucination",
    "wrong or incomplete": "wrong_or_incomplete",
    "off-topic": "off_topic",
    "unsafe": "unsafe",
    "format": "format",
    "other": "other",
}
VERDICTS = ("good", "bad")


@dataclass(frozen=True)
class Normalized:
    ls_annotation_id: int
    ls_task_id: int
    annotator: str | None
    verdict: str | None
    failure_modes: list[str] | None
    correction: str | None
    rating: int | None
    preference: str | None
    skipped: bool
    lead_time: float | None
    created_at: datetime
    updated_at: datetime


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _annotator(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for key in ("email", "username", "id"):
            if value.get(key):
                return str(value[key])
        return None
    return None if value is None else str(value)


def normalize(annotation: Mapping[str, Any], task_id: int | None = None) -> Normalized:
    verdict = preference = correction = None
    modes: list[str] | None = None
    rating: int | None = None
    for region in annotation.get("result") or []:
        name = region.get("from_name")
        value = region.get("value") or {}
        if name == "verdict":
            chosen = [c for c in value.get("choices") or [] if c in VERDICTS]
            verdict = chosen[0] if chosen else None
        elif name == "failure_modes":
            modes = sorted(
                {FAILURE_MODES[c] for c in value.get("choices") or [] if c in FAILURE_MODES}
            )
        elif name == "correction":
            texts = [str(t) for t in value.get("text") or [] if str(t).strip()]
            correction = "\n".join(texts) if texts else None
        elif name == "rating":
            r = value.get("rating")
            rating = int(r) if isinstance(r, int | float) and 1 <= r <= 5 else None
        elif name == "preference":
            side = value.get("selected")
            preference = {"left": "original", "right": "tweaked"}.get(str(side))
    lead = annotation.get("lead_time")
    task = annotation.get("task", task_id)
    if isinstance(task, Mapping):
        task = task.get("id")
    return Normalized(
        ls_annotation_id=int(annotation["id"]),
        ls_task_id=int(task if task is not None else 0),
        annotator=_annotator(annotation.get("completed_by")),
        verdict=verdict,
        failure_modes=modes,
        correction=correction,
        rating=rating,
        preference=preference,
        skipped=bool(annotation.get("was_cancelled")),
        lead_time=float(lead) if isinstance(lead, int | float) else None,
        created_at=_when(annotation.get("created_at")),
        updated_at=_when(annotation.get("updated_at") or annotation.get("created_at")),
    )
