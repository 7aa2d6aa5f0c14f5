"""A product's users: GET /v1/users/{user_id} shows everything Winnow holds about a user
(right of access), DELETE erases it."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app

from app.api.errors import Problem
from app.api.request import caller, database, dataset_store, job_queue, respond, transaction
from app.api.spec import operation
from app.config import Settings
from app.models import Erasure, Project
from app.payloads.access import UserDataOut
from app.payloads.common import IDENTIFIER_PATTERN
from app.payloads.datasets import ErasureOut
from app.services import erasure as service
from app.services.access import user_data
from app.services.errors import NotFound
from app.services.projects import signal_map

bp = Blueprint("users", __name__)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def _out(e: Erasure) -> ErasureOut:
    return ErasureOut(id=e.id, state=e.state, requested_at=e.requested_at,  # type: ignore[arg-type]
                      done_at=e.done_at, **e.counts)


def _check_user_id(user_id: str) -> None:
    if not _IDENTIFIER.fullmatch(user_id):
        raise Problem(400, "Bad user id", "a user id is 1-128 of A-Z a-z 0-9 . _ : @ + = -, "
                      "not starting with punctuation", slug="bad-user-id")


@operation(
    bp, "/users/<user_id>", "GET",
    summary="What Winnow holds about a user: events, items (redacted), generations, "
    "annotations, decisions and the dataset versions holding their examples",
    scope="admin",
    responses={200: ("What Winnow holds about the user, redacted", UserDataOut)},
    problems=[400],
    description="For a data-subject access request, before an erasure. Free text only as "
    "screening redacted it (none while waiting for screening); never raw or sealed text. A user "
    "with no data gets empty lists, not 404 (an id tells nothing). Each list stops at `limit` "
    "rows (`complete` is then false; `counts` has every total).",
)
def get_user(user_id: str) -> Response:
    _check_user_id(user_id)
    project_id = caller().project_id
    with transaction() as session:
        project = session.get_one(Project, project_id)
        out = user_data(session, dataset_store(), project_id, project.slug, user_id,
                        signal_map(project))
    return respond(out)


@operation(
    bp, "/users/<user_id>", "DELETE",
    summary="Erase a user: their events, items, generations, Label Studio tasks and dataset "
    "examples",
    scope="admin",
    responses={202: ("The erasure: rows and tasks are gone; dataset versions are being "
                     "purged (`state` becomes `done`)", ErasureOut)},
    problems=[400, 503],
    description="Label Studio tasks are deleted first: if Label Studio cannot be reached the "
    "answer is 503 and nothing was erased (retry). Erasing a user with no data is not an "
    "error. Poll `GET /v1/erasures/{id}`.",
)
def erase_user(user_id: str) -> Response:
    _check_user_id(user_id)
    key = caller()
    settings: Settings = current_app.config["WINNOW_SETTINGS"]
    erasure = service.erase_user(database(), settings, job_queue(), key.project_id, user_id,
                                 f"key:{key.prefix}")
    out = _out(erasure)
    response = respond(out, 202)
    response.headers["Location"] = f"/v1/erasures/{erasure.id}"
    return response


@operation(
    bp, "/erasures/<erasure_id>", "GET",
    summary="An erasure's progress",
    scope="admin",
    responses={200: ("The erasure", ErasureOut)},
    problems=[404],
)
def get_erasure(erasure_id: str) -> Response:
    with transaction() as session:
        # ASCII digits only: str.isdigit() is also true of "²", which int() refuses.
        numeric = erasure_id.isascii() and erasure_id.isdigit() and len(erasure_id) < 12
        row = session.get(Erasure, int(erasure_id)) if numeric else None
        if row is None or row.project_id != caller().project_id:
            raise NotFound("no erasure with that id in this project")
        out = _out(row)
    return respond(out)
