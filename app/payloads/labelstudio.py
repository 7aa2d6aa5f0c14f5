"""Label Studio's webhook payload (only what Winnow reads) and the answers about annotation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int = Field(ge=1)


class _AnnotationRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int = Field(ge=1)
    task: int | None = Field(default=None, ge=1)


class LabelStudioHookIn(BaseModel):
    """What Label Studio sends for ANNOTATION_CREATED / _UPDATED / ANNOTATIONS_DELETED."""

    model_config = ConfigDict(extra="ignore")
    action: str = Field(max_length=64)
    project: _Ref | None = None
    task: _Ref | None = None
    annotation: _AnnotationRef | None = None
    annotations: list[_AnnotationRef] | None = Field(default=None, max_length=10_000)


class HookAccepted(BaseModel):
    action: str
    tasks: list[int]
    annotations: list[int]
    job_id: str | None = Field(description="The sync job enqueued, if any")
