"""The Datasets pages: the project's datasets; one dataset's definition, versions (split sizes,
label tallies, files to download), the erasures that rewrote them, and the diff of two versions.

Downloads are console routes serving the very file the pull API serves (a browser link cannot
send a bearer key): the same manifest entry, the same stored bytes, as an attachment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import redirect, request, send_file
from flask.wrappers import Response
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from app.api.request import dataset_store, job_queue
from app.console.web import bp, page, render, signed, transaction
from app.dataset_files import FORMATS, SPLITS
from app.models import Dataset, DatasetVersion
from app.payloads.datasets import DiffOut, VersionIn, VersionOut
from app.services import datasets as service
from app.services.errors import Invalid
from app.services.keys import Scope

NDJSON = "application/x-ndjson"
DIFF_SHOWN = 200  # ids listed per split and kind of change; the counts are always whole


@dataclass
class VersionRow:
    """A version as its page shows it: the API's view, and from its manifest the label tallies
    and files of each split and the erasures that rewrote it."""

    out: VersionOut
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    erasures: list[dict[str, Any]] = field(default_factory=list)


@bp.get("/datasets")
@page(Scope.DATASETS_READ.value)
def datasets() -> str:
    project_id = signed().key.project_id
    with transaction() as session:
        rows = [service.dataset_out(session, d)
                for d in service.list_datasets(session, project_id)]
    return render("datasets.html", datasets=rows)


def _rows(dataset: Dataset, versions: list[DatasetVersion]) -> list[VersionRow]:
    store = dataset_store()
    rows = []
    for v in versions:
        row = VersionRow(service.version_out(dataset, v))
        if v.state == "ready":
            head = service.version_head(store, signed().project_slug, dataset, v)
            for split in SPLITS:
                part = head.get("splits", {}).get(split, {})
                row.labels[split] = part.get("labels", {})
                row.files[split] = part.get("files", {})
            row.erasures = list(head.get("erasures") or [])
        rows.append(row)
    return rows


@bp.get("/datasets/<name>")
@page(Scope.DATASETS_READ.value)
def datasets_detail(name: str) -> str:
    project_id = signed().key.project_id
    a_ref, b_ref = request.args.get("a", ""), request.args.get("b", "")
    diff: DiffOut | None = None
    with transaction() as session:
        dataset = service.get_dataset(session, project_id, name)
        out = service.dataset_out(session, dataset)
        versions = service.list_versions(session, dataset)
        rows = _rows(dataset, versions)
        if a_ref or b_ref:
            a = service.get_version(session, dataset, a_ref or "latest", ready=True)
            b = service.get_version(session, dataset, b_ref or "latest", ready=True)
            diff = service.diff(dataset_store(), signed().project_slug, dataset, a, b)
        erased = [(row.out.version, e) for row in rows for e in row.erasures]
        states = service.erasure_states(session, project_id,
                                        (i for _, e in erased for i in e.get("erasures", [])))
    ready = [r.out.version for r in rows if r.out.state == "ready"]
    a_default = a_ref or (str(ready[-2]) if len(ready) > 1 else str(ready[0]) if ready else "")
    b_default = b_ref or (str(ready[-1]) if ready else "")
    return render("datasets_detail.html", dataset=out,
                  definition=json.dumps(out.definition.model_dump(mode="json", exclude_none=True),
                                    indent=2),
                  versions=rows, ready=ready, diff=diff, a=a_default, b=b_default,
                  shown=DIFF_SHOWN, erased=erased, states=states, splits=SPLITS,
                  formats=FORMATS, requested=request.args.get("requested", type=int))


@bp.post("/datasets/<name>/versions")
@page(Scope.DATASETS_WRITE.value)
def datasets_build(name: str) -> BaseResponse:
    """Build a new version, as POST /v1/datasets/<name>/versions does (a job)."""
    try:
        body = VersionIn(message=request.form.get("message", "").strip(),
                         refresh_holdout=request.form.get("refresh_holdout") == "1")
    except ValidationError:
        raise Invalid("a new version needs a message of 1 to 2000 characters saying why "
                      "(nothing was built): go back and write one") from None
    queue = job_queue()
    with transaction() as session:
        version = service.request_version(session, signed().key.project_id, name,
                                          body.message, body.refresh_holdout, queue)
        number = version.number
    service.enqueue_build(queue, version)
    return redirect(f"/datasets/{name}?requested={number}#versions", 303)


def _version(name: str, version: int) -> tuple[Dataset, DatasetVersion, str]:
    with transaction() as session:
        dataset = service.get_dataset(session, signed().key.project_id, name)
        v = service.get_version(session, dataset, str(version), ready=True)
    return dataset, v, signed().project_slug


def _attachment(stored: service.StoredFile, mimetype: str, filename: str) -> Response:
    """The stored file itself (sendfile from a local store, else streamed), to save."""
    store = dataset_store()
    local = store.local_path(stored.key)
    source: Any = local if local is not None else store.open(stored.key)
    response = send_file(source, mimetype=mimetype, as_attachment=True,
                         download_name=filename, etag=stored.sha256, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/datasets/<name>/<int:version>/manifest.json")
@page(Scope.DATASETS_READ.value)
def datasets_manifest(name: str, version: int) -> Response:
    dataset, v, slug = _version(name, version)
    stored = service.manifest_file(dataset_store(), slug, dataset, v)
    return _attachment(stored, "application/json", f"{dataset.name}-v{v.number}-manifest.json")


@bp.get("/datasets/<name>/<int:version>/files/<split>/<fmt>.jsonl")
@page(Scope.DATASETS_READ.value)
def datasets_file(name: str, version: int, split: str, fmt: str) -> Response:
    dataset, v, slug = _version(name, version)
    stored = service.data_file(dataset_store(), slug, dataset, v, split, fmt)
    return _attachment(stored, NDJSON, f"{dataset.name}-v{v.number}-{split}-{fmt}.jsonl")
