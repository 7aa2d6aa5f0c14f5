"""Which function runs each job named in `app.jobs`, as a dotted path.

A path, not the function, so that a process enqueueing a job never imports the heavy curation
stages, and RQ stores the same call a worker resolves ("workers.curation.job.curate").
"""

from __future__ import annotations

from app import jobs

JOBS: dict[str, str] = {
    jobs.CURATE: "workers.curation.job.curate",
    jobs.SCREEN: "workers.curation.screening.screen_pending",
    jobs.PUSH: "workers.labelstudio.push.push_project",
    jobs.SYNC_TASKS: "workers.labelstudio.sync.sync_tasks",
    jobs.SYNC_PROJECT: "workers.labelstudio.sync.sync_project",
    jobs.BUILD: "workers.datasets.build.build_version",
    jobs.PURGE: "workers.datasets.erasure.purge",
}
assert set(JOBS) == jobs.NAMES, "every job name in app.jobs runs a function here"


def target(func: jobs.Func) -> jobs.Func:
    """The dotted path that runs a job name; a callable or a dotted path as it is."""
    return JOBS.get(func, func) if isinstance(func, str) else func
