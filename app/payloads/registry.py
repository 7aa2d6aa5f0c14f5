"""The public payloads whose JSON Schemas are checked in under schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from app.payloads.access import UserDataOut
from app.payloads.analytics import CompareOut, FeedbackReportOut, SkewOut
from app.payloads.annotation import AgreementOut
from app.payloads.conversations import (
    ConversationBatchIn,
    ConversationIn,
    ItemOut,
    ItemPage,
    ReviewIn,
)
from app.payloads.datasets import (
    DatasetDefinition,
    DatasetOut,
    DiffOut,
    ErasureOut,
    LineageOut,
    VersionIn,
    VersionOut,
)
from app.payloads.events import BatchResult, EventBatchIn, EventIn, EventOut, EventPage
from app.payloads.generations import GenerationIn, GenerationOut
from app.payloads.labelstudio import HookAccepted, LabelStudioHookIn
from app.payloads.problem import ProblemOut
from app.payloads.samples import SampleOut, VerdictIn, VerdictOut
from app.payloads.taxonomy import SignalOverridesIn, TaxonomyOut

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

PUBLIC: dict[str, tuple[Any, JsonSchemaMode]] = {
    "agreement": (AgreementOut, "serialization"),
    "analytics-compare": (CompareOut, "serialization"),
    "analytics-feedback": (FeedbackReportOut, "serialization"),
    "analytics-skew": (SkewOut, "serialization"),
    "label-studio-hook": (LabelStudioHookIn, "validation"),
    "label-studio-hook-accepted": (HookAccepted, "serialization"),
    "conversation": (ConversationIn, "validation"),
    "dataset-definition": (DatasetDefinition, "validation"),
    "dataset-out": (DatasetOut, "serialization"),
    "dataset-version-request": (VersionIn, "validation"),
    "dataset-version": (VersionOut, "serialization"),
    "dataset-diff": (DiffOut, "serialization"),
    "dataset-example-lineage": (LineageOut, "serialization"),
    "erasure": (ErasureOut, "serialization"),
    "conversation-batch": (ConversationBatchIn, "validation"),
    "event": (EventIn, "validation"),
    "event-batch": (EventBatchIn, "validation"),
    "event-batch-result": (BatchResult, "serialization"),
    "event-out": (EventOut, "serialization"),
    "event-page": (EventPage, "serialization"),
    "generation": (GenerationIn, "validation"),
    "item-out": (ItemOut, "serialization"),
    "item-page": (ItemPage, "serialization"),
    "item-review": (ReviewIn, "validation"),
    "generation-out": (GenerationOut, "serialization"),
    "problem": (ProblemOut, "serialization"),
    "sample": (SampleOut, "serialization"),
    "sample-verdict": (VerdictIn, "validation"),
    "sample-verdict-out": (VerdictOut, "serialization"),
    "signal-overrides": (SignalOverridesIn, "validation"),
    "taxonomy": (TaxonomyOut, "serialization"),
    "user-data": (UserDataOut, "serialization"),
}


def render(name: str) -> str:
    tp, mode = PUBLIC[name]
    schema = {"$schema": SCHEMA_DIALECT, "$id": f"urn:winnow:schema:{name}",
              **TypeAdapter(tp).json_schema(mode=mode)}
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: str | Path, check: bool = False) -> list[str]:
    """Write (or with check, compare) every schema; return the files that differ."""
    out = Path(directory)
    changed = []
    expected = {f"{name}.json" for name in PUBLIC}
    for name in PUBLIC:
        path = out / f"{name}.json"
        text = render(name)
        if not path.exists() or path.read_text() != text:
            changed.append(path.name)
            if not check:
                out.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    present = sorted(p.name for p in out.glob("*.json")) if out.exists() else []
    stale = [name for name in present if name not in expected]
    for name in stale:
        changed.append(name)
        if not check:
            (out / name).unlink()
    return changed
