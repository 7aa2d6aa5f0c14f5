"""Generations: store idempotently, read back with the feedback that names them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app.feedback import SignalMap
from app.models import Event, Generation
from app.models.base import utcnow
from app.payloads.common import Screening
from app.payloads.generations import (
    FeedbackSummary,
    GenerationIn,
    GenerationOut,
    ModelRef,
    PromptRef,
    TokenUsage,
)
from app.services.ingest import Outcome, body_hash, store_rows
from app.services.screening import PENDING, Sealing

GENERATIONS = cast(Table, Generation.__table__)


def generation_row(session: Session, project_id: int, g: GenerationIn, received_at: datetime,
                   sealing: Sealing) -> dict[str, Any]:
    free = sealing.fields(session, project_id, None, g.metadata)
    return {
        "project_id": project_id,
        "external_id": g.id,
        "trace_id": g.trace_id,
        "conversation_id": g.conversation_id,
        "feature": g.feature,
        "model_name": g.model.name,
        "model_version": g.model.version,
        "prompt_id": g.prompt.id if g.prompt else None,
        "prompt_version": g.prompt.version if g.prompt else None,
        "user_id": g.user_id,
        "org_id": g.org_id,
        "latency_ms": g.latency_ms,
        "input_tokens": g.tokens.input if g.tokens else None,
        "output_tokens": g.tokens.output if g.tokens else None,
        "cost_usd": g.cost_usd,
        "metadata": free["metadata"],  # the column behind the ORM attribute `meta`
        "sealed": free["sealed"],
        "screening": free["screening"],
        "created_at": g.created_at,
        "received_at": received_at,
        "body_hash": body_hash(g),
    }


def store_generations(
    session: Session, project_id: int, generations: Sequence[GenerationIn], *, sealing: Sealing
) -> list[Outcome]:
    now = utcnow()
    rows = [generation_row(session, project_id, g, now, sealing) for g in generations]
    return store_rows(session, GENERATIONS, project_id, rows)


def get_generation(session: Session, project_id: int, external_id: str) -> Generation | None:
    return session.scalar(
        select(Generation).where(
            Generation.project_id == project_id, Generation.external_id == external_id
        )
    )


def feedback_summary(
    session: Session, project_id: int, external_id: str | Sequence[str], signals: SignalMap
) -> FeedbackSummary:
    """Counts by type and signal over one generation or several (an item and its duplicates);
    signals come from the project's map at read time."""
    refs = [external_id] if isinstance(external_id, str) else list(external_id)
    query = (
        select(Event.type, Event.rating, func.count(), func.max(Event.occurred_at))
        .where(Event.project_id == project_id, Event.generation_ref.in_(refs))
        .group_by(Event.type, Event.rating)
    )
    by_type: dict[str, int] = {}
    by_signal: dict[str, int] = {}
    total = score = rating_sum = rating_n = 0
    last: datetime | None = None
    for event_type, rating, count, latest in session.execute(query):
        signal = signals.signal(event_type, rating)
        by_type[event_type] = by_type.get(event_type, 0) + count
        by_signal[signal] = by_signal.get(signal, 0) + count
        total += count
        score += signal.score * count
        if rating is not None:
            rating_sum += rating * count
            rating_n += count
        if latest is not None and (last is None or latest > last):
            last = latest
    return FeedbackSummary(
        events=total,
        by_type=by_type,
        by_signal=by_signal,  # type: ignore[arg-type]
        score=round(score / total, 4) if total else None,
        rating_mean=round(rating_sum / rating_n, 4) if rating_n else None,
        last_event_at=last,
    )


def to_out(g: Generation, summary: FeedbackSummary | None = None) -> GenerationOut:
    tokens = None
    if g.input_tokens is not None or g.output_tokens is not None:
        tokens = TokenUsage(input=g.input_tokens, output=g.output_tokens)
    return GenerationOut(
        id=g.external_id,
        trace_id=g.trace_id,
        conversation_id=g.conversation_id,
        feature=g.feature,
        model=ModelRef(name=g.model_name, version=g.model_version),
        prompt=PromptRef(id=g.prompt_id, version=g.prompt_version) if g.prompt_id else None,
        user_id=g.user_id,
        org_id=g.org_id,
        latency_ms=g.latency_ms,
        tokens=tokens,
        cost_usd=g.cost_usd,
        metadata=None if g.screening == PENDING else g.meta,  # never unscreened
        screening=cast(Screening | None, g.screening),
        created_at=g.created_at,
        received_at=g.received_at,
        feedback=summary,
    )
