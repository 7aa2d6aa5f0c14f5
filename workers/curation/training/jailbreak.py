"""The jailbreak / prompt-injection task: attack sources against benign prompt sources."""

from __future__ import annotations

from workers.curation.deobfuscate import views
from workers.curation.prank_jailbreak import MODEL, override_in, pieces
from workers.curation.training.fitting import Task


def _pieces(raw: str) -> list[str]:
    return [p.text for p in pieces(views(raw))]


def _rule(raw: str) -> bool:
    return override_in(views(raw)) is not None


TASK = Task(
    name="jailbreak",
    positive=frozenset({"attack"}),
    negative=frozenset({"benign"}),
    pieces=_pieces,
    rule=_rule,
)
OUTPUT = MODEL
