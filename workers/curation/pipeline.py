"""The curation stages behind one interface, run in order: PII, dedupe, pranks.

A stage takes the work so far and returns it, possibly with a final state; the first stage to
set one ends the run. Stages are pure but for the dedupe index they are given (Redis or
memory), whose find_or_add is idempotent per item, so running an item twice gives the same
outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from workers.curation.dedupe import conversation_text, exact_key
from workers.curation.dedupe_index import DedupeIndex
from workers.curation.pii import PiiScreener
from workers.curation.pranks import Context, PrankConfig, judge, load
from workers.curation.types import Finding, Signal, Turn


@dataclass(frozen=True)
class Work:
    project_id: int
    item_id: int
    turns: tuple[Turn, ...]  # raw until the PII stage, redacted after it
    context: Context = field(default_factory=Context)
    state: str | None = None  # set by the stage that decides
    findings: tuple[Finding, ...] = ()
    signals: tuple[Signal, ...] = ()
    reasons: tuple[str, ...] = ()
    content_hash: str | None = None
    duplicate_of: int | None = None
    duplicate_kind: str | None = None
    similarity: float | None = None
    redacted: bool = False


class Stage(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, work: Work) -> Work: ...


@dataclass(frozen=True)
class PiiStage:
    screener: PiiScreener
    name: str = "pii"

    def __call__(self, work: Work) -> Work:
        result = self.screener.screen(work.turns)
        work = replace(work, turns=result.turns, findings=result.findings, redacted=True)
        if result.rejected_types:
            types = ", ".join(sorted(result.rejected_types))
            return replace(
                work,
                state="rejected_pii",
                reasons=(*work.reasons, f"contains {types}, which policy rejects"),
            )
        return work


@dataclass(frozen=True)
class DedupeStage:
    index: DedupeIndex
    name: str = "dedupe"

    def __call__(self, work: Work) -> Work:
        text = conversation_text(work.turns)
        work = replace(work, content_hash=exact_key(text))
        match = self.index.find_or_add(work.project_id, work.item_id, text)
        if match is None:
            return work
        how = "exact copy" if match.kind == "exact" else f"near copy ({match.similarity:.2f})"
        return replace(
            work,
            state="duplicate",
            duplicate_of=match.item_id,
            duplicate_kind=match.kind,
            similarity=match.similarity,
            reasons=(*work.reasons, f"{how} of an earlier item"),
        )


@dataclass(frozen=True)
class PrankStage:
    config: PrankConfig = field(default_factory=PrankConfig)
    name: str = "pranks"

    def load(self) -> None:
        """Models and rules in memory before the first item (`pranks.load`)."""
        load()

    def __call__(self, work: Work) -> Work:
        verdict = judge(work.turns, work.context, self.config)
        reasons = tuple(
            f"{s.category}: {s.reason}"
            for s in verdict.signals
            if s.score >= self.config.quarantine_at
        )
        state = {"accept": "accepted", "quarantine": "quarantined", "reject": "rejected_prank"}[
            verdict.decision
        ]
        return replace(
            work, state=state, signals=verdict.signals, reasons=(*work.reasons, *reasons)
        )


class StageFailed(Exception):
    """A stage raised. The message names the stage and the error type only: exception messages
    from libraries can quote the text they were given, and raw text must not reach logs."""


@dataclass(frozen=True)
class Pipeline:
    stages: Sequence[Stage]

    def run(self, work: Work) -> Work:
        for stage in self.stages:
            try:
                work = stage(work)
            except Exception as exc:
                raise StageFailed(f"stage {stage.name} failed: {type(exc).__name__}") from None
            if work.state is not None:
                break
        if work.state is None:  # every stage passed it
            work = replace(work, state="accepted")
        if not work.redacted:
            raise StageFailed("no PII stage ran: refusing to keep unscreened text")
        return work
