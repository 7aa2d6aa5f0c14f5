"""Jailbreak and prompt-injection detector: a learned text model, judged on what a model
would read.

The user's text is read in every deobfuscated view (`deobfuscate.views`: base64, hex, rot13,
leetspeak, tag characters, homoglyphs...) and, for longer texts, also paragraph by paragraph
(a pasted e-mail, web page or tool output can hide an instruction in its middle). Each piece
is scored by the linear model trained by `python -m workers.curation.training`
(`models/jailbreak.*`); the highest probability, mapped through the thresholds chosen on
held-in data, is the score. The precise override rule (`overrides.find_override`: "ignore the
previous instructions", "print your system prompt" in many languages) keeps a high score on
its own. Reasons say where (view, paragraph), never what.

Short quoted spans are masked before scoring (`textmodel.mask_mentions`), in training and at
run time: "translate 'forget everything above' into Italian" mentions an attack phrase, it does
not say it, and an n-gram model would otherwise score the phrase wherever it stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from workers.curation.deobfuscate import View, views
from workers.curation.overrides import Override, find_override
from workers.curation.prank_base import PrankConfig, PrankInput, fold
from workers.curation.textmodel import LinearTextModel, calibrate, prepare
from workers.curation.types import Signal

MODEL = Path(__file__).resolve().parent / "models" / "jailbreak"
MAX_PIECES = 8  # pieces scored per conversation (views x paragraphs): bounds the cost
SEGMENT_FROM = 280  # texts shorter than this are only scored whole
_WINDOW = 3  # sentences per window when a paragraph is long
_LONG_PARAGRAPH = 500
RULE_SCORE = 0.9  # a precise override instruction rejects by itself
WHOLE_UP_TO = 1500  # longer clean texts are scored by their paragraphs only (see pieces)

_VIEW_NAMES = {
    "base64": "base64-decoded text",
    "base32": "base32-decoded text",
    "hex": "hex-decoded text",
    "rot13": "rot13-decoded text",
    "tags": "hidden tag characters",
    "leet": "leetspeak-folded text",
    "homoglyph": "text with look-alike letters folded",
    "url": "%-decoded text",
    "reversed": "reversed text",
    "spaced": "text with spaced letters joined",
}
_BLANK = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True, slots=True)
class Piece:
    where: str  # "" (the whole text), "in base64-decoded text", "in paragraph 3 of 7", ...
    text: str  # prepared (folded) for the model


def segments(text: str) -> list[str]:
    """Paragraphs of text; a long paragraph becomes windows of a few sentences. A short
    fragment joins its neighbour."""
    parts: list[str] = []
    for para in _BLANK.split(text):
        para = para.strip()
        if not para:
            continue
        if len(para) <= _LONG_PARAGRAPH:
            parts.append(para)
            continue
        sentences = _SENTENCE_END.split(para)
        if len(sentences) == 1:  # one long line (JSON, HTML): its lines, else the whole
            sentences = [s for s in para.splitlines() if s.strip()]
        for i in range(0, len(sentences), _WINDOW):
            parts.append(" ".join(sentences[i : i + _WINDOW]))
    merged: list[str] = []
    for part in parts:
        if merged and len(merged[-1]) < 40:
            merged[-1] = merged[-1] + "\n" + part
        else:
            merged.append(part)
    if len(merged) >= 2 and len(merged[-1]) < 40:
        tail = merged.pop()
        merged[-1] = merged[-1] + "\n" + tail
    return merged


def _grouped(parts: list[str], limit: int) -> list[str]:
    """At most `limit` parts: neighbours joined evenly when there are more."""
    if len(parts) <= limit:
        return parts
    size = -(-len(parts) // limit)
    return ["\n".join(parts[i : i + size]) for i in range(0, len(parts), size)]


def pieces(readings: Sequence[View], *, limit: int = MAX_PIECES) -> list[Piece]:
    """What the model scores for one text's views: each view whole, then each long view's
    paragraphs, at most `limit` pieces in all. A view longer than `WHOLE_UP_TO` with two
    paragraphs or more is read by its paragraphs only: whole, a long article or reply reads
    like a long role-play prompt (the second person, instructions), while an attack says
    what it wants in one of its paragraphs."""
    split = [segments(v.text) if len(v.text) >= SEGMENT_FROM else [] for v in readings]
    out: list[Piece] = []
    for view, found in zip(readings, split, strict=True):
        where = "" if view.kind == "clean" else "in " + _VIEW_NAMES.get(view.kind, view.kind)
        if len(view.text) > WHOLE_UP_TO and len(found) > 1:
            continue
        out.append(Piece(where, prepare(view.text, mentions=True)))
    budget = limit - len(out)
    for view, found in zip(readings, split, strict=True):
        if budget <= 0 or len(found) < 2:
            continue
        parts = _grouped(found, max(budget // max(len(readings), 1), 2))
        label = "paragraph" if len(parts) == len(found) else "part"
        suffix = "" if view.kind == "clean" else " of the " + _VIEW_NAMES.get(view.kind, view.kind)
        for i, part in enumerate(parts[:budget], 1):
            out.append(Piece(
                f"in {label} {i} of {len(parts)}{suffix}", prepare(part, mentions=True)
            ))
        budget -= min(len(parts), budget)
    return out[:limit]


@cache
def model() -> LinearTextModel:
    return LinearTextModel.load(MODEL)


def override_in(readings: Sequence[View]) -> tuple[Override, str] | None:
    """The precise override rule on the first views, then on the folded clean text when it
    holds non-ASCII letters (small capitals, full-width...): (hit, where) or None."""
    texts = [(v.text, v.kind) for v in readings[:4]]
    if readings and not readings[0].text.isascii():
        texts.append((fold(readings[0].text), "clean"))
    for text, kind in texts:
        hit = find_override(text)
        if hit is not None:
            return hit, "" if kind == "clean" else " in " + _VIEW_NAMES.get(kind, kind)
    return None


def raw_user_text(x: PrankInput) -> str:
    return "\n\n".join(t.text for t in x.turns if t.role == "user" and t.text.strip())


def detect_jailbreak(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    raw = raw_user_text(x)
    if not x.user_text:
        return None
    m = model()
    readings = views(raw)
    found = pieces(readings)
    probs = m.scores([p.text for p in found], folded=True)
    best = int(probs.argmax())
    t = m.meta["thresholds"]
    score = calibrate(float(probs[best]), float(t["quarantine"]), float(t["reject"]))
    where = found[best].where
    reason = f"jailbreak / injection model p={probs[best]:.2f}" + (f" {where}" if where else "")
    found_rule = override_in(readings) if score < RULE_SCORE else None
    if found_rule is not None:
        hit, where = found_rule
        score, reason = RULE_SCORE, f"{hit.kind} instruction ({hit.lang}){where}"
    if score <= 0.05:
        return None
    return Signal("jailbreak", round(score, 3), reason)
