"""The feedback taxonomy as the API shows it, and a project's overrides."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.feedback import Kind, Signal


class EventTypeOut(BaseModel):
    name: str
    kind: Kind
    description: str
    default_signal: Signal
    signal: Signal = Field(description="The signal in this project, overrides applied.")


class TaxonomyOut(BaseModel):
    event_types: list[EventTypeOut]
    ratings: dict[str, Signal] = Field(description="Signal of each rating value 1-5.")
    overrides: dict[str, dict[str, Signal]] | None


class SignalOverridesIn(BaseModel):
    """Replaces the project's overrides; an empty object restores the defaults."""

    model_config = ConfigDict(extra="forbid")
    types: dict[str, Signal] = Field(default_factory=dict)
    ratings: dict[str, Signal] = Field(default_factory=dict, description="Keys '1'-'5'.")
