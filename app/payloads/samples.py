"""Daily samples of production traffic and the verdicts people give them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.payloads.common import Label
from app.payloads.conversations import RedactedMessage


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL")
    return value


VerdictName = Literal["good", "bad", "unsure"]


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: VerdictName
    failure_modes: list[Label] = Field(
        default_factory=list, max_length=20,
        description="What went wrong, e.g. hallucination, wrong or incomplete, off-topic, "
        "unsafe, format, other (the Label Studio review's choices, or your own).")
    note: Annotated[str, Field(max_length=2000), AfterValidator(_no_nul)] | None = None


class VerdictOut(BaseModel):
    item_id: str
    date: date
    verdict: VerdictName
    failure_modes: list[str]
    note: str | None
    by: str = Field(description="`key:<prefix>` of the API key, or `cli:<login>`.")
    at: datetime


class SampleFeedback(BaseModel):
    by_type: dict[str, int] = Field(description="Events on the item's generations, per type.")
    score: float | None = Field(description="Mean signal score, -2..+2 (project taxonomy).")
    negative: bool = Field(description="The score is below 0.")


class SampledItem(BaseModel):
    item_id: str
    received_at: datetime
    stratum: str = Field(description="The model version it was drawn for: `name@version`.")
    model: str | None
    model_version: str | None
    prompt_id: str | None
    prompt_version: str | None
    feature: str | None
    new_prompt_version: bool = Field(
        description="Its prompt version first appeared in the 7 days up to the date (drawn "
        "with 3 times the weight).")
    messages: list[RedactedMessage] = Field(description="The redacted conversation.")
    feedback: SampleFeedback
    verdict: VerdictOut | None


class StratumOut(BaseModel):
    stratum: str
    population: int
    negative: int
    sampled: int


class SampleOut(BaseModel):
    date: date
    size: int = Field(description="Asked for; `items` holds fewer when the day had fewer.")
    population: int = Field(description="Accepted items received that day (UTC).")
    strata: list[StratumOut]
    items: list[SampledItem] = Field(
        description="Items with negative feedback first, then the rest, each in draw order.")
