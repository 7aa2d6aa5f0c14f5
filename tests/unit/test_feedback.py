"""The taxonomy maps each reaction to the signal the issue prescribes."""

from __future__ import annotations

import typing

from app.feedback import DEFAULT_SIGNAL_MAP, EVENT_TYPES, Kind, Signal, SignalMap
from app.payloads.events import EventIn


def test_prescribed_signals() -> None:
    m = DEFAULT_SIGNAL_MAP
    assert m.signal("accept") is Signal.STRONG_POSITIVE
    assert m.signal("tweak") is Signal.POSITIVE
    assert m.signal("ignore") is Signal.NEGATIVE
    assert m.signal("thumbs_up") is Signal.POSITIVE
    assert m.signal("thumbs_down") is Signal.NEGATIVE
    assert m.signal("regenerate") is Signal.STRONG_NEGATIVE
    assert [m.signal("rating", r) for r in range(1, 6)] == [
        Signal.STRONG_NEGATIVE,
        Signal.NEGATIVE,
        Signal.NEUTRAL,
        Signal.POSITIVE,
        Signal.STRONG_POSITIVE,
    ]


def test_kinds() -> None:
    explicit = {n for n, t in EVENT_TYPES.items() if t.kind is Kind.EXPLICIT}
    implicit = {n for n, t in EVENT_TYPES.items() if t.kind is Kind.IMPLICIT}
    assert explicit == {"thumbs_up", "thumbs_down", "rating", "comment", "flag", "share", "rank"}
    assert implicit == {"accept", "tweak", "ignore", "regenerate", "copy", "abandon"}


def test_payload_union_covers_exactly_the_taxonomy() -> None:
    union = typing.get_args(EventIn)[0]
    tags = {typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)}
    assert tags == set(EVENT_TYPES)


def test_overrides_change_only_what_they_name() -> None:
    m = SignalMap.from_overrides(
        {"types": {"copy": "strong_positive"}, "ratings": {"3": "negative"}}
    )
    assert m.signal("copy") is Signal.STRONG_POSITIVE
    assert m.signal("rating", 3) is Signal.NEGATIVE
    assert m.signal("rating", 4) is Signal.POSITIVE
    assert m.signal("accept") is Signal.STRONG_POSITIVE
    assert Signal.STRONG_NEGATIVE.score == -2 and Signal.NEUTRAL.score == 0
