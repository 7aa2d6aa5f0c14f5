"""Purging erased users' examples from stored dataset versions (the erasure's second half; the
first, in app.services.erasure, deletes their rows and Label Studio tasks at once).

Every ready version whose manifest lists an erased example has its files rewritten without it
(eval and preference lines by their ids, fine-tune lines by the manifest's order), and its
manifest rewritten with the new checksums, counts and label distributions, and an entry in
`erasures` saying when and how many items went. A version still building when the erasure came
purges itself before it is marked ready; the erasure is done (and forgets the ids it kept) once
no version of the project is building.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import select, update

from app import manifest, runtime
from app.dataset_files import FORMATS, SPLITS
from app.jobs import PURGE
from app.models import Dataset, DatasetVersion, Erasure, Item, Project
from app.models.base import utcnow
from app.store import Store
from workers.curation.dedupe import conversation_text
from workers.curation.runtime import models
from workers.curation.types import Turn
from workers.datasets.formats import Sink

log = logging.getLogger("winnow.datasets")


def purge(erasure_id: int) -> dict[str, int]:
    """Purge one pending erasure from every ready version of its project."""
    rt = runtime.current()
    store = rt.store
    with rt.db.session() as session:
        erasure = session.get(Erasure, erasure_id)
        if erasure is None or erasure.state != "pending":
            return {}
        project = session.get_one(Project, erasure.project_id)
        examples = set(erasure.examples or ())
        item_ids = list(erasure.item_ids or ())
        promoted: dict[int, Any] = dict(
            session.execute(
                select(Item.id, Item.redacted).where(Item.id.in_(erasure.promoted_ids or []))
            ).all()
        )
        versions = session.execute(
            select(Dataset, DatasetVersion)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .where(Dataset.project_id == project.id, DatasetVersion.state == "ready")
            .order_by(Dataset.id, DatasetVersion.number)
        ).all()
        slug = project.slug
    index = models().index
    if item_ids:
        index.forget(project.id, item_ids)
    for item_id, redacted in sorted(promoted.items()):  # canonical now, in their place
        if redacted is not None and index.is_loaded(project.id):
            turns = [Turn(t["role"], t["text"]) for t in redacted]
            index.add(project.id, item_id, conversation_text(turns))
    purged = 0
    for dataset, version in versions:
        done = purge_version(store, slug, dataset.name, version.number, {erasure_id: examples})
        if done is not None:
            record(version.id, *done)
            purged += 1
    finish(project.id)
    log.info("erasure %d: purged %d dataset version(s)", erasure_id, purged)
    return {"versions": purged}


def pending(project_id: int) -> dict[int, set[str]]:
    with runtime.current().db.session() as session:
        rows = session.execute(
            select(Erasure.id, Erasure.examples).where(
                Erasure.project_id == project_id, Erasure.state == "pending"
            )
        ).all()
    return {erasure_id: set(examples or ()) for erasure_id, examples in rows}


def finish(project_id: int) -> None:
    """Pending erasures are done once no version of the project is building (a build running
    when an erasure came purges itself before it is marked ready)."""
    with runtime.current().db.session() as session:
        building = session.scalar(
            select(DatasetVersion.id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(Dataset.project_id == project_id, DatasetVersion.state == "building")
            .limit(1)
        )
        if building is None:
            session.execute(
                update(Erasure)
                .where(Erasure.project_id == project_id, Erasure.state == "pending")
                .values(
                    state="done", done_at=utcnow(), examples=None, item_ids=None, promoted_ids=None
                )
            )


def reconcile_erasures(older_than: timedelta) -> int:
    """Enqueue the purge again for erasures still pending (their job lost, or a build that was
    running has ended); the purge is idempotent."""
    rt = runtime.current()
    with rt.db.session() as session:
        ids = list(
            session.scalars(
                select(Erasure.id).where(
                    Erasure.state == "pending", Erasure.requested_at <= utcnow() - older_than
                )
            )
        )
    for erasure_id in ids:
        rt.queue.enqueue(PURGE, erasure_id)
    return len(ids)


def record(version_id: int, manifest_sha256: str, counts: dict[str, Any]) -> None:
    with runtime.current().db.session() as session:
        row = session.get_one(DatasetVersion, version_id)
        counts["excluded"] = (row.counts or {}).get("excluded", {})
        row.manifest_sha256 = manifest_sha256
        row.counts = counts


def purge_version(
    store: Store, project: str, name: str, number: int, erasures: dict[int, set[str]]
) -> tuple[str, dict[str, Any]] | None:
    """Rewrite one version without the erased examples: its new manifest sha256 and counts per
    split, or None if it held none of them."""
    gone = set().union(*erasures.values()) if erasures else set()
    if not gone:
        return None
    contents = manifest.read(store, project, name, number)
    hit = {
        split: [e for e in entries if e[0] in gone] for split, entries in contents["items"].items()
    }
    removed = sum(len(v) for v in hit.values())
    if not removed:
        return None
    counts: dict[str, Any] = {}
    for split in SPLITS:
        entries = contents["items"][split]
        kept = [e for e in entries if e[0] not in gone]
        origins: Counter[str] = Counter()
        files = contents["splits"][split]["files"]
        for fmt in FORMATS:
            path = store.key(project, name, number, split, f"{fmt}.jsonl")
            # Streamed: the new file is written beside the old one and replaces it at the end.
            with store.open(path) as source, store.writer(path) as out:
                sink = Sink(out)
                for data in _keep(fmt, source, entries, gone, origins):
                    sink.add(data)
                sink.flush()
            files[fmt].update(
                sha256=sink.digest.hexdigest(), bytes=sink.bytes, records=sink.records
            )
        contents["items"][split] = kept
        contents["splits"][split]["items"] = len(kept)
        contents["splits"][split]["labels"] = manifest.tally(kept, origins)
        counts[split] = {"items": len(kept), **{f: files[f]["records"] for f in FORMATS}}
    contents.setdefault("erasures", []).append(
        {
            "erasures": sorted(erasures),
            "at": utcnow().isoformat().replace("+00:00", "Z"),
            "items_removed": removed,
        }
    )
    items = contents.pop("items")
    with store.writer(manifest.key(store, project, name, number)) as out:
        sink = Sink(out)
        manifest.write(
            sink,
            contents,
            {s: (orjson.dumps(e) for e in items[s]) for s in SPLITS},
        )
    return sink.digest.hexdigest(), counts


def _keep(
    fmt: str, source: Any, entries: list[Any], gone: set[str], origins: Counter[str]
) -> Iterator[bytes]:
    if fmt == "finetune":
        # Fine-tune lines carry no id: they follow the manifest's entries flagged "f".
        owners = (e[0] for e in entries if "f" in e[2])
        for line, owner in zip(source, owners, strict=True):
            if owner not in gone:
                yield line
        return
    for line in source:
        record = orjson.loads(line)
        if fmt == "eval" and record["id"] in gone:
            continue
        if fmt == "preference":
            if record["source"]["chosen"] in gone or record["source"]["rejected"] in gone:
                continue
            origins[record["origin"]] += 1
        yield line
