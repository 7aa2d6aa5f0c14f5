"""Spam detector: phishing, scams, giveaways and link or channel promotion, by a learned text
model (`models/spam.*`, trained by `python -m workers.curation.training` on public spam
collections, with ordinary prompts as ham), plus a precise rule for texts that are mostly
links or contacts. Reasons never quote the text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from workers.curation.prank_base import PrankConfig, PrankInput, clean
from workers.curation.textmodel import LinearTextModel, calibrate, prepare
from workers.curation.types import Signal

MODEL = Path(__file__).resolve().parent / "models" / "spam"

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|xyz|io|ru|info|biz|top|ly)"
                  r"(?:/\S*)?", re.IGNORECASE)
_CONTACT = re.compile(r"@\w{3,}|\+?\d[\d ()-]{8,}\d|t\.me/\S+|wa\.me/\S+", re.IGNORECASE)


def pieces(raw: str) -> list[str]:
    return [prepare(clean(raw))]


@cache
def model() -> LinearTextModel:
    return LinearTextModel.load(MODEL)


def link_density(text: str) -> tuple[int, float]:
    """(links and contacts, share of the text's characters they take)."""
    found = [m.group() for m in _URL.finditer(text)] + [m.group() for m in _CONTACT.finditer(text)]
    return len(found), sum(len(f) for f in found) / max(len(text), 1)


def detect_spam(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    text = x.user_text
    if not text:
        return None
    m = model()
    p = float(m.scores([prepare(text)], folded=True)[0])
    t = m.meta["thresholds"]
    score = calibrate(p, float(t["quarantine"]), float(t["reject"]))
    reason = f"spam model p={p:.2f}"
    links, density = link_density(text)
    if links >= 2 and density >= 0.6 and score < 0.8:
        score, reason = 0.8, f"mostly links or contacts ({links})"
    if score <= 0.05:
        return None
    return Signal("spam", round(score, 3), reason)
