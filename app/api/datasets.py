"""Datasets: definitions, build requests, versions, their files (streamed, with ETag = sha256,
conditional GET and Range), diffs and lineage."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import cast

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from werkzeug.utils import send_file
from werkzeug.wsgi import wrap_file

from app.api.conditional import check_preconditions, range_environ
from app.api.request import (
    caller,
    dataset_store,
    job_queue,
    json_body,
    query_args,
    respond,
    transaction,
    validate,
)
from app.api.spec import operation
from app.models import Project
from app.payloads.datasets import (
    DatasetDefinition,
    DatasetList,
    DatasetOut,
    DiffOut,
    LineageOut,
    VersionIn,
    VersionList,
    VersionOut,
)
from app.services import datasets as service
from app.services.keys import Scope, has_scope
from app.services.projects import signal_map
from app.store import Store

bp = Blueprint("datasets", __name__)

NDJSON = "application/x-ndjson"
FILE_DESCRIPTION = (
    "Streamed. `ETag` is the file's sha256 as the manifest records it: send it back in "
    "`If-None-Match` for a 304, and use `Range: bytes=N-` to resume a download (206; with "
    "`If-Range` or `If-Match` set to the ETag, the range is of that very file). A failed "
    "`If-Match` or `If-Unmodified-Since` is a 412 and sends none of the file."
)


def _project_slug(session: Session) -> str:
    return session.get_one(Project, caller().project_id).slug


def _send(store: Store, stored: service.StoredFile, mimetype: str) -> Response:
    """The file with ETag = sha256. Preconditions (412, 304) are decided before any byte is
    read; werkzeug then answers Range and If-Range (206)."""
    local = store.local_path(stored.key)
    modified = (datetime.fromtimestamp(os.stat(local).st_mtime, UTC) if local is not None
                else None)
    cache = {"Cache-Control": "no-cache"}
    not_modified = check_preconditions(stored.sha256, modified, cache)
    if not_modified is not None:
        return not_modified
    environ = range_environ()
    if local is not None:
        # werkzeug's own send_file, to pass it the environ without the decided preconditions.
        response = cast(Response, send_file(local, environ, mimetype=mimetype, etag=stored.sha256,
                                            conditional=True, max_age=0,
                                            response_class=current_app.response_class))
    else:
        handle = store.open(stored.key)
        response = Response(wrap_file(request.environ, handle), mimetype=mimetype,
                            direct_passthrough=True)
        response.content_length = stored.size
        response.set_etag(stored.sha256)
        response.make_conditional(environ, accept_ranges=True, complete_length=stored.size)
    response.headers.update(cache)
    return response


@operation(
    bp, "/datasets", "POST",
    summary="Define a dataset: what it selects, how it splits",
    scope="datasets:write",
    body=[DatasetDefinition],
    responses={201: ("The dataset", DatasetOut)},
    problems=[400, 409, 413, 415, 422],
)
def create_dataset() -> Response:
    definition = validate(DatasetDefinition, json_body())
    with transaction() as session:
        dataset = service.create_dataset(session, caller().project_id, definition)
        out = service.dataset_out(session, dataset)
    response = respond(out, 201)
    response.headers["Location"] = f"/v1/datasets/{dataset.name}"
    return response


@operation(
    bp, "/datasets", "GET",
    summary="List the project's datasets",
    scope="datasets:read",
    responses={200: ("The datasets", DatasetList)},
)
def list_datasets() -> Response:
    with transaction() as session:
        data = [service.dataset_out(session, d)
                for d in service.list_datasets(session, caller().project_id)]
    return respond(DatasetList(data=data))


@operation(
    bp, "/datasets/<name>", "GET",
    summary="One dataset's definition and newest version",
    scope="datasets:read",
    responses={200: ("The dataset", DatasetOut)},
    problems=[404],
)
def get_dataset(name: str) -> Response:
    with transaction() as session:
        out = service.dataset_out(session, service.get_dataset(session, caller().project_id,
                                                                name))
    return respond(out)


@operation(
    bp, "/datasets/<name>", "PUT",
    summary="Change a dataset's definition (later versions follow it)",
    scope="datasets:write",
    body=[DatasetDefinition],
    responses={200: ("The dataset", DatasetOut)},
    problems=[400, 404, 409, 413, 415, 422],
    description="Built versions keep the definition they were built with. `group_by` cannot "
    "change once a version exists.",
)
def update_dataset(name: str) -> Response:
    definition = validate(DatasetDefinition, json_body())
    with transaction() as session:
        dataset = service.update_dataset(session, caller().project_id, name, definition)
        out = service.dataset_out(session, dataset)
    return respond(out)


@operation(
    bp, "/datasets/<name>/versions", "POST",
    summary="Build a new version (a job); like a commit, it carries a message",
    scope="datasets:write",
    body=[VersionIn],
    responses={202: ("The version, building", VersionOut)},
    problems=[400, 404, 409, 413, 415, 422],
    description="Poll `GET /v1/datasets/{name}/versions` until its state is `ready` (or "
    "`failed`, with `error`). One build per dataset at a time: 409 while one is building.",
)
def build_version(name: str) -> Response:
    body = validate(VersionIn, json_body())
    queue = job_queue()
    with transaction() as session:
        version = service.request_version(session, caller().project_id, name, body.message,
                                          body.refresh_holdout, queue)
        dataset = service.get_dataset(session, caller().project_id, name)
        out = service.version_out(dataset, version)
    service.enqueue_build(queue, version)
    response = respond(out, 202)
    response.headers["Location"] = f"/v1/datasets/{name}/versions/{version.number}"
    return response


@operation(
    bp, "/datasets/<name>/versions", "GET",
    summary="A dataset's versions: state, message, counts per split",
    scope="datasets:read",
    responses={200: ("The versions, oldest first", VersionList)},
    problems=[404],
)
def list_versions(name: str) -> Response:
    with transaction() as session:
        dataset = service.get_dataset(session, caller().project_id, name)
        data = [service.version_out(dataset, v) for v in service.list_versions(session, dataset)]
    return respond(VersionList(data=data))


@operation(
    bp, "/datasets/<name>/versions/<version>", "GET",
    summary="A version's manifest.json (`latest` = the newest ready version)",
    scope="datasets:read",
    responses={200: ("manifest.json: version, parent, message, definition, per split counts, "
                     "label distributions and files (sha256, bytes), then the item ids", None),
               304: ("Not modified (If-None-Match matched the manifest's sha256)", None)},
    problems=[404, 409, 412, 416],
    description=FILE_DESCRIPTION,
)
def get_manifest(name: str, version: str) -> Response:
    store = dataset_store()
    with transaction() as session:
        dataset = service.get_dataset(session, caller().project_id, name)
        v = service.get_version(session, dataset, version, ready=True)
        stored = service.manifest_file(store, _project_slug(session), dataset, v)
    return _send(store, stored, "application/json")


@operation(
    bp, "/datasets/<name>/versions/<version>/files/<split>/<fmt>", "GET",
    summary="One data file of a version: split train|validation|test, format "
    "eval|finetune|preference (JSONL)",
    scope="datasets:read",
    responses={200: ("The JSONL file", None),
               206: ("The requested byte range", None),
               304: ("Not modified (If-None-Match matched the file's sha256)", None)},
    problems=[404, 409, 412, 416],
    description=FILE_DESCRIPTION,
)
def get_file(name: str, version: str, split: str, fmt: str) -> Response:
    store = dataset_store()
    with transaction() as session:
        dataset = service.get_dataset(session, caller().project_id, name)
        v = service.get_version(session, dataset, version, ready=True)
        stored = service.data_file(store, _project_slug(session), dataset, v, split, fmt)
    return _send(store, stored, NDJSON)


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str = Field(alias="from", max_length=20, description="A version number or latest")
    to: str = Field(max_length=20, description="A version number or latest")


@operation(
    bp, "/datasets/<name>/diff", "GET",
    summary="What changed between two versions, per split: items added, removed, changed",
    scope="datasets:read",
    query=DiffQuery,
    responses={200: ("The diff", DiffOut)},
    problems=[400, 404, 409],
)
def diff_versions(name: str) -> Response:
    q = query_args(DiffQuery)
    store = dataset_store()
    with transaction() as session:
        dataset = service.get_dataset(session, caller().project_id, name)
        a = service.get_version(session, dataset, q.from_, ready=True)
        b = service.get_version(session, dataset, q.to, ready=True)
        slug = _project_slug(session)
    return respond(service.diff(store, slug, dataset, a, b))


@operation(
    bp, "/datasets/<name>/versions/<version>/examples/<example_id>", "GET",
    summary="Lineage of an exported example: its item(s), generation, feedback events, "
    "annotations and PII findings",
    scope="items:read",
    responses={200: ("The lineage", LineageOut)},
    problems=[404, 409],
    description="`example_id` is an eval record's `id` (the item's id) or a preference "
    "record's `id` (`chosen>rejected`, or `item:tweak`). The generation and its feedback "
    "events are shown only to a key that may read them (`events:read`); all text is redacted.",
)
def example_lineage(name: str, version: str, example_id: str) -> Response:
    store = dataset_store()
    project_id = caller().project_id
    with transaction() as session:
        dataset = service.get_dataset(session, project_id, name)
        v = service.get_version(session, dataset, version, ready=True)
        project = session.get_one(Project, project_id)
        out = service.lineage(session, store, project.slug, project_id, dataset, v, example_id,
                              signal_map(project),
                              feedback=has_scope(caller(), Scope.EVENTS_READ.value))
    return respond(out)
