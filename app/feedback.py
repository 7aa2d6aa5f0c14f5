"""The feedback taxonomy as data: every event type, its kind, and the signal it maps to.

A project may override the signal of any type (and of each rating value); the overrides are
applied when events are read, so a changed map re-reads history consistently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Signal(StrEnum):
    STRONG_POSITIVE = "strong_positive"
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    STRONG_NEGATIVE = "strong_negative"

    @property
    def score(self) -> int:
        """-2 … +2, so signals can be summed and averaged."""
        return _SCORES[self]


_SCORES = {
    Signal.STRONG_POSITIVE: 2,
    Signal.POSITIVE: 1,
    Signal.NEUTRAL: 0,
    Signal.NEGATIVE: -1,
    Signal.STRONG_NEGATIVE: -2,
}


class Kind(StrEnum):
    EXPLICIT = "explicit"
    IMPLICIT = "implicit"


@dataclass(frozen=True)
class EventType:
    name: str
    kind: Kind
    signal: Signal
    description: str


RATING = "rating"
RANK = "rank"

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("thumbs_up", Kind.EXPLICIT, Signal.POSITIVE, "The user gave a thumbs up."),
        EventType("thumbs_down", Kind.EXPLICIT, Signal.NEGATIVE, "The user gave a thumbs down."),
        EventType(RATING, Kind.EXPLICIT, Signal.NEUTRAL, "A 1-5 rating; signal by value."),
        EventType("comment", Kind.EXPLICIT, Signal.NEUTRAL, "A free-text comment."),
        EventType("flag", Kind.EXPLICIT, Signal.STRONG_NEGATIVE, "Reported as harmful or wrong."),
        EventType("share", Kind.EXPLICIT, Signal.NEUTRAL, "The user shared the conversation."),
        EventType("accept", Kind.IMPLICIT, Signal.STRONG_POSITIVE, "Suggestion used as is."),
        EventType("tweak", Kind.IMPLICIT, Signal.POSITIVE, "Suggestion accepted, then edited."),
        EventType("ignore", Kind.IMPLICIT, Signal.NEGATIVE, "Suggestion shown and not used."),
        EventType("regenerate", Kind.IMPLICIT, Signal.STRONG_NEGATIVE, "Asked for another."),
        EventType("copy", Kind.IMPLICIT, Signal.POSITIVE, "The output was copied."),
        EventType("abandon", Kind.IMPLICIT, Signal.NEGATIVE, "The user left without using it."),
        EventType(
            RANK,
            Kind.EXPLICIT,
            Signal.NEUTRAL,
            "Ranked among alternatives for the same prompt (1 = best); orders preference pairs.",
        ),
    )
}

RATING_SIGNALS: dict[int, Signal] = {
    1: Signal.STRONG_NEGATIVE,
    2: Signal.NEGATIVE,
    3: Signal.NEUTRAL,
    4: Signal.POSITIVE,
    5: Signal.STRONG_POSITIVE,
}


@dataclass(frozen=True)
class SignalMap:
    """The effective map of one project: defaults with its overrides applied."""

    types: Mapping[str, Signal]
    ratings: Mapping[int, Signal]

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> SignalMap:
        types = {name: t.signal for name, t in EVENT_TYPES.items()}
        ratings = dict(RATING_SIGNALS)
        if overrides:
            for name, signal in (overrides.get("types") or {}).items():
                types[name] = Signal(signal)
            for value, signal in (overrides.get("ratings") or {}).items():
                ratings[int(value)] = Signal(signal)
        return cls(types=types, ratings=ratings)

    def signal(self, event_type: str, rating: int | None = None) -> Signal:
        if event_type == RATING and rating is not None:
            return self.ratings[rating]
        return self.types[event_type]

    def as_dict(self) -> dict[str, Any]:
        return {
            "types": {name: str(s) for name, s in self.types.items()},
            "ratings": {str(v): str(s) for v, s in sorted(self.ratings.items())},
        }


DEFAULT_SIGNAL_MAP = SignalMap.from_overrides(None)
