"""The spam task: spam sources against ham, with ordinary prompts as more ham so that what
users ask an assistant stays ham."""

from __future__ import annotations

from workers.curation.prank_spam import MODEL, pieces
from workers.curation.training.fitting import Task

TASK = Task(
    name="spam",
    positive=frozenset({"spam"}),
    negative=frozenset({"ham", "benign"}),
    pieces=pieces,
)
OUTPUT = MODEL
