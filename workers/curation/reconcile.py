"""Re-enqueue items stuck in `received`: intake while Redis was down, a worker killed mid-job,
a job lost with an in-process queue. Curation is idempotent, so a second run of an item whose
first run is merely slow changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from app import runtime
from app.jobs import CURATE, LIVE_STATES, new_job_id
from app.models import Item
from app.models.base import utcnow
from workers.curation.screening import purge_expired, reconcile_screening

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
    queue.clean_abandoned()
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
    purge_expired(timedelta(hours=rt.settings.sealed_retention_hours))
    if projects := reconcile_screening(cutoff):
        log.info("enqueued screening of free text for %d project(s)", projects)
    return len(stuck)
