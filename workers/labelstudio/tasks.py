"""Label Studio tasks from curated items (pure: no I/O).

A task carries the redacted messages only, the item id, and a one-line summary of the users'
feedback; the feedback also becomes a prediction (a pre-annotation) whose model_version names
its source, e.g. `user-feedback:thumbs_down`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.feedback import RATING, SignalMap
from app.services.items import messages
from app.services.reactions import Feedback

ITEM_KEY = "winnow_item"  # the task data field holding the Winnow item id
REVIEW_TO = "dialogue"  # the object tag the review config's controls point at


def summary(feedback: Feedback) -> str:
    parts = [f"{t} x{n}" for t, n in sorted(feedback.by_type.items()) if t != RATING]
    parts += [f"rated {v} x{n}" for v, n in sorted(feedback.ratings.items())]
    return "User feedback: " + (", ".join(parts) if parts else "none")


def prediction(feedback: Feedback, signals: SignalMap) -> dict[str, Any] | None:
    """The users' verdict as a pre-annotation: good when their reactions lean positive, bad
    when negative; the model_version names the reaction that weighed most for that verdict.
    None when they are neutral or absent."""
    score = feedback.score(signals)
    if score is None or score == 0:
        return None
    verdict = "good" if score > 0 else "bad"
    weights: dict[str, int] = {}
    for event_type, count in feedback.by_type.items():
        if event_type in (RATING, "share", "comment"):
            continue
        weights[event_type] = signals.signal(event_type, None).score * count
    for value, count in feedback.ratings.items():
        weights[f"rating_{value}"] = signals.signal(RATING, value).score * count
    leaning = {k: w for k, w in weights.items() if (w > 0) == (score > 0) and w != 0}
    source = max(sorted(leaning), key=lambda k: abs(leaning[k]))
    result: list[dict[str, Any]] = [
        {
            "from_name": "verdict",
            "to_name": REVIEW_TO,
            "type": "choices",
            "value": {"choices": [verdict]},
        }
    ]
    if feedback.ratings:
        n = sum(feedback.ratings.values())
        mean = sum(v * c for v, c in feedback.ratings.items()) / n
        result.append(
            {
                "from_name": "rating",
                "to_name": REVIEW_TO,
                "type": "rating",
                "value": {"rating": max(1, min(5, round(mean)))},
            }
        )
    return {
        "model_version": f"user-feedback:{source}",
        "score": round(min(abs(score) / 2, 1.0), 3),
        "result": result,
    }


def review_task(
    item_id: int, redacted: Sequence[Mapping[str, Any]], feedback: Feedback, signals: SignalMap
) -> dict[str, Any]:
    task: dict[str, Any] = {
        "data": {
            ITEM_KEY: item_id,
            "messages": messages(redacted),
            "feedback": summary(feedback),
        }
    }
    pred = prediction(feedback, signals)
    if pred is not None:
        task["predictions"] = [pred]
    return task


def order_key(order: str, item_id: int, score: float | None) -> tuple[float, int]:
    """Sort key for which accepted items reach annotators first."""
    if order == "negative_first":
        return (score if score is not None else 0.0, item_id)
    if order == "newest_first":
        return (0.0, -item_id)
    return (0.0, item_id)


__all__ = [
    "ITEM_KEY",
    "order_key",
    "prediction",
    "review_task",
    "summary",
]
