"""Evaluate the PII stage on presidio-research's synthetic set (pii-presidio-synth).

A gold span is *found* when detections (of any type: what matters is that it is masked) cover
at least half of its non-space characters. STREET_ADDRESS is scored as the share of all its
characters masked. Precision is the share of detections that overlap some gold span of any
type (gold includes GPE, ORGANIZATION, DATE_TIME...: masking those is not a false positive).
Records are split dev (even index) / holdout (odd); recognizers were tuned on dev only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from workers.curation.pii import PiiScreener

Subset = Literal["all", "dev", "holdout"]
FILE = Path("pii-presidio-synth") / "synth_dataset_v2.json"
TARGETS = {
    "EMAIL_ADDRESS": 0.95,
    "PHONE_NUMBER": 0.95,
    "CREDIT_CARD": 0.95,
    "IBAN_CODE": 0.95,
    "IP_ADDRESS": 0.95,
    "US_SSN": 0.95,
    "PERSON": 0.85,
}
STREET_TARGET = 0.80
PRECISION_TARGET = 0.90


def load(data_dir: Path, subset: Subset) -> list[dict[str, Any]]:
    path = data_dir / FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is absent (see ../shared/data/pii-presidio-synth)")
    records: list[dict[str, Any]] = json.loads(path.read_text())
    if subset == "all":
        return records
    return [r for i, r in enumerate(records) if (i % 2 == 0) == (subset == "dev")]


def _masked(start: int, end: int, text: str, mask: bytearray) -> tuple[int, int]:
    chars = [i for i in range(start, end) if not text[i].isspace()]
    return sum(mask[i] for i in chars), len(chars)


def evaluate(data_dir: Path, screener: PiiScreener, *, subset: Subset = "all") -> dict[str, Any]:
    records = load(data_dir, subset)
    gold: dict[str, int] = {}
    found: dict[str, int] = {}
    street_masked = street_total = 0
    detections = true_detections = 0
    wrong_type: dict[str, int] = {}
    for record in records:
        text: str = record["full_text"]
        spans = screener.analyze(text)
        mask = bytearray(len(text))
        for s in spans:
            mask[s.start : s.end] = b"\x01" * (s.end - s.start)
        golds = record["spans"]
        for g in golds:
            kind = g["entity_type"]
            masked, total = _masked(g["start_position"], g["end_position"], text, mask)
            gold[kind] = gold.get(kind, 0) + 1
            if total and masked * 2 >= total:
                found[kind] = found.get(kind, 0) + 1
            if kind == "STREET_ADDRESS":
                street_masked += masked
                street_total += total
        for s in spans:
            detections += 1
            hits = [g for g in golds if s.start < g["end_position"] and g["start_position"] < s.end]
            if hits:
                true_detections += 1
            else:
                wrong_type[s.entity_type] = wrong_type.get(s.entity_type, 0) + 1
    per_type: dict[str, Any] = {}
    for kind in sorted(gold):
        entry: dict[str, Any] = {
            "gold": gold[kind],
            "found": found.get(kind, 0),
            "recall": round(found.get(kind, 0) / gold[kind], 4),
        }
        if kind in TARGETS:
            entry["target"] = f"recall >= {TARGETS[kind]}"
            entry["meets_target"] = entry["recall"] >= TARGETS[kind]
        per_type[kind] = entry
    street = round(street_masked / street_total, 4) if street_total else 0.0
    precision = round(true_detections / detections, 4) if detections else 1.0
    return {
        "records": len(records),
        "per_type": per_type,
        "street_address_chars": {
            "char_recall": street,
            "n": street_total,
            "target": f"char_recall >= {STREET_TARGET}",
            "meets_target": street >= STREET_TARGET,
        },
        "precision": {
            "precision": precision,
            "n": detections,
            "target": f"precision >= {PRECISION_TARGET}",
            "meets_target": precision >= PRECISION_TARGET,
            "false_positives_by_type": wrong_type,
        },
    }
