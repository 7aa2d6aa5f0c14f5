"""Prank filter stage: pure detectors over a shared conversation, then accept / quarantine /
reject.

Each detector is a small pure function `(PrankInput, PrankConfig) -> Signal | None`, listed in
`DETECTORS`; to extend the stage, write one and add it there. Detectors look at the *user*
turns (assistant turns are model output), except that a conversation without user text is
"empty". `decide` turns the signals into a `Verdict`: the highest score >= `reject_at`
rejects, >= `quarantine_at` quarantines (a person decides), anything lower is accepted with
the signals kept for the record.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.curation import gibberish, overrides, prank_jailbreak, prank_spam
from workers.curation.deobfuscate import views
from workers.curation.prank_base import Context, Detector, PrankConfig, PrankInput, known_words
from workers.curation.prank_detectors import (
    detect_abuse,
    detect_empty,
    detect_gibberish,
    detect_repetition,
    detect_share_burst,
    detect_test_string,
)
from workers.curation.prank_jailbreak import detect_jailbreak
from workers.curation.prank_spam import detect_spam
from workers.curation.types import Decision, Signal, Turn, Verdict

__all__ = [
    "DETECTORS",
    "Context",
    "Detector",
    "PrankConfig",
    "PrankInput",
    "decide",
    "detect",
    "judge",
    "load",
]

DETECTORS: tuple[Detector, ...] = (
    detect_empty,
    detect_test_string,
    detect_gibberish,
    detect_repetition,
    detect_spam,
    detect_abuse,
    detect_jailbreak,
    detect_share_burst,
)

def load() -> None:
    """Load the detectors' models and compiled rules now (a worker calls this at start), so
    that the first job does not pay for them."""
    prank_jailbreak.model()
    prank_spam.model()
    gibberish.model()
    overrides.find_override("")
    known_words("en")
    views("load")


_DEFAULT_CONTEXT = Context()
_DEFAULT_CONFIG = PrankConfig()


def detect(
    turns: Sequence[Turn],
    context: Context = _DEFAULT_CONTEXT,
    config: PrankConfig = _DEFAULT_CONFIG,
    detectors: Sequence[Detector] = DETECTORS,
) -> tuple[Signal, ...]:
    """Run every detector; return the signals with a score > 0, highest score first."""
    x = PrankInput.build(turns, context)
    signals = []
    for detector in detectors:
        signal = detector(x, config)
        if signal is not None and signal.score > 0:
            signals.append(Signal(signal.category, min(max(signal.score, 0.0), 1.0), signal.reason))
    signals.sort(key=lambda s: -s.score)
    return tuple(signals)


def decide(signals: Sequence[Signal], thresholds: PrankConfig = _DEFAULT_CONFIG) -> Verdict:
    top = max((s.score for s in signals), default=0.0)
    decision: Decision
    if top >= thresholds.reject_at:
        decision = "reject"
    elif top >= thresholds.quarantine_at:
        decision = "quarantine"
    else:
        decision = "accept"
    return Verdict(decision, tuple(signals))


def judge(
    turns: Sequence[Turn],
    context: Context = _DEFAULT_CONTEXT,
    config: PrankConfig = _DEFAULT_CONFIG,
) -> Verdict:
    """detect + decide."""
    return decide(detect(turns, context, config), config)
