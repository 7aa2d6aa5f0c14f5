"""Feedback event payloads: one model per event type, discriminated by `type`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from app.feedback import Kind, Signal
from app.payloads.common import (
    SCREENING_DESCRIPTION,
    Identifier,
    Metadata,
    Screening,
    ShortLabel,
    Text,
    Timestamp,
)
from app.payloads.conversations import SharedConversation
from app.payloads.problem import ProblemFieldError


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Identifier = Field(description="The client's event id; retries with the same id are "
                           "idempotent.")
    generation_id: Identifier = Field(description="The client's id of the generation this "
                                      "feedback is about; it may be posted later.")
    user_id: Identifier | None = Field(default=None, description="Pseudonymous user id.")
    timestamp: Timestamp | None = Field(
        default=None, description="When the user reacted (RFC 3339 with offset); defaults to "
        "the time of receipt.")
    metadata: Metadata | None = None


class ThumbsUp(_EventBase):
    type: Literal["thumbs_up"]


class ThumbsDown(_EventBase):
    type: Literal["thumbs_down"]


class RatingEvent(_EventBase):
    type: Literal["rating"]
    rating: Annotated[StrictInt, Field(ge=1, le=5, description="1 (worst) to 5 (best).")]


class CommentEvent(_EventBase):
    type: Literal["comment"]
    text: Text


class FlagEvent(_EventBase):
    type: Literal["flag"]
    reason: ShortLabel | None = Field(default=None,
                                      description="Category, e.g. harmful, incorrect, spam.")
    text: Text | None = None


class ShareEvent(_EventBase):
    type: Literal["share"]
    conversation: SharedConversation | None = Field(
        default=None, description="The conversation the user shared, with their consent; it "
        "becomes a curation item whose id is this event's id.")


class AcceptEvent(_EventBase):
    type: Literal["accept"]


class TweakEvent(_EventBase):
    type: Literal["tweak"]
    text: Text = Field(description="The output as the user edited it.")


class IgnoreEvent(_EventBase):
    type: Literal["ignore"]


class RegenerateEvent(_EventBase):
    type: Literal["regenerate"]


class CopyEvent(_EventBase):
    type: Literal["copy"]


class AbandonEvent(_EventBase):
    type: Literal["abandon"]


class RankEvent(_EventBase):
    """The user saw several answers to the same prompt (generations of one conversation) and
    put this one at `rank`; preference pairs follow the ranking."""

    type: Literal["rank"]
    rank: Annotated[StrictInt, Field(ge=1, le=100, description="1 = best.")]


EventIn = Annotated[
    ThumbsUp | ThumbsDown | RatingEvent | CommentEvent | FlagEvent | ShareEvent | AcceptEvent
    | TweakEvent | IgnoreEvent | RegenerateEvent | CopyEvent | AbandonEvent | RankEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[EventIn] = TypeAdapter(EventIn)
EVENT_LIST_ADAPTER: TypeAdapter[list[EventIn]] = TypeAdapter(list[EventIn])


class EventBatchIn(BaseModel):
    """A batch: each event is accepted or refused on its own, answered in `results`."""

    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class EventOut(BaseModel):
    id: str
    type: str
    kind: Kind
    signal: Signal
    generation_id: str
    user_id: str | None = None
    rating: int | None = None
    rank: int | None = None
    text: str | None = Field(default=None, description="Redacted; null while `screening` is "
                             "pending.")
    reason: str | None = None
    timestamp: datetime
    received_at: datetime
    metadata: dict[str, object] | None = Field(default=None, description="Redacted string "
                                               "values; null while `screening` is pending.")
    screening: Screening | None = Field(default=None, description=SCREENING_DESCRIPTION)


ResultStatus = Literal["created", "duplicate", "conflict", "invalid"]


class EventResult(BaseModel):
    index: int
    id: str | None = None
    status: ResultStatus
    errors: list[ProblemFieldError] | None = None


class BatchSummary(BaseModel):
    created: int = 0
    duplicate: int = 0
    conflict: int = 0
    invalid: int = 0


class BatchResult(BaseModel):
    results: list[EventResult]
    summary: BatchSummary


class EventPage(BaseModel):
    data: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at "
                                    "the end.")
