"""Datasets: definitions, build requests, versions, their files, diffs and lineage.

The HTTP handlers and the CLI both call these; the build itself is the `BUILD` job
(app/jobs.py), enqueued after the request's transaction commits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import manifest
from app.dataset_files import FORMATS, SPLITS
from app.feedback import SignalMap
from app.jobs import BUILD, LIVE_STATES, JobQueue, new_job_id
from app.models import (
    Dataset,
    DatasetGroup,
    DatasetVersion,
    Erasure,
    Event,
    Item,
)
from app.models.base import utcnow
from app.payloads.datasets import (
    DatasetDefinition,
    DatasetOut,
    DiffOut,
    ItemLineage,
    LineageOut,
    SplitCounts,
    SplitDiff,
    VersionOut,
)
from app.services.errors import Conflict, Invalid, NotFound
from app.services.events import to_out as event_out
from app.services.generations import get_generation
from app.services.generations import to_out as generation_out
from app.services.items import annotations_of, item_detail
from app.services.reactions import generation_refs
from app.store import Store

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# A request commits its version, then enqueues the build: a version this young whose job the
# queue does not know yet is being enqueued, not abandoned.
ENQUEUE_GRACE = timedelta(seconds=30)
LATEST = "latest"


def check_name(name: str) -> str:
    if not NAME.match(name) or name in (".", ".."):
        raise NotFound(
            f"no dataset {name[:80]!r}: dataset names are 1-64 of a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def get_dataset(session: Session, project_id: int, name: str) -> Dataset:
    dataset = session.scalar(
        select(Dataset).where(Dataset.project_id == project_id, Dataset.name == check_name(name))
    )
    if dataset is None:
        raise NotFound(f"no dataset {name!r} in this project")
    return dataset


def create_dataset(session: Session, project_id: int, definition: DatasetDefinition) -> Dataset:
    taken = session.scalar(
        select(Dataset.id).where(Dataset.project_id == project_id, Dataset.name == definition.name)
    )
    if taken is not None:
        raise Conflict(f"a dataset named {definition.name!r} exists; update it instead")
    now = utcnow()
    dataset = Dataset(
        project_id=project_id,
        name=definition.name,
        purpose=definition.purpose,
        definition=definition.model_dump(mode="json"),
        salt=secrets.token_hex(16),
        holdouts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(dataset)
    session.flush()
    return dataset


def update_dataset(
    session: Session, project_id: int, name: str, definition: DatasetDefinition
) -> Dataset:
    """Later versions follow the new definition; built versions keep theirs. The grouping key
    cannot change once a version exists: groups already split would straddle splits."""
    dataset = get_dataset(session, project_id, name)
    if definition.name != dataset.name:
        raise Invalid(f"the body names {definition.name!r} but the path names {dataset.name!r}")
    old = DatasetDefinition.model_validate(dataset.definition)
    if old.group_by != definition.group_by and _version_count(session, dataset.id):
        raise Conflict(
            f"group_by cannot change from {old.group_by!r} once versions exist (items already "
            "split by it would straddle splits); define a new dataset instead"
        )
    dataset.definition = definition.model_dump(mode="json")
    dataset.purpose = definition.purpose
    dataset.updated_at = utcnow()
    return dataset


def list_datasets(session: Session, project_id: int) -> list[Dataset]:
    return list(
        session.scalars(
            select(Dataset).where(Dataset.project_id == project_id).order_by(Dataset.name)
        )
    )


def _version_count(session: Session, dataset_id: int) -> int:
    return session.scalar(
        select(func.count()).where(DatasetVersion.dataset_id == dataset_id)
    ) or 0


def _latest_ready(session: Session, dataset_id: int) -> int | None:
    return session.scalar(
        select(func.max(DatasetVersion.number)).where(
            DatasetVersion.dataset_id == dataset_id, DatasetVersion.state == "ready"
        )
    )


def dataset_out(session: Session, dataset: Dataset) -> DatasetOut:
    definition = DatasetDefinition.model_validate(dataset.definition)
    return DatasetOut(
        name=dataset.name,
        purpose=dataset.purpose,
        description=definition.description,
        definition=definition,
        versions=_version_count(session, dataset.id),
        latest=_latest_ready(session, dataset.id),
        holdout_refreshes=dataset.holdouts,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
    )


def request_version(
    session: Session,
    project_id: int,
    name: str,
    message: str,
    refresh_holdout: bool,
    queue: JobQueue,
) -> DatasetVersion:
    """A new version row in `building`; the caller enqueues the build after committing. One
    build per dataset at a time; a build whose job died is marked failed here."""
    dataset = get_dataset(session, project_id, name)
    # Serialise requests for this dataset (version numbers, the holdout refresh).
    session.execute(
        update(Dataset).where(Dataset.id == dataset.id).values(updated_at=Dataset.updated_at)
    )
    building = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.state == "building"
        )
    )
    if building is not None:
        status = queue.status(building.job_id) if building.job_id else None
        enqueuing = status is None and utcnow() - building.requested_at < ENQUEUE_GRACE
        if status in LIVE_STATES or enqueuing:
            raise Conflict(
                f"version {building.number} of {name!r} is still building; wait for it"
            )
        building.state = "failed"
        building.error = "interrupted: its build job is gone (worker stopped?)"
    number = (
        session.scalar(
            select(func.max(DatasetVersion.number)).where(
                DatasetVersion.dataset_id == dataset.id
            )
        )
        or 0
    ) + 1
    if refresh_holdout:
        session.execute(
            update(DatasetGroup)
            .where(DatasetGroup.dataset_id == dataset.id, DatasetGroup.split == "test")
            .values(split="retired")
        )
        dataset.holdouts += 1
    version = DatasetVersion(
        dataset_id=dataset.id,
        number=number,
        parent=_latest_ready(session, dataset.id),
        message=message,
        refresh_holdout=refresh_holdout,
        state="building",
        job_id=new_job_id("dsbuild"),
        definition=dataset.definition,
        requested_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return version


def enqueue_build(queue: JobQueue, version: DatasetVersion) -> None:

    queue.enqueue(BUILD, version.id, job_id=version.job_id)


def list_versions(session: Session, dataset: Dataset) -> list[DatasetVersion]:
    return list(
        session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.dataset_id == dataset.id)
            .order_by(DatasetVersion.number)
        )
    )


def get_version(session: Session, dataset: Dataset, ref: str, *, ready: bool) -> DatasetVersion:
    """`ref` is a version number or `latest` (the newest ready version)."""
    if ref == LATEST:
        number = _latest_ready(session, dataset.id)
        if number is None:
            raise NotFound(f"dataset {dataset.name!r} has no ready version yet")
    elif ref.isascii() and ref.isdigit() and len(ref) <= 9:
        number = int(ref)
    else:
        raise NotFound(f"no version {ref[:40]!r}: a version is a number or 'latest'")
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"dataset {dataset.name!r} has no version {number}")
    if ready and version.state != "ready":
        raise Conflict(f"version {number} of {dataset.name!r} is {version.state}, not ready")
    return version


def version_out(dataset: Dataset, v: DatasetVersion) -> VersionOut:
    counts = v.counts or {}
    return VersionOut(
        dataset=dataset.name,
        version=v.number,
        parent=v.parent,
        message=v.message,
        state=v.state,  # type: ignore[arg-type]
        refresh_holdout=v.refresh_holdout,
        requested_at=v.requested_at,
        built_at=v.built_at,
        error=v.error,
        manifest_sha256=v.manifest_sha256,
        splits={s: SplitCounts(**counts[s]) for s in SPLITS if s in counts} or None,
        excluded=counts.get("excluded"),
    )


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


def manifest_file(store: Store, project: str, dataset: Dataset, v: DatasetVersion) -> StoredFile:
    key = manifest.key(store, project, dataset.name, v.number)
    return StoredFile(key, v.manifest_sha256 or "", store.size(key))


def check_file(split: str, fmt: str) -> None:
    if split not in SPLITS:
        raise NotFound(f"no split {split[:40]!r}: one of {', '.join(SPLITS)}")
    if fmt not in FORMATS:
        raise NotFound(f"no format {fmt[:40]!r}: one of {', '.join(FORMATS)}")


def data_file(
    store: Store, project: str, dataset: Dataset, v: DatasetVersion, split: str, fmt: str
) -> StoredFile:
    """A data file and its checksum, as the version's manifest records them."""
    check_file(split, fmt)
    head = manifest.read_head(store, project, dataset.name, v.number)
    entry = head["splits"][split]["files"][fmt]
    key = store.key(project, dataset.name, v.number, split, f"{fmt}.jsonl")
    return StoredFile(key, entry["sha256"], int(entry["bytes"]))


def diff(store: Store, project: str, dataset: Dataset, a: DatasetVersion,
         b: DatasetVersion) -> DiffOut:
    old = manifest.item_index(store, project, dataset.name, a.number)
    new = manifest.item_index(store, project, dataset.name, b.number)
    before: dict[str, dict[str, str]] = {s: {} for s in SPLITS}
    after: dict[str, dict[str, str]] = {s: {} for s in SPLITS}
    for side, index in ((before, old), (after, new)):
        for example, (split, digest, _) in index.items():
            if split in side:
                side[split][example] = digest
    splits = {}
    summary = {}
    for split in SPLITS:
        was, now = before[split], after[split]
        both = now.keys() & was.keys()
        added = sorted(now.keys() - was.keys())
        removed = sorted(was.keys() - now.keys())
        changed = sorted(i for i in both if now[i] != was[i])
        splits[split] = SplitDiff(added=added, removed=removed, changed=changed)
        summary[split] = {
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "unchanged": len(both) - len(changed),
        }
    return DiffOut(
        dataset=dataset.name,
        from_version=a.number,
        to_version=b.number,
        splits=splits,
        summary=summary,
    )


def lineage(
    session: Session,
    store: Store,
    project: str,
    project_id: int,
    dataset: Dataset,
    v: DatasetVersion,
    example_id: str,
    signals: SignalMap,
    *,
    feedback: bool = True,
) -> LineageOut:
    """From an exported example (an item's id, or a pair's `chosen>rejected` / `item:tweak`)
    back to its items, their generation, feedback events, annotations and PII findings. The
    generation and events only with `feedback` (the caller may read them); text is redacted."""
    if ">" in example_id:
        ids = example_id.split(">", 1)
        files = ["preference"]
    elif example_id.endswith(":tweak"):
        ids = [example_id[: -len(":tweak")]]
        files = ["preference"]
    else:
        ids = [example_id]
        files = []
    index = manifest.item_index(store, project, dataset.name, v.number)
    where = {item_id: (index[item_id][0], index[item_id][2]) for item_id in ids
             if item_id in index}
    if len(where) != len(ids):
        raise NotFound(f"no example {example_id[:200]!r} in version {v.number} of {dataset.name!r}")
    split, flags = where[ids[0]]
    if not files:
        files = [name for flag, name in (("e", "eval"), ("f", "finetune")) if flag in flags]
    return LineageOut(
        dataset=dataset.name,
        version=v.number,
        example_id=example_id,
        split=split,
        files=files,
        items=[_item_lineage(session, project_id, item_id, signals, feedback) for item_id in ids],
    )


def _item_lineage(
    session: Session, project_id: int, item_id: str, signals: SignalMap, feedback: bool
) -> ItemLineage:
    item = session.scalar(
        select(Item).where(Item.project_id == project_id, Item.external_id == item_id)
    )
    if item is None:
        raise NotFound(f"item {item_id!r} of this example no longer exists (erased?)")
    refs = sorted(generation_refs(session, {item.id: item.generation_ref})[item.id])
    generation = None
    withheld: list[Literal["generation", "events"]] = [] if feedback else ["generation", "events"]
    if not feedback:
        refs = []
    elif item.generation_ref:
        row = get_generation(session, project_id, item.generation_ref)
        generation = generation_out(row) if row is not None else None
    events = [
        event_out(event, signals)  # free text and metadata as screened (redacted)
        for event in session.scalars(
            select(Event)
            .where(Event.project_id == project_id, Event.generation_ref.in_(refs))
            .order_by(Event.occurred_at, Event.id)
        )
    ] if refs else []
    annotations = annotations_of(session, item)
    return ItemLineage(item=item_detail(session, item, signals), generation=generation,
                       events=events, annotations=annotations, withheld=withheld)


def version_head(store: Store, project: str, dataset: Dataset, v: DatasetVersion) -> Any:
    """A ready version's manifest head: per split its label tallies and files (sha256, bytes,
    records), and the erasures that rewrote it; the item lists are not read."""
    return manifest.read_head(store, project, dataset.name, v.number)


def erasure_states(session: Session, project_id: int, ids: Iterable[int]) -> dict[int, str]:
    """The state (pending, done) of the project's erasures among `ids`, as manifests name
    them; an id not in the project is left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Erasure.id, Erasure.state).where(
        Erasure.project_id == project_id, Erasure.id.in_(wanted)))
    return {erasure_id: state for erasure_id, state in rows}


def ready_versions(session: Session, project_id: int) -> list[tuple[str, int]]:
    """Every ready version of the project's datasets as (name, number): by name, newest
    first (what a report on a chosen version offers)."""
    return [(name, number) for name, number in session.execute(
        select(Dataset.name, DatasetVersion.number)
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(Dataset.project_id == project_id, DatasetVersion.state == "ready")
        .order_by(Dataset.name, DatasetVersion.number.desc()))]
