"""Right of access: what Winnow holds about one user of a project (GET /v1/users/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.payloads.conversations import ItemState, RedactedMessage
from app.payloads.events import EventOut
from app.payloads.generations import GenerationOut
from app.payloads.reviews import ReviewAction


class AccessItem(BaseModel):
    """One of the user's shared conversations, as curation left it (redacted text only)."""

    id: str
    state: ItemState
    source: str
    generation_id: str | None = None
    conversation_id: str | None = None
    messages: list[RedactedMessage] | None = Field(
        description="Redacted text; null until screened (the raw text is never returned).")
    findings: list[str] = Field(description="Types of personal data found and masked.")
    reasons: list[str]
    duplicate_of: str | None = None
    received_at: datetime
    screened_at: datetime | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, description="Redacted; null while the item waits for screening.")


class AccessAnnotation(BaseModel):
    """An annotation of one of the user's items (the annotator's identity and typed correction
    are left out: they are the annotator's, and only screened when a dataset is built)."""

    item_id: str
    kind: str
    verdict: str | None = None
    failure_modes: list[str]
    corrected: bool
    rating: int | None = None
    preference: str | None = None
    created_at: datetime
    deleted_at: datetime | None = None


class AccessDecision(BaseModel):
    """A person's decision on one of the user's items (without the reviewer or their note)."""

    item_id: str
    action: ReviewAction
    from_state: str
    to_state: str
    at: datetime


class DatasetReference(BaseModel):
    """A stored dataset version that holds examples made from the user's items."""

    dataset: str
    version: int
    split: str
    item_id: str
    files: list[str] = Field(description="eval, finetune (and preference, when the item is in a "
                             "pair, which the manifest does not list per item).")


class UserDataOut(BaseModel):
    user_id: str
    complete: bool = Field(description="False when a list was cut at `limit` rows: `counts` "
                           "still give every total.")
    limit: int
    counts: dict[str, int]
    events: list[EventOut] = Field(description="Their events; free text redacted (null while "
                                   "waiting for screening).")
    generations: list[GenerationOut] = Field(
        description="Theirs, and those their items or events are about that name no one else.")
    items: list[AccessItem]
    annotations: list[AccessAnnotation]
    decisions: list[AccessDecision]
    datasets: list[DatasetReference]
