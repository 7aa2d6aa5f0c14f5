"""The jailbreak / prompt-injection task: attack sources against benign prompt sources."""

from __future__ import annotations

from workers.curation.deobfuscate import views
from workers.curation.prank_jailbreak import MODEL, override_in, pieces
from workers.curation.textmodel import DEFAULT_PARAMS
from workers.curation.training.fitting import Task


def _pieces(raw: str) -> list[str]:
    return [p.text for p in pieces(views(raw))]


def _rule(raw: str) -> bool:
    return override_in(views(raw)) is not None


# Chosen on leave-one-source-out figures (generalisation.evaluate_task): character 3-5-grams and a
# stronger penalty lean less on short fragments of phrases seen in the training attacks.
TASK = Task(
    name="jailbreak",
    positive=frozenset({"attack"}),
    negative=frozenset({"benign"}),
    pieces=_pieces,
    rule=_rule,
    alpha=1e-4,
    params={**DEFAULT_PARAMS, "char_ngrams": [3, 5]},
)
OUTPUT = MODEL
