"""Generation payloads: the output a user reacted to, with everything needed to slice by."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from app.feedback import Signal
from app.payloads.common import (
    MAX_INT32,
    SCREENING_DESCRIPTION,
    Identifier,
    Label,
    Metadata,
    Screening,
    Timestamp,
)

Count = Annotated[StrictInt, Field(ge=0, le=MAX_INT32)]


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label
    version: Label | None = Field(default=None, description="The pinned version or snapshot.")


class PromptRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Label
    version: Label | None = None


class TokenUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: Count | None = None
    output: Count | None = None


class GenerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier = Field(description="The client's generation id; reposting it is idempotent.")
    trace_id: Identifier | None = None
    conversation_id: Identifier | None = None
    feature: Label | None = Field(default=None, description="Feature or component name.")
    model: ModelRef
    prompt: PromptRef | None = None
    user_id: Identifier | None = Field(default=None, description="Pseudonymous user id.")
    org_id: Identifier | None = None
    latency_ms: Count | None = None
    tokens: TokenUsage | None = None
    cost_usd: Annotated[StrictFloat, Field(ge=0, le=1_000_000)] | None = None
    metadata: Metadata | None = None
    created_at: Timestamp | None = None


class FeedbackSummary(BaseModel):
    events: int
    by_type: dict[str, int]
    by_signal: dict[Signal, int]
    score: float | None = Field(description="Mean signal score, -2 (strong negative) to +2.")
    rating_mean: float | None
    last_event_at: datetime | None


class GenerationOut(GenerationIn):
    received_at: datetime
    screening: Screening | None = Field(default=None, description=SCREENING_DESCRIPTION)
    feedback: FeedbackSummary | None = None
