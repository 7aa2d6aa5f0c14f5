"""POST /v1/hooks/label-studio: Label Studio says an annotation changed; a sync brings it."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from app.api.errors import Problem
from app.api.ratelimit import client_address, limiter
from app.api.request import job_queue, json_body, respond, transaction, validate
from app.api.spec import operation
from app.jobs import SYNC_TASKS, new_job_id
from app.labelstudio import SECRET_HEADER
from app.models import LabelStudioProject
from app.payloads.labelstudio import HookAccepted, LabelStudioHookIn

bp = Blueprint("hooks", __name__)
ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")


def _check_secret() -> None:
    secret = current_app.config["WINNOW_SETTINGS"].label_studio_webhook_secret
    if secret is None:  # the hook is off: nobody could authenticate to it
        raise Problem(404, "Not found", "the Label Studio webhook is not enabled here "
                      "(WINNOW_LABEL_STUDIO_WEBHOOK_SECRET is unset)", slug="not-found")
    limiter().refuse_failing_client(client_address())
    given = request.headers.get(SECRET_HEADER, "")
    # Constant time, whatever the lengths: compare digests of equal size.
    if not hmac.compare_digest(
        hmac.digest(b"winnow", given.encode("utf-8", "replace"), "sha256"),
        hmac.digest(b"winnow", secret.get_secret_value().encode(), "sha256"),
    ):
        limiter().count_failure(client_address())
        raise Problem(401, "Unauthorized", f"missing or wrong {SECRET_HEADER} header",
                      slug="bad-webhook-secret")


@operation(
    bp, "/hooks/label-studio", "POST",
    summary="Label Studio webhook: an annotation was created, updated or deleted",
    description=f"Authenticated by the shared secret in the {SECRET_HEADER} header (compared "
                "in constant time), not by an API key. Idempotent: it only enqueues a sync of "
                "the tasks named, which stores what Label Studio lists.",
    scope=None,
    body=[LabelStudioHookIn],
    responses={202: ("A sync of the named tasks is enqueued", HookAccepted)},
    problems=[400, 401, 404, 413, 415, 422, 429],
)
def label_studio_hook() -> Response:
    _check_secret()
    hook = validate(LabelStudioHookIn, json_body())
    tasks: list[int] = []
    if hook.task is not None:
        tasks.append(hook.task.id)
    refs = ([hook.annotation] if hook.annotation else []) + (hook.annotations or [])
    tasks += [a.task for a in refs if a.task is not None]
    annotations = [a.id for a in refs]
    tasks = sorted(set(tasks))
    if hook.action not in ACTIONS or (not tasks and not annotations):
        return respond(HookAccepted(action=hook.action, tasks=tasks, annotations=annotations,
                                    job_id=None), 202)
    if hook.project is None:
        raise Problem(422, "Unprocessable", "the payload names no project", slug="validation")
    with transaction() as session:
        known = session.scalar(select(LabelStudioProject.id).where(
            LabelStudioProject.ls_project_id == hook.project.id))
    if known is None:
        raise Problem(404, "Not found", "no Winnow project uses this Label Studio project",
                      slug="not-found")
    job_id = new_job_id("lssync")
    job_queue().enqueue(SYNC_TASKS, hook.project.id, tasks, annotations, job_id=job_id)
    return respond(HookAccepted(action=hook.action, tasks=tasks, annotations=annotations,
                                job_id=job_id), 202)
