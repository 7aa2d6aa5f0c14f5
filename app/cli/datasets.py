"""`winnow datasets`: define, build, list, diff, trace, pull and verify dataset versions.

Everything but `pull` and `verify` works on this installation's database (like the other admin
commands); `pull` and `verify` are what an eval job runs: over HTTP with an API key holding
`datasets:read`, checking every file against the manifest's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
from flask.cli import with_appcontext
from pydantic import ValidationError

from app.cli.common import (
    current_settings,
    database,
    drain_embedded_queue,
    fail,
    project_id_of,
    runtime,
    sealer,
)


def _service() -> Any:
    from app.services import datasets

    return datasets


def _split_ref(ref: str) -> tuple[str, str]:
    name, at, version = ref.partition("@")
    if not name:
        fail(f"{ref!r}: expected NAME or NAME@VERSION (VERSION a number or 'latest')")
    return name, version if at else "latest"


def _run(fn: Any) -> Any:
    from app.services.errors import ServiceError

    try:
        return fn()
    except ServiceError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))


@click.group()
def datasets() -> None:
    """Versioned eval and fine-tune datasets (see docs/datasets.md)."""


@datasets.command("define")
@click.argument("file", type=click.File("r"))
@click.option("--project", "slug", required=True, help="Project slug.")
@with_appcontext
def datasets_define(file: Any, slug: str) -> None:
    """Create or update a dataset from a YAML (or JSON) definition FILE ('-' for stdin).

    \b
    name: support-eval
    purpose: eval            # eval | finetune | preference
    selection:               # every criterion given must hold
      verdicts: [good]
      signals: [positive, strong_positive]
      models: [gpt-4o@2024-08-06]
      since: 2026-01-01T00:00:00Z
    splits: {train: 0.8, validation: 0.1, test: 0.1}
    group_by: conversation   # or user
    """
    from app.api.errors import field_errors
    from app.payloads.datasets import from_yaml

    try:
        definition = from_yaml(file.read())
    except ValidationError as exc:
        fail("; ".join(f"{e['field'] or '(file)'}: {e['detail']}" for e in field_errors(exc)))
    except ValueError as exc:
        fail(str(exc))
    project_id = project_id_of(slug)
    svc = _service()

    def apply() -> str:
        from app.services.errors import NotFound

        with database().session() as session:
            try:
                svc.get_dataset(session, project_id, definition.name)
            except NotFound:
                svc.create_dataset(session, project_id, definition)
                return "created"
            svc.update_dataset(session, project_id, definition.name, definition)
            return "updated"

    click.echo(f"{_run(apply)} dataset {definition.name}")


@datasets.command("list")
@click.option("--project", "slug", required=True)
@with_appcontext
def datasets_list(slug: str) -> None:
    """The project's datasets with their newest ready version."""
    project_id = project_id_of(slug)
    svc = _service()
    with database().session() as session:
        rows = [svc.dataset_out(session, d) for d in svc.list_datasets(session, project_id)]
    for d in rows:
        latest = d.latest if d.latest is not None else "-"
        click.echo(f"{d.name}\t{d.purpose}\tlatest={latest}\tversions={d.versions}")


@datasets.command("show")
@click.argument("name")
@click.option("--project", "slug", required=True)
@with_appcontext
def datasets_show(name: str, slug: str) -> None:
    """A dataset's definition and versions, as JSON."""
    dataset, versions = _versions(project_id_of(slug), name)
    out = dataset.model_dump(mode="json")
    out["version_list"] = [v.model_dump(mode="json") for v in versions]
    click.echo(json.dumps(out, indent=2))


def _versions(project_id: int, name: str) -> tuple[Any, list[Any]]:
    """The dataset NAME (DatasetOut) and its versions (VersionOut), oldest first."""
    svc = _service()

    def read() -> tuple[Any, list[Any]]:
        with database().session() as session:
            dataset = svc.get_dataset(session, project_id, name)
            return svc.dataset_out(session, dataset), [
                svc.version_out(dataset, v) for v in svc.list_versions(session, dataset)]

    result: tuple[Any, list[Any]] = _run(read)
    return result


@datasets.command("build")
@click.argument("name")
@click.option("--project", "slug", required=True)
@click.option("-m", "--message", required=True, help="Why this version (like a commit).")
@click.option("--refresh-holdout", is_flag=True,
              help="Retire the current test split and draw a new one from unseen items.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the build (a worker must be running unless embedded).")
@with_appcontext
def datasets_build(name: str, slug: str, message: str, refresh_holdout: bool,
                   wait: bool) -> None:
    """Build a new immutable version of NAME (an RQ job, run here when embedded)."""

    project_id = project_id_of(slug)
    svc = _service()
    queue = runtime().queue

    def request() -> Any:
        with database().session() as session:
            return svc.request_version(session, project_id, name, message, refresh_holdout,
                                       queue)

    version = _run(request)
    svc.enqueue_build(queue, version)
    click.echo(f"{name} version {version.number}: building (job {version.job_id})")
    if not wait:
        return
    while True:
        with database().session() as session:
            dataset = svc.get_dataset(session, project_id, name)
            out = svc.version_out(
                dataset, svc.get_version(session, dataset, str(version.number), ready=False))
        if out.state != "building":
            break
        time.sleep(0.5)
    if out.state == "failed":
        fail(f"{name} version {version.number} failed: {out.error}")
    summary = ", ".join(f"{s} {c.items}" for s, c in (out.splits or {}).items())
    click.echo(f"{name} version {version.number}: ready ({summary})")


@datasets.command("versions")
@click.argument("name")
@click.option("--project", "slug", required=True)
@with_appcontext
def datasets_versions(name: str, slug: str) -> None:
    """A dataset's versions: number, state, counts per split, message."""
    for v in _versions(project_id_of(slug), name)[1]:
        splits = " ".join(f"{s}={c.items}" for s, c in (v.splits or {}).items())
        flag = " [holdout refreshed]" if v.refresh_holdout else ""
        click.echo(f"{v.version}\t{v.state}\t{splits}\t{v.message}{flag}")


@datasets.command("diff")
@click.argument("name")
@click.argument("old")
@click.argument("new")
@click.option("--project", "slug", required=True)
@click.option("--ids", "show_ids", is_flag=True, help="List the ids, not only the counts.")
@with_appcontext
def datasets_diff(name: str, old: str, new: str, slug: str, show_ids: bool) -> None:
    """Items added, removed and changed per split between versions OLD and NEW."""

    project_id = project_id_of(slug)
    svc = _service()

    def compute() -> Any:

        with database().session() as session:
            dataset = svc.get_dataset(session, project_id, name)
            a = svc.get_version(session, dataset, old, ready=True)
            b = svc.get_version(session, dataset, new, ready=True)
        return svc.diff(runtime().store, slug, dataset, a, b)

    d = _run(compute)
    for split, counts in d.summary.items():
        click.echo(f"{split}: " + " ".join(f"{k}={v}" for k, v in counts.items()))
        if show_ids:
            for kind in ("added", "removed", "changed"):
                for item in getattr(d.splits[split], kind):
                    click.echo(f"  {kind[0].upper()} {item}")


@datasets.command("lineage")
@click.argument("ref")
@click.argument("example_id")
@click.option("--project", "slug", required=True)
@with_appcontext
def datasets_lineage(ref: str, example_id: str, slug: str) -> None:
    """Where EXAMPLE_ID of NAME@VERSION came from: items, events, annotations, PII findings."""
    from app.models import Project
    from app.services.projects import signal_map

    name, version = _split_ref(ref)
    project_id = project_id_of(slug)
    svc = _service()

    def trace() -> Any:
        with database().session() as session:
            dataset = svc.get_dataset(session, project_id, name)
            v = svc.get_version(session, dataset, version, ready=True)
            project = session.get_one(Project, project_id)
            return svc.lineage(session, runtime().store, slug, project_id,
                               dataset, v, example_id, signal_map(project))

    click.echo(_run(trace).model_dump_json(indent=2))


# --- what an eval job runs ------------------------------------------------------------------


def _problem(resp: Any) -> str:
    try:
        body = resp.json()
        return f"{resp.status_code} {body.get('title', '')}: {body.get('detail', '')}"
    except ValueError:
        return f"HTTP {resp.status_code}"


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _local_url() -> str:
    """Where `winnow up` on this machine listens (WINNOW_HOST, WINNOW_PORT), not a fixed port."""
    host = os.environ.get("WINNOW_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('WINNOW_PORT') or 8000}"


@datasets.command("pull")
@click.argument("ref")
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Directory to write into.")
@click.option("--split", "splits", multiple=True,
              type=click.Choice(["train", "validation", "test"]),
              help="Repeatable [default: every split].")
@click.option("--format", "formats", multiple=True,
              type=click.Choice(["eval", "finetune", "preference"]),
              help="Repeatable [default: every format].")
@click.option("--url", envvar="WINNOW_URL", default=lambda: _local_url(),
              help="The Winnow server [env WINNOW_URL; default: this machine on WINNOW_HOST "
              "and WINNOW_PORT, as `winnow up` listens: http://127.0.0.1:8000].")
@click.option("--key", envvar="WINNOW_API_KEY", required=True,
              help="An API key with datasets:read [env WINNOW_API_KEY].")
def datasets_pull(ref: str, out_dir: Path, splits: tuple[str, ...], formats: tuple[str, ...],
                  url: str, key: str) -> None:
    """Download NAME@VERSION (VERSION a number or 'latest') into a directory and verify every
    file's sha256 against the manifest. Files already there and intact are not downloaded
    again; an interrupted download resumes. Exits 1 if any checksum does not match.
    """
    import httpx

    name, version = _split_ref(ref)
    transport = httpx.HTTPTransport(retries=3)
    with httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=60.0,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        try:
            resp = client.get(f"/v1/datasets/{name}/versions/{version}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            fail(f"cannot reach {url}: {type(exc).__name__}")
        if resp.status_code != 200:
            fail(f"{ref}: {_problem(resp)}")
        raw = resp.content
        etag = resp.headers.get("ETag", "").strip('"')
        if etag and hashlib.sha256(raw).hexdigest() != etag:
            fail(f"{ref}: the manifest does not match its checksum (corrupted in transit?)")
        try:
            manifest = orjson.loads(raw)
            number = int(manifest["version"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            fail(f"{ref}: the server's answer is not a Winnow dataset manifest")
        files = _manifest_files(manifest, ref)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "manifest.json").write_bytes(raw)
        bad = []
        for (split, fmt), (path, entry) in files.items():
            if (splits and split not in splits) or (formats and fmt not in formats):
                continue
            url_path = f"/v1/datasets/{name}/versions/{number}/files/{split}/{fmt}"
            if not _pull_file(client, url_path, out_dir / path, path, entry):
                bad.append(path)
    if bad:
        fail(f"checksum mismatch for {', '.join(bad)}: the files were removed; pull again, and "
              "report it if it persists (the stored file may be corrupted)")
    click.echo(f"pulled {name}@{number} into {out_dir}: checksums verified")


def _manifest_files(manifest: Any, what: str) -> dict[tuple[str, str], tuple[str, Any]]:
    """(split, format) -> (relative path, entry with sha256 and bytes). The paths are made here
    from known split and format names, never taken from the manifest: a manifest cannot send a
    file outside the output directory."""
    from app.dataset_files import FORMATS, SPLITS

    try:
        files = {}
        for split in SPLITS:
            for fmt in FORMATS:
                entry = manifest["splits"][split]["files"][fmt]
                if not isinstance(entry["sha256"], str) or not isinstance(entry["bytes"], int):
                    raise TypeError
                files[(split, fmt)] = (f"{split}/{fmt}.jsonl", entry)
        return files
    except (KeyError, TypeError):
        fail(f"{what}: not a Winnow dataset manifest")
    raise AssertionError


def _pull_file(client: Any, url_path: str, dest: Path, path: str, entry: dict[str, Any]) -> bool:
    import httpx

    if dest.exists() and _sha256(dest) == (entry["sha256"], entry["bytes"]):
        click.echo(f"{path}: up to date")
        return True
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    have = 0
    headers = {}
    if partial.exists() and 0 < partial.stat().st_size < entry["bytes"]:
        with partial.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                have += len(block)
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{entry["sha256"]}"'}
    try:
        with client.stream("GET", url_path, headers=headers) as resp:
            if resp.status_code == 206:
                click.echo(f"{path}: resumed at byte {have}")
            elif resp.status_code == 200 and have:
                digest, have = hashlib.sha256(), 0  # the server sent it whole
            elif resp.status_code not in (200, 206):
                resp.read()
                fail(f"{path}: {_problem(resp)}")
            with partial.open("ab" if have else "wb") as out:
                for block in resp.iter_bytes(1 << 20):
                    out.write(block)
                    digest.update(block)
                    have += len(block)
    except httpx.HTTPError as exc:
        fail(f"{path}: download interrupted ({type(exc).__name__}); run pull again "
              "to resume")
    if digest.hexdigest() != entry["sha256"] or have != entry["bytes"]:
        partial.unlink(missing_ok=True)
        click.echo(f"{path}: CHECKSUM MISMATCH (expected sha256 {entry['sha256']}, "
                   f"{entry['bytes']} bytes; got {digest.hexdigest()}, {have} bytes)", err=True)
        return False
    os.replace(partial, dest)
    click.echo(f"{path}: {have} bytes, sha256 ok")
    return True


@datasets.command("verify")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def datasets_verify(directory: Path) -> None:
    """Check the files of a pulled version against its manifest.json; exits 1 if any file is
    corrupted (missing files are reported, not failures: pull may have taken some splits)."""
    try:
        manifest = orjson.loads((directory / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"{directory}/manifest.json: cannot read it ({type(exc).__name__})")
    corrupted = []
    for path, entry in _manifest_files(manifest, "manifest.json").values():
        if not (directory / path).exists():
            click.echo(f"{path}: not pulled")
        elif _sha256(directory / path) != (entry["sha256"], entry["bytes"]):
            corrupted.append(path)
            click.echo(f"{path}: CORRUPTED (sha256 differs from the manifest)", err=True)
        else:
            click.echo(f"{path}: ok")
    if corrupted:
        raise SystemExit(1)




# --- `winnow import hh-rlhf | oasst`: public preference data as feedback -----------------------


def _import_bundles(slug: str, bundles: Any) -> None:
    """Store bundles a chunk at a time (generations, then items, then events), report counts."""
    from app.services.conversations import from_conversation, store_shares
    from app.services.events import store_events
    from app.services.generations import store_generations
    from app.services.screening import Sealing
    from workers.datasets.imports import Bundle, Skipped

    project_id = project_id_of(slug)
    box = sealer()
    counts = {"records": 0, "skipped": 0, "items": 0, "duplicate": 0, "conflict": 0}
    chunk = Bundle()

    sealing = Sealing(lambda: box, runtime().queue)

    def flush() -> None:
        with database().session() as session:
            store_generations(session, project_id, chunk.generations, sealing=sealing)
            outcomes = store_shares(session, project_id,
                                    [from_conversation(c) for c in chunk.conversations],
                                    source="import", box=box, queue=runtime().queue)
            store_events(session, project_id, chunk.events, sealing=sealing)
        counts["items"] += outcomes.count("created")
        counts["duplicate"] += outcomes.count("duplicate")
        counts["conflict"] += outcomes.count("conflict")
        chunk.generations.clear()
        chunk.conversations.clear()
        chunk.events.clear()

    for where, made in bundles:
        if isinstance(made, Skipped):
            counts["skipped"] += 1
            click.echo(f"{where}: skipped: {made}", err=True)
            continue
        counts["records"] += 1
        for bundle in made:
            chunk.generations += bundle.generations
            chunk.conversations += bundle.conversations
            chunk.events += bundle.events
        if len(chunk.conversations) >= 500:
            flush()
    if chunk.conversations:
        flush()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    drain_embedded_queue()


def _json_lines(path: Path, limit: int | None) -> Iterator[tuple[str, Any]]:
    import gzip

    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        n = 0
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                return
            n += 1
            try:
                yield f"line {lineno}", orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                from workers.datasets.imports import Skipped

                yield f"line {lineno}", Skipped(f"not valid JSON ({exc.msg})")


def _converted(records: Iterator[tuple[str, Any]], convert: Any) -> Iterator[tuple[str, Any]]:
    from workers.datasets.imports import Skipped

    for where, record in records:
        if isinstance(record, Skipped):
            yield where, record
            continue
        try:
            yield where, list(convert(record, where))
        except Skipped as exc:
            yield where, exc
        except ValidationError as exc:
            yield where, Skipped(f"does not fit a conversation ({exc.error_count()} error(s), "
                                 f"first at {'.'.join(map(str, exc.errors()[0]['loc']))})")


_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
_LIMIT = click.option("--limit", type=click.IntRange(1), default=None,
                      help="Import only the first N records.")


@click.command("hh-rlhf")
@click.argument("file", type=_FILE)
@click.option("--project", "slug", required=True, help="Project slug.")
@_LIMIT
@with_appcontext
def import_hh_rlhf(file: Path, slug: str, limit: int | None) -> None:
    """Import Anthropic hh-rlhf comparisons (JSONL, optionally .gz) as feedback.

    Each record's two answers become two shared conversations of one conversation id, the
    chosen one with a thumbs up, the rejected one with a thumbs down. They are screened like
    any share; a preference dataset then exports them as pairs again. Ids are hh-<line>-chosen
    and hh-<line>-rejected, so importing a file again changes nothing.
    """
    from workers.datasets.imports import hh_rlhf

    def convert(record: Any, where: str) -> Any:
        return [hh_rlhf(record, int(where.split()[1]))]

    _import_bundles(slug, _converted(_json_lines(file, limit), convert))


@click.command("oasst")
@click.argument("file", type=_FILE)
@click.option("--project", "slug", required=True, help="Project slug.")
@_LIMIT
@with_appcontext
def import_oasst(file: Path, slug: str, limit: int | None) -> None:
    """Import OpenAssistant message trees (JSONL of trees, optionally .gz) as rankings.

    Every message with two or more ranked assistant replies becomes one conversation per reply
    (the path from the root, then the reply) with a `rank` event (oasst rank 0 = rank 1, best).
    A preference dataset exports every two differently ranked replies as a pair.
    """
    from workers.datasets.imports import oasst_tree

    def convert(record: Any, _where: str) -> Any:
        return oasst_tree(record)

    _import_bundles(slug, _converted(_json_lines(file, limit), convert))


@click.group()
def users() -> None:
    """What Winnow holds about a product's users."""


@users.command("show")
@click.argument("user_id")
@click.option("--project", "slug", required=True)
@with_appcontext
def users_show(user_id: str, slug: str) -> None:
    """Everything Winnow holds about USER_ID, as GET /v1/users/{id} returns it (JSON, redacted
    text only): for a data-subject access request, before `winnow users erase`."""
    import re

    from app.models import Project
    from app.payloads.common import IDENTIFIER_PATTERN
    from app.services.access import user_data
    from app.services.projects import signal_map

    if not re.fullmatch(IDENTIFIER_PATTERN, user_id):
        fail("a user id is 1-128 of A-Z a-z 0-9 . _ : @ + = -, not starting with punctuation")
    project_id = project_id_of(slug)
    with database().session() as session:
        project = session.get_one(Project, project_id)
        out = user_data(session, runtime().store, project_id, slug, user_id,
                        signal_map(project))
    click.echo(out.model_dump_json(indent=2))


@users.command("erase")
@click.argument("user_id")
@click.option("--project", "slug", required=True)
@with_appcontext
def users_erase(user_id: str, slug: str) -> None:
    """Erase USER_ID: their events, items, generations and Label Studio tasks now, and their
    examples from every stored dataset version (a job; run here when embedded)."""
    from app.services.erasure import erase_user

    project_id = project_id_of(slug)
    erasure = _run(lambda: erase_user(database(), current_settings(), runtime().queue,
                                      project_id, user_id, "cli"))
    click.echo(f"erasure {erasure.id}: " + " ".join(f"{k}={v}" for k, v in
                                                     erasure.counts.items()))
    drain_embedded_queue()


DATASET_COMMANDS = (datasets, users)
IMPORT_COMMANDS = (import_hh_rlhf, import_oasst)
