"""Evaluate the PII stage: presidio-research's synthetic set (pii-presidio-synth), a seeded
multilingual set (pii_multilingual.py) and benign text that holds no PII.

A gold span is *found* when detections (of any type: what matters is that it is masked) cover
at least half of its non-space characters; its type is *right* when the detection covering most
of it has the gold type. STREET_ADDRESS is scored as the share of all its characters masked and
the share of addresses masked whole. Precision is the share of detections that overlap some
gold span of any type (gold includes GPE, ORGANIZATION, DATE_TIME...: masking those is not a
false positive). On benign text every placeholder is false: the share of conversations given
one, and placeholders per 1,000 words. Synth records are split dev (even index) / holdout (odd).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from workers.curation.pii import DEFAULT_ENTITIES, PiiScreener
from workers.curation.types import Turn
from workers.evaluation.pii_multilingual import generate

Subset = Literal["all", "dev", "holdout"]
FILE = Path("pii-presidio-synth") / "synth_dataset_v2.json"
OASST = Path("oasst-en100-trees") / "en_100_tree.jsonl"
BENIGN = Path(__file__).resolve().parents[2] / "data" / "curation" / "benign-no-names"
# Public help / how-to docs (Syncthing, Hugo) with every paragraph naming a person removed:
# scripts/build-benign-help-docs.py. Its first false-positive list was read when
# `pii.used_as_a_word` was written (2026-12-02); nothing else was tuned on it.
BENIGN_HELP_DOCS = BENIGN.parent / "benign-help-docs" / "conversations.jsonl.gz"
BENIGN_TARGETED = frozenset({"benign_no_names", "benign_help_docs"})  # name-free: targets apply
# Winnow's own docs: benign technical prose (their IP addresses such as 127.0.0.1 are real
# findings, so this set is information only). curation.md quotes example names.
DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCS_WITH_NAMES = frozenset({"curation.md"})
STRUCTURED = ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN")
TARGETS = {kind: 0.97 for kind in (*STRUCTURED, "PHONE_NUMBER")} | {"PERSON": 0.90}
STREET_TARGET = 0.85
STREET_WHOLE_TARGET = 0.70
PRECISION_TARGET = 0.90
BENIGN_SHARE_TARGET = 0.02
BENIGN_PER_1000_TARGET = 0.2  # one per 5,000 words


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
    return sum(1 for i in chars if mask[i]), len(chars)


def evaluate(data_dir: Path, screener: PiiScreener, *, subset: Subset = "all") -> dict[str, Any]:
    """The synthetic set's figures, with the multilingual and benign ones beside them."""
    result = score(load(data_dir, subset), screener, with_targets=True)
    result["multilingual"] = score(_multilingual(), screener, with_targets=True)
    result["benign"] = benign(data_dir, screener)
    return result


def _multilingual() -> list[dict[str, Any]]:
    return generate()


def score(
    records: Sequence[dict[str, Any]], screener: PiiScreener, *, with_targets: bool = False
) -> dict[str, Any]:
    gold: dict[str, int] = {}
    found: dict[str, int] = {}
    typed: dict[str, int] = {}
    street_masked = street_total = street_whole = street_n = 0
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
            kind, start, end = g["entity_type"], g["start_position"], g["end_position"]
            masked, total = _masked(start, end, text, mask)
            gold[kind] = gold.get(kind, 0) + 1
            if total and masked * 2 >= total:
                found[kind] = found.get(kind, 0) + 1
                cover = max(spans, key=lambda s: min(s.end, end) - max(s.start, start))
                if cover.entity_type == kind:
                    typed[kind] = typed.get(kind, 0) + 1
            if kind == "STREET_ADDRESS":
                street_masked += masked
                street_total += total
                street_n += 1
                street_whole += masked == total
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
        if kind in DEFAULT_ENTITIES and found.get(kind):
            entry["type_accuracy"] = round(typed.get(kind, 0) / found[kind], 4)
        if with_targets and kind in TARGETS:
            entry["target"] = f"recall >= {TARGETS[kind]}"
            entry["meets_target"] = entry["recall"] >= TARGETS[kind]
        per_type[kind] = entry
    street = round(street_masked / street_total, 4) if street_total else 0.0
    whole = round(street_whole / street_n, 4) if street_n else 0.0
    precision = round(true_detections / detections, 4) if detections else 1.0
    out: dict[str, Any] = {
        "records": len(records),
        "per_type": per_type,
        "street_address_chars": {"char_recall": street, "n": street_total},
        "street_address_whole": {"whole": whole, "n": street_n},
        "precision": {
            "precision": precision,
            "n": detections,
            "false_positives_by_type": wrong_type,
        },
    }
    if with_targets and street_n:
        out["street_address_chars"] |= {
            "target": f"char_recall >= {STREET_TARGET}",
            "meets_target": street >= STREET_TARGET,
        }
        out["street_address_whole"] |= {
            "target": f"whole >= {STREET_WHOLE_TARGET}",
            "meets_target": whole >= STREET_WHOLE_TARGET,
        }
        out["precision"] |= {
            "target": f"precision >= {PRECISION_TARGET}",
            "meets_target": precision >= PRECISION_TARGET,
        }
    return out


def benign_conversations(data_dir: Path) -> dict[str, list[list[Turn]]]:
    """Benign sets by name: the hand-written one without names, public help docs without names
    (two-turn question / article conversations), OASST's assistant replies (one reply per
    conversation; they may name real people, so theirs is an upper bound), and the paragraphs
    of Winnow's docs (information only, see DOCS)."""
    sets: dict[str, list[list[Turn]]] = {}
    path = BENIGN / "conversations.jsonl"
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        sets["benign_no_names"] = [
            [Turn(m["role"], m["content"]) for m in row["messages"]] for row in rows if row
        ]
    if BENIGN_HELP_DOCS.is_file():
        with gzip.open(BENIGN_HELP_DOCS, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        sets["benign_help_docs"] = [
            [Turn(m["role"], m["content"]) for m in row["messages"]] for row in rows
        ]
    oasst = data_dir / OASST
    if oasst.is_file():
        replies: list[list[Turn]] = []
        for line in oasst.read_text(encoding="utf-8").splitlines():
            stack = [json.loads(line)["prompt"]]
            while stack:
                node = stack.pop()
                if node.get("role") == "assistant" and node.get("lang", "en") == "en":
                    replies.append([Turn("assistant", node["text"])])
                stack.extend(node.get("replies") or [])
        sets["oasst_assistant"] = replies
    docs = sorted(p for p in DOCS.glob("*.md") if p.name not in DOCS_WITH_NAMES)
    if docs:  # prose written for another purpose, never read while tuning the PII filters
        paragraphs = []
        for doc in docs:
            text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
            paragraphs += [p for p in re.split(r"\n\s*\n", text) if len(p.split()) > 5]
        sets["winnow_docs"] = [[Turn("assistant", p)] for p in paragraphs]
    return sets


def benign(data_dir: Path, screener: PiiScreener) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, conversations in benign_conversations(data_dir).items():
        flagged = placeholders = words = 0
        by_type: dict[str, int] = {}
        for turns in conversations:
            result = screener.screen(turns)
            words += sum(len(re.findall(r"\w+", t.text)) for t in turns)
            placeholders += len(result.findings)
            flagged += bool(result.findings)
            for f in result.findings:
                by_type[f.entity_type] = by_type.get(f.entity_type, 0) + 1
        share = round(flagged / len(conversations), 4) if conversations else 0.0
        per_1000 = round(1000 * placeholders / words, 3) if words else 0.0
        entry: dict[str, Any] = {
            "conversations": len(conversations),
            "words": words,
            "with_placeholder": {"share": share, "n": len(conversations)},
            "placeholders_per_1000_words": {"per_1000": per_1000, "n": words},
            "placeholders_by_type": by_type,
        }
        if name in BENIGN_TARGETED:  # OASST replies may name real people: information only
            entry["with_placeholder"] |= {
                "target": f"share <= {BENIGN_SHARE_TARGET}",
                "meets_target": share <= BENIGN_SHARE_TARGET,
            }
            entry["placeholders_per_1000_words"] |= {
                "target": f"per_1000 <= {BENIGN_PER_1000_TARGET}",
                "meets_target": per_1000 <= BENIGN_PER_1000_TARGET,
            }
        out[name] = entry
    return out
