"""Background chores run every few seconds in `winnow worker` and `winnow up`: with Redis, one
process per interval does each (a lock key); errors are logged, never fatal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from app import runtime
from app.config import Settings
from app.jobs import redis_connection
from app.services import rollups
from workers.curation.reconcile import reconcile as reconcile_items
from workers.datasets.erasure import reconcile_erasures
from workers.labelstudio.schedule import annotation_round

log = logging.getLogger("winnow.periodic")


class Periodic(threading.Thread):
    def __init__(
        self, name: str, every: float, redis_url: str | None, action: Callable[[], object]
    ):
        super().__init__(name=f"winnow-{name}", daemon=True)
        self.chore = name
        self.every = every
        self.redis_url = redis_url
        self.action = action
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                if self._my_turn():
                    self.action()
            except Exception as exc:
                log.warning("%s failed (%s); will try again", self.chore, type(exc).__name__)

    def _my_turn(self) -> bool:
        if not self.redis_url:
            return True
        lock = redis_connection(self.redis_url).set(
            f"winnow:{self.chore}:lock", "1", nx=True, ex=max(1, int(self.every) - 1)
        )
        return bool(lock)

    def stop(self) -> None:
        self.stopped.set()


def reconcile(older_than: timedelta | None = None) -> int:
    """Everything recorded in the database that should have a job and has none gets one:
    items stuck in `received`, pending free-text screening, pending erasures' purges (each
    domain reconciles its own). Returns how many items were re-enqueued."""
    after = timedelta(seconds=runtime.current().settings.reconcile_after_seconds)
    age = older_than if older_than is not None else after
    stuck = reconcile_items(age)
    if erasures := reconcile_erasures(age):
        log.info("re-enqueued the purge of %d pending erasure(s)", erasures)
    return stuck


def refresh_rollups() -> int:
    """Bring every project's feedback rollups up to date; returns the days recomputed."""
    with runtime.current().db.session() as session:
        return sum(r.days for r in rollups.refresh_all(session))


def chores(settings: Settings) -> list[Periodic]:
    """The chores a worker or `winnow up` runs with these settings (not started)."""
    found = [
        Periodic("reconcile", settings.reconcile_every_seconds, settings.redis_url, reconcile),
        Periodic("rollups", settings.rollup_every_seconds, settings.redis_url, refresh_rollups),
    ]
    if settings.label_studio_url:
        found.append(
            Periodic(
                "labelstudio",
                settings.label_studio_sync_every_seconds,
                settings.redis_url,
                annotation_round,
            )
        )
    return found
