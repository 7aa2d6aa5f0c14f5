"""The values every curation stage takes and returns; no I/O, no database, no Redis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant", "tool"]
Decision = Literal["accept", "quarantine", "reject"]


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One PII entity found; offsets are into the *redacted* text of turn `turn`, never the raw."""

    entity_type: str
    turn: int
    start: int
    end: int
    placeholder: str
    score: float


@dataclass(frozen=True, slots=True)
class PiiResult:
    turns: tuple[Turn, ...]  # redacted
    findings: tuple[Finding, ...]
    # Entity types whose policy is "reject" and that were found; non-empty => item rejected_pii.
    rejected_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signal:
    """What one prank detector says: a score in [0, 1] and a reason a person can read."""

    category: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    signals: tuple[Signal, ...] = field(default=())
