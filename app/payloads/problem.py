"""The RFC 9457 problem document every error answer carries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProblemFieldError(BaseModel):
    pointer: str = Field(description="JSON Pointer (RFC 6901) into the request body.")
    field: str = Field(description="The offending field as a dotted path.")
    detail: str


class ProblemOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(description="A URN naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
