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
# Long explanatory prose (assistant replies, help articles) is never fitted on: as benign data
# it teaches "long second-person text is benign", and held-out attack recall fell from 0.70 to
# 0.42 on jailbreak-llms (docs/curation.md); it is measured instead, as text never seen.
TASK = Task(
    name="jailbreak",
    positive=frozenset({"attack"}),
    negative=frozenset({"benign"}),
    pieces=_pieces,
    rule=_rule,
    alpha=1e-4,
    params={**DEFAULT_PARAMS, "char_ngrams": [3, 5]},
    never_fitted=frozenset({"oasst-replies", "benign-help-docs"}),
)
OUTPUT = MODEL
