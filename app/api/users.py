"""Erasure: DELETE /v1/users/{user_id} removes everything Winnow holds about a user."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app

from app.api.errors import Problem
from app.api.request import caller, database, job_queue, respond, transaction
from app.api.spec import operation
from app.config import Settings
from app.models import Erasure
from app.payloads.common import IDENTIFIER_PATTERN
from app.payloads.datasets import ErasureOut
from app.services import erasure as service
from app.services.errors import NotFound

bp = Blueprint("users", __name__)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def _out(e: Erasure) -> ErasureOut:
    return ErasureOut(id=e.id, state=e.state, requested_at=e.requested_at,  # type: ignore[arg-type]
                      done_at=e.done_at, **e.counts)


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
    if not _IDENTIFIER.fullmatch(user_id):
        raise Problem(400, "Bad user id", "a user id is 1-128 of A-Z a-z 0-9 . _ : @ + = -, "
                      "not starting with punctuation", slug="bad-user-id")
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
        row = session.get(Erasure, int(erasure_id)) if erasure_id.isdigit() and len(
            erasure_id) < 12 else None
        if row is None or row.project_id != caller().project_id:
            raise NotFound(f"no erasure {erasure_id[:40]!r} in this project")
        out = _out(row)
    return respond(out)
