"""The agreement report: GET /v1/projects/{project}/agreement."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ItemAgreementOut(BaseModel):
    item_id: str
    verdicts: int
    good: int
    bad: int
    percent_agreement: float | None = Field(description="Share of annotator pairs that agree")
    majority: str | None


class FeedbackPredictionOut(BaseModel):
    feedback: str = Field(description="An event type, or rating_N")
    predicts: str = Field(description="The verdict this feedback implies: good or bad")
    items: int = Field(description="Annotated items (with a majority verdict) that had it")
    agree: int
    agreement: float | None = Field(description="agree / items")


class AgreementOut(BaseModel):
    project: str
    annotations: int = Field(description="Live review annotations (not deleted, not skipped)")
    annotators: int
    items_annotated: int
    items_with_overlap: int = Field(description="Items with two or more verdicts")
    percent_agreement: float | None
    krippendorff_alpha: float | None = Field(description="Nominal, on the verdict")
    items: list[ItemAgreementOut] = Field(description="Items with two or more verdicts")
    feedback: list[FeedbackPredictionOut]
