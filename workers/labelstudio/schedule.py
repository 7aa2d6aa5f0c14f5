"""The periodic annotation round: push what waits, sync what a lost webhook missed."""

from __future__ import annotations

from sqlalchemy import select

from app import runtime
from app.jobs import PUSH, SYNC_PROJECT, new_job_id
from app.models import LabelStudioProject
from workers.labelstudio.push import pending_projects


def annotation_round() -> int:
    """Enqueue a push for each project with items waiting and a sync for each project with a
    Label Studio project; returns the number of jobs enqueued."""
    rt = runtime.current()
    with rt.db.session() as session:
        synced = sorted(set(session.scalars(select(LabelStudioProject.project_id))))
    jobs = 0
    for project_id in pending_projects():
        rt.queue.enqueue(PUSH, project_id, job_id=new_job_id("lspush"))
        jobs += 1
    for project_id in synced:
        rt.queue.enqueue(SYNC_PROJECT, project_id, job_id=new_job_id("lssync"))
        jobs += 1
    return jobs
