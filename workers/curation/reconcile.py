"""Re-enqueue items stuck in `received`: intake while Redis was down, a worker killed mid-job,
a job lost with an in-process queue. Curation is idempotent, so a second run of an item whose
first run is merely slow changes nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select, update

from app.models import Item
from app.models.base import utcnow
from app.services.conversations import CURATE
from workers import runtime
from workers.queue import LIVE_STATES, new_job_id

log = logging.getLogger("winnow.reconcile")
CHUNK = 500


def reconcile(older_than: timedelta | None = None, limit: int = 20_000) -> int:
    """Enqueue a new job for items waiting longer than `older_than` whose job is gone, done,
    or started that long ago. Returns how many items were enqueued."""
    rt = runtime.current()
    age = (
        older_than
        if older_than is not None
        else timedelta(seconds=rt.settings.reconcile_after_seconds)
    )
    cutoff = utcnow() - age
    queue = rt.queue
    clean = getattr(queue, "clean_abandoned", None)
    if clean is not None:
        clean()
    with rt.db.session() as session:
        rows = session.execute(
            select(Item.id, Item.job_id)
            .where(Item.state == "received", Item.received_at <= cutoff)
            .order_by(Item.id)
            .limit(limit)
        )
        by_job: dict[str | None, list[int]] = {}
        for item_id, job_id in rows:
            by_job.setdefault(job_id, []).append(item_id)
    stuck: list[int] = []
    for job_id, ids in by_job.items():
        status = queue.status(job_id) if job_id else None
        if status == "failed":
            continue  # shown by `winnow jobs failed`, retried by `winnow jobs retry`
        if status in LIVE_STATES:
            started = queue.started_at(job_id) if status == "started" and job_id else None
            if started is None or started > cutoff:
                continue
        stuck.extend(ids)
    for start in range(0, len(stuck), CHUNK):
        chunk = stuck[start : start + CHUNK]
        job_id = new_job_id("curate")
        with rt.db.session() as session:
            session.execute(
                update(Item)
                .where(Item.id.in_(chunk), Item.state == "received")
                .values(job_id=job_id)
            )
        queue.enqueue(CURATE, chunk, job_id=job_id)
    if stuck:
        log.info("re-enqueued %d item(s) stuck in received", len(stuck))
    return len(stuck)


class Reconciler(threading.Thread):
    """Runs `reconcile` every few seconds in a worker or in `winnow up`. With Redis, one
    process per interval does it (a lock key); errors are logged, never fatal."""

    def __init__(self, every: float, redis_url: str | None) -> None:
        super().__init__(name="winnow-reconciler", daemon=True)
        self.every = every
        self.redis_url = redis_url
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                if self._my_turn():
                    reconcile()
            except Exception as exc:
                log.warning("reconcile failed (%s); will try again", type(exc).__name__)

    def _my_turn(self) -> bool:
        if not self.redis_url:
            return True
        from workers.queue import redis_connection

        lock = redis_connection(self.redis_url).set(
            "winnow:reconcile:lock", "1", nx=True, ex=max(1, int(self.every) - 1)
        )
        return bool(lock)

    def stop(self) -> None:
        self.stopped.set()
