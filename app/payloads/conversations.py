"""Shared conversations (intake) and curation items (what screening made of them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, TypeAdapter

from app.payloads.common import Identifier, Metadata, Timestamp
from app.payloads.generations import FeedbackSummary
from app.payloads.reviews import ReviewOut

MAX_MESSAGE_CHARS = 50_000
MAX_MESSAGES = 200


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


MessageText = Annotated[
    str,
    Field(max_length=MAX_MESSAGE_CHARS, description="The message text; may be empty."),
    AfterValidator(_no_nul),
]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: MessageText


def _consented(value: bool) -> bool:
    if value is not True:
        raise ValueError("the user must have agreed to share this conversation (consent: true);"
                         " nothing was stored")
    return value


Consent = Annotated[
    StrictBool,
    AfterValidator(_consented),
    Field(description="The user agreed to share this conversation for review. Must be true."),
]

Messages = Annotated[list[Message], Field(min_length=1, max_length=MAX_MESSAGES)]


class SharedConversation(BaseModel):
    """The conversation a `share` event carries."""

    model_config = ConfigDict(extra="forbid")
    messages: Messages
    consent: Consent


class ConversationIn(BaseModel):
    """A conversation shared for review; becomes a curation item, screened on the queue."""

    model_config = ConfigDict(extra="forbid")
    id: Identifier = Field(description="The client's id for this share; retries with the same id "
                           "are idempotent. A share event's id is its item's id.")
    messages: Messages
    consent: Consent
    generation_id: Identifier | None = Field(
        default=None, description="The generation (usually the last assistant turn) the share "
        "is about; its feedback is counted on the item.")
    conversation_id: Identifier | None = None
    user_id: Identifier | None = Field(default=None, description="Pseudonymous user id.")
    timestamp: Timestamp | None = None
    metadata: Metadata | None = None


CONVERSATION_ADAPTER: TypeAdapter[ConversationIn] = TypeAdapter(ConversationIn)
CONVERSATION_LIST_ADAPTER: TypeAdapter[list[ConversationIn]] = TypeAdapter(list[ConversationIn])


class ConversationBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversations: list[ConversationIn] = Field(min_length=1, max_length=1000)


ItemState = Literal["received", "accepted", "quarantined", "rejected_pii", "duplicate",
                    "rejected_prank", "annotation_pending", "in_annotation", "failed"]


class RedactedMessage(BaseModel):
    role: str
    content: str


class FindingOut(BaseModel):
    entity_type: str
    message: int = Field(description="Index of the message it was found in.")
    start: int = Field(description="Offset of the placeholder in the redacted content.")
    end: int
    placeholder: str
    score: float


class SignalOut(BaseModel):
    category: str
    score: float
    reason: str


class DuplicateOut(BaseModel):
    id: str
    kind: str
    similarity: float | None = None
    user_id: str | None = None


class ItemSummary(BaseModel):
    id: str
    state: ItemState
    source: str
    user_id: str | None = None
    generation_id: str | None = None
    conversation_id: str | None = None
    reasons: list[str]
    votes: int = Field(description="Shares of this conversation: itself and its duplicates.")
    duplicate_of: str | None = None
    received_at: datetime
    screened_at: datetime | None = None


class ItemOut(ItemSummary):
    messages: list[RedactedMessage] | None = Field(
        description="Redacted text; null until screened (the raw text is never returned).")
    findings: list[FindingOut]
    signals: list[SignalOut]
    duplicates: list[DuplicateOut]
    feedback: FeedbackSummary | None = Field(
        description="Feedback on the generations of this item and of its duplicates: a "
        "conversation shared by five users carries five users' votes.")
    similarity: float | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    reviews: list[ReviewOut] = Field(
        default_factory=list, description="Every human decision on the item, oldest first.")
    metadata: dict[str, Any] | None = None


class ItemPage(BaseModel):
    data: list[ItemSummary]
    next_cursor: str | None = None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=500), AfterValidator(_no_nul)] | None = Field(
        default=None, description="Why; kept in the item's review history (`reviews`).")
