"""Dataset definitions (issue 5): what a dataset selects, how it splits, and how it is named.

The same model reads the API body and the YAML file form (`winnow datasets ...`); names are
restricted to a safe slug because they become parts of storage paths and URLs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StringConstraints,
    model_validator,
)

from app.feedback import Signal
from app.payloads.common import Timestamp
from app.payloads.conversations import ItemOut
from app.payloads.events import EventOut
from app.payloads.generations import GenerationOut

DatasetName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$", strip_whitespace=False)
]


def _failure_mode_key(value: Any) -> Any:
    """Label Studio shows the labels ("off-topic", "wrong or incomplete"); annotations store the
    keys ("off_topic", ...): a selection may name either and keeps the key."""
    if isinstance(value, str):
        return "_".join(value.strip().lower().replace("-", " ").split())
    return value


FailureMode = Annotated[
    Literal["hallucination", "wrong_or_incomplete", "off_topic", "unsafe", "format", "other"],
    BeforeValidator(_failure_mode_key),
]
def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Ref = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]


class Selection(BaseModel):
    """Which items a dataset takes; every given criterion must hold (empty lists are refused:
    leave a criterion out to not filter on it)."""

    model_config = ConfigDict(extra="forbid")
    verdicts: list[Literal["good", "bad"]] | None = Field(default=None, min_length=1)
    failure_modes: list[FailureMode] | None = Field(default=None, min_length=1)
    signals: list[Signal] | None = Field(
        default=None, min_length=1, description="Net user feedback signal of the item"
    )
    min_agreement: StrictFloat | None = Field(
        default=None, ge=0.0, le=1.0, description="Minimum percent agreement on the verdict"
    )
    features: list[Ref] | None = Field(default=None, min_length=1)
    models: list[Ref] | None = Field(
        default=None, min_length=1, description="`name` or `name@version`"
    )
    prompts: list[Ref] | None = Field(
        default=None, min_length=1, description="`id` or `id@version`"
    )
    # RFC 3339 with a time zone (a naive bound beside an aware one could not be compared).
    since: Timestamp | None = None
    until: Timestamp | None = None

    @model_validator(mode="after")
    def _window(self) -> Selection:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class SplitRatios(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train: StrictFloat = Field(default=0.8, ge=0.0, le=1.0)
    validation: StrictFloat = Field(default=0.1, ge=0.0, le=1.0)
    test: StrictFloat = Field(default=0.1, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sum(self) -> SplitRatios:
        if abs(self.train + self.validation + self.test - 1.0) > 1e-9:
            raise ValueError("train + validation + test must be 1")
        return self


class DatasetDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: DatasetName
    purpose: Literal["eval", "finetune", "preference"]
    description: Annotated[str, AfterValidator(_no_nul)] | None = Field(
        default=None, max_length=2000)
    selection: Selection = Field(default_factory=Selection)
    splits: SplitRatios = Field(default_factory=SplitRatios)
    group_by: Literal["conversation", "user"] = Field(
        default="conversation",
        description="Items of one group never straddle splits",
    )


def from_yaml(text: str) -> DatasetDefinition:
    """The YAML file form; raises ValueError (bad YAML) or pydantic's ValidationError."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ValueError("a dataset definition is a YAML mapping (name: ..., purpose: ...)")
    return DatasetDefinition.model_validate(data)


class DatasetOut(BaseModel):
    name: str
    purpose: str
    description: str | None = None
    definition: DatasetDefinition
    versions: int = Field(description="Versions requested so far (ready, building or failed).")
    latest: int | None = Field(description="The newest ready version, if any.")
    holdout_refreshes: int
    created_at: datetime
    updated_at: datetime


class DatasetList(BaseModel):
    data: list[DatasetOut]


class VersionIn(BaseModel):
    """A build request: like a commit, it says why."""

    model_config = ConfigDict(extra="forbid")
    message: Annotated[str, StringConstraints(min_length=1, max_length=2000),
                       AfterValidator(_no_nul)]
    refresh_holdout: StrictBool = Field(
        default=False,
        description="Retire the current test split (its items are used in no split again) and "
        "draw a new one from items never seen before. The version records it.",
    )


class SplitCounts(BaseModel):
    items: int
    eval: int
    finetune: int
    preference: int


class VersionOut(BaseModel):
    dataset: str
    version: int
    parent: int | None
    message: str
    state: Literal["building", "ready", "failed"]
    refresh_holdout: bool
    requested_at: datetime
    built_at: datetime | None = None
    error: str | None = None
    manifest_sha256: str | None = None
    splits: dict[str, SplitCounts] | None = None
    excluded: dict[str, int] | None = None


class VersionList(BaseModel):
    data: list[VersionOut]


class SplitDiff(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[str]


class DiffOut(BaseModel):
    dataset: str
    from_version: int
    to_version: int
    splits: dict[str, SplitDiff]
    summary: dict[str, dict[str, int]]


class AnnotationOut(BaseModel):
    kind: str
    ls_project_id: int
    ls_task_id: int
    ls_annotation_id: int
    annotator: str | None = None
    verdict: str | None = None
    failure_modes: list[str] = Field(default_factory=list)
    correction: str | None = None
    rating: int | None = None
    preference: str | None = None
    skipped: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class ItemLineage(BaseModel):
    item: ItemOut = Field(description="The curation item: redacted text, PII findings (types "
                          "and places, never values), prank signals, reasons, duplicates")
    generation: GenerationOut | None = None
    events: list[EventOut] = Field(description="Feedback on its generation and its duplicates' "
                                   "(free text redacted, or null while being screened)")
    annotations: list[AnnotationOut] = Field(description="Corrections as screened at sync: "
                                             "redacted")
    withheld: list[Literal["generation", "events"]] = Field(
        default_factory=list, description="What the key's scopes do not show (the generation "
        "and its events need `events:read`)")


class LineageOut(BaseModel):
    dataset: str
    version: int
    example_id: str
    split: str
    files: list[str] = Field(description="The formats whose files hold this example")
    items: list[ItemLineage] = Field(description="One item, or two for a preference pair")


class ErasureOut(BaseModel):
    id: int
    state: Literal["pending", "done"] = Field(
        description="`pending` until every stored dataset version has been purged")
    items: int
    promoted: int = Field(default=0, description="Other users' copies of an erased item that "
                          "took its place (they were duplicates of it)")
    events: int
    generations: int = Field(description="The user's generations deleted: those nothing else "
                             "refers to")
    generations_unlinked: int = Field(default=0, description="The user's generations kept "
                                      "because another user's feedback or item refers to "
                                      "them, their user id cleared")
    label_studio_tasks: int
    requested_at: datetime
    done_at: datetime | None = None
