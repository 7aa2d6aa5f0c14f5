"""The build job: one immutable dataset version, streamed from the database into the store.

Reads the project's curated items a chunk at a time (`source`), keeps those the definition
selects (`select`), gives each its group's recorded split (drawing and recording new groups'
splits as it goes: `splits`), and writes per split eval, fine-tune and preference JSONL plus one
`manifest.json`. Memory stays flat: nothing but the current chunk (and the current
conversation's items) is held; item ids go to temporary files and are poured into the manifest
at the end. The same inputs give byte-identical data files (fixed order, sorted keys).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, TypeVar

import orjson
from psycopg.errors import UniqueViolation
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import manifest, runtime
from app.dataset_files import FORMATS, RETIRED, SPLITS
from app.db import among
from app.models import Dataset, DatasetGroup, DatasetVersion, Project
from app.models.base import utcnow
from app.payloads.datasets import DatasetDefinition
from app.services.projects import signal_map
from app.store import Store
from workers.collector import full_collections_deferred
from workers.curation.runtime import models
from workers.datasets import erasure
from workers.datasets.formats import (
    Sink,
    eval_record,
    finetune_of,
    line,
    preference_record,
)
from workers.datasets.select import (
    Candidate,
    Labels,
    alternative_pairs,
    example_of,
    group_hash,
    group_key,
    labels_of,
    matches,
    tweak_pair,
)
from workers.datasets.source import candidates
from workers.datasets.splits import Ratios, assign

log = logging.getLogger("winnow.datasets")
T = TypeVar("T")


@dataclass
class SplitOut:
    sinks: dict[str, Sink]
    ids: IO[bytes]  # the split's manifest entries, framed (manifest.write_framed)
    items: int = 0
    origins: Counter[str] = field(default_factory=Counter)
    labels: manifest.Tally = field(default_factory=manifest.Tally)


@dataclass(frozen=True)
class Job:
    """What a build needs, read once from the version row."""

    dataset_id: int
    project: str
    name: str
    number: int
    parent: int | None
    message: str
    refresh_holdout: bool
    definition: DatasetDefinition
    salt: str
    holdouts: int


def build_version(version_id: int) -> dict[str, Any]:
    rt = runtime.current()
    with rt.db.session() as session:
        version = session.get(DatasetVersion, version_id)
        if version is None or version.state != "building":
            return {}
        dataset = session.get_one(Dataset, version.dataset_id)
        project = session.get_one(Project, dataset.project_id)
        signals = signal_map(project)
        job = Job(
            dataset.id,
            project.slug,
            dataset.name,
            version.number,
            version.parent,
            version.message,
            version.refresh_holdout,
            DatasetDefinition.model_validate(version.definition),
            dataset.salt,
            dataset.holdouts,
        )
        project_id = project.id
    store = rt.store
    try:
        with full_collections_deferred():
            manifest_sha, counts = Builder(job, store).run(project_id, signals)
    except Exception as exc:
        own = type(exc).__module__.startswith(("workers", "app"))
        error = f"{type(exc).__name__}: {exc}" if own else type(exc).__name__
        # Not log.exception: a library's message or traceback may quote data.
        log.error("building %s version %d failed: %s", job.name, job.number, error)
        # No partial version: files already moved into place go too (the number is never
        # reused, so the folder holds nothing else).
        try:
            store.remove_tree(store.key(job.project, job.name, job.number))
        except OSError as cleanup:
            log.error("could not remove the files of %s version %d (%s)", job.name, job.number,
                      type(cleanup).__name__)
        with rt.db.session() as session:
            session.execute(
                update(DatasetVersion)
                .where(DatasetVersion.id == version_id, DatasetVersion.state == "building")
                .values(state="failed", error=error[:300])
            )
        return {"state": "failed"}
    # Users erased while this version was being built: their examples go before it is ready,
    # and again after (an erasure that came in between saw this version still building).
    purged = erasure.purge_version(
        store, job.project, job.name, job.number, erasure.pending(project_id)
    )
    if purged is not None:
        manifest_sha, counts = purged[0], {**purged[1], "excluded": counts["excluded"]}
    with rt.db.session() as session:
        session.execute(
            update(DatasetVersion)
            .where(DatasetVersion.id == version_id, DatasetVersion.state == "building")
            .values(state="ready", built_at=utcnow(), manifest_sha256=manifest_sha, counts=counts)
        )
    purged = erasure.purge_version(
        store, job.project, job.name, job.number, erasure.pending(project_id)
    )
    if purged is not None:
        erasure.record(version_id, *purged)
        counts = {**purged[1], "excluded": counts["excluded"]}
    erasure.finish(project_id)
    log.info("built %s version %d: %s", job.name, job.number, counts)
    return {"state": "ready", **counts}


class Builder:
    def __init__(self, job: Job, store: Store) -> None:
        self.job = job
        self.store = store
        d = job.definition
        self.ratios = Ratios(d.splits.train, d.splits.validation, d.splits.test)
        self.excluded: Counter[str] = Counter()

    def key(self, *parts: str | int) -> str:
        return self.store.key(self.job.project, self.job.name, self.job.number, *parts)

    def run(self, project_id: int, signals: Any) -> tuple[str, dict[str, Any]]:
        rt = runtime.current()
        with rt.db.session() as session:
            recorded_any = session.scalar(
                select(DatasetGroup.group_hash)
                .where(DatasetGroup.dataset_id == self.job.dataset_id)
                .limit(1)
            )
        # Grouped by conversation, items arrive conversation by conversation, so a group can
        # only recur in the next chunk: the read-ahead thread may look recorded splits up
        # (the previous chunk's new groups are merged in from memory), and a writer thread
        # records new ones. Grouped by user, a group may recur anywhere: both stay in step.
        self.ahead = self.group_by == "conversation"
        self.fresh = recorded_any is None
        self.recent: dict[str, str] = {}
        self.writer = GroupWriter() if self.ahead else None
        try:
            return self._run(project_id, signals)
        finally:
            if self.writer is not None:
                self.writer.stop()

    def _run(self, project_id: int, signals: Any) -> tuple[str, dict[str, Any]]:
        rt = runtime.current()
        chunk_size = rt.settings.dataset_chunk_size
        selection = self.job.definition.selection
        with ExitStack() as temporary:
            with ExitStack() as files:
                outs: dict[str, SplitOut] = {}
                for split in SPLITS:
                    sinks = {}
                    for fmt in FORMATS:
                        writer = self.store.writer(self.key(split, f"{fmt}.jsonl"))
                        sinks[fmt] = Sink(files.enter_context(writer))
                    ids = temporary.enter_context(tempfile.TemporaryFile())
                    outs[split] = SplitOut(sinks, ids)
                self.outs = outs
                run: list[tuple[Candidate, Labels, str]] = []
                conversation: str | None = None
                chunks = candidates(
                    rt.db.sessions,
                    project_id,
                    signals,
                    chunk_size,
                    _screen_free_text,
                    since=selection.since,
                    until=selection.until,
                )
                # Reading (and, by conversation, looking splits up) runs a chunk ahead.
                for chunk, recorded in prefetch(self.look_up(chunk) for chunk in chunks):
                    for c, labels, split in self.assign(chunk, recorded):
                        if run and (c.conversation is None or c.conversation != conversation):
                            self.flush(run)
                            run = []
                        conversation = c.conversation
                        run.append((c, labels, split))
                if run:
                    self.flush(run)
                for out in outs.values():
                    for sink in out.sinks.values():
                        sink.flush()
                if self.writer is not None:
                    self.writer.close()  # every split recorded (or the build fails)
            # The data files are in place once `files` closes; the manifest goes last.
            return self.write_manifest()

    def hashes(self, chunk: Sequence[Candidate]) -> list[str]:
        return [group_hash(self.job.salt, group_key(c, self.group_by)) for c in chunk]

    def recorded(self, hashes: Sequence[str]) -> dict[str, str]:
        if self.fresh or not hashes:
            return {}
        with runtime.current().db.session() as session:
            dialect = session.get_bind().dialect.name
            rows = session.connection().execute(
                select(DatasetGroup.group_hash, DatasetGroup.split).where(
                    DatasetGroup.dataset_id == self.job.dataset_id,
                    among(DatasetGroup.group_hash, sorted(set(hashes)), dialect),
                )
            )
            return {g: split for g, split in rows}

    def look_up(
        self, chunk: list[Candidate]
    ) -> tuple[list[Candidate], tuple[list[str], dict[str, str]] | None]:
        """In the read-ahead thread (by conversation): the chunk's group hashes and their
        recorded splits."""
        if not self.ahead:
            return chunk, None
        hashes = self.hashes(chunk)
        return chunk, (hashes, self.recorded(hashes))

    def assign(
        self, chunk: Sequence[Candidate], looked_up: tuple[list[str], dict[str, str]] | None
    ) -> Iterator[tuple[Candidate, Labels, str]]:
        """The chunk's selected items with their splits; new groups are recorded."""
        selection = self.job.definition.selection
        if looked_up is None:
            hashes = self.hashes(chunk)
            recorded = self.recorded(hashes)
        else:
            hashes, recorded = looked_up
            # Groups the previous chunk recorded may not have been committed when this chunk
            # was looked up; they can only recur here, and their splits are in memory.
            recorded = {**recorded, **{g: self.recent[g] for g in hashes if g in self.recent}}
        chosen = []
        for c, g in zip(chunk, hashes, strict=True):
            labels = labels_of(c)
            if matches(selection, c, labels):
                chosen.append((c, labels, g))
            else:
                self.excluded["not_selected"] += 1
        if not chosen:
            return
        result = assign(
            sorted({g for _, _, g in chosen}),
            recorded,
            self.job.salt,
            self.ratios,
            holdouts=self.job.holdouts,
        )
        new_rows = [
            (self.job.dataset_id, g, result.groups[g], self.job.number) for g in result.new_groups
        ]
        if self.writer is not None:
            self.writer.put(new_rows)
        elif new_rows:
            with runtime.current().db.session() as session:
                record_groups(session, session.get_bind().dialect.name, new_rows)
        self.recent = result.groups
        for c, labels, g in chosen:
            split = result.groups[g]
            if split == RETIRED:
                self.excluded["retired"] += 1
                continue
            yield c, labels, split

    @property
    def group_by(self) -> str:
        return self.job.definition.group_by

    def flush(self, run: Sequence[tuple[Candidate, Labels, str]]) -> None:
        """Write one conversation's items (in id order) and then its preference pairs."""
        if len(run) == 1 and not run[0][0].tweak:  # the common case: nothing to pair
            c, labels, split = run[0]
            self.write_item(c, labels, self.outs[split], ())
            return
        split_of = {c.external_id: split for c, _, split in run}
        pairs = alternative_pairs([(c, labels) for c, labels, _ in run]) if len(run) > 1 else []
        pairs += [p for c, labels, _ in run if c.tweak and (p := tweak_pair(c, labels)) is not None]
        pair_lines: dict[str, list[bytes]] = {}
        placed = []
        for pair in sorted(pairs, key=lambda p: p.id):
            split = split_of[pair.items[0]]
            if split_of[pair.items[1]] != split:
                self.excluded["pairs_straddling_splits"] += 1
                continue
            record = preference_record(pair)
            if record is None:
                continue
            data = line(record)
            placed.append((split, pair.origin, data))
            for item in set(pair.items):
                pair_lines.setdefault(item, []).append(data)
        for c, labels, split in run:
            self.write_item(c, labels, self.outs[split], pair_lines.get(c.external_id, ()))
        for split, origin, data in placed:
            self.outs[split].sinks["preference"].add(data)
            self.outs[split].origins[origin] += 1

    def write_item(
        self, c: Candidate, labels: Labels, out: SplitOut, pair_lines: Sequence[bytes]
    ) -> None:
        """An item's eval and fine-tune lines, and its manifest entry (its digest covers its
        lines and the pair lines it is part of)."""
        ev = eval_record(example_of(c, labels))
        digest = hashlib.sha256()
        flags = ""
        if ev is not None:
            data = line(ev)
            out.sinks["eval"].add(data)
            digest.update(data)
            data = line(finetune_of(ev))  # type: ignore[arg-type]
            out.sinks["finetune"].add(data)
            digest.update(data)
            flags = "ef"
        for data in pair_lines:
            digest.update(data)
        corrected = labels.correction is not None
        entry = [
            c.external_id,
            digest.hexdigest()[:16],
            flags,
            labels.verdict,
            labels.signal,
            list(labels.failure_modes),
            corrected,
        ]
        out.ids.write(manifest.ENTRY + orjson.dumps(entry))
        out.labels.add(labels.verdict, labels.signal, labels.failure_modes, corrected)
        out.items += 1

    def write_manifest(self) -> tuple[str, dict[str, Any]]:
        job = self.job
        splits: dict[str, Any] = {}
        counts: dict[str, Any] = {}
        for split, out in self.outs.items():
            files = {
                fmt: {
                    "path": f"{split}/{fmt}.jsonl",
                    "sha256": sink.digest.hexdigest(),
                    "bytes": sink.bytes,
                    "records": sink.records,
                }
                for fmt, sink in out.sinks.items()
            }
            splits[split] = {
                "items": out.items,
                "labels": out.labels.result(out.origins),
                "files": files,
            }
            counts[split] = {"items": out.items, **{f: files[f]["records"] for f in FORMATS}}
        head = {
            "format": manifest.FORMAT,
            "dataset": job.name,
            "project": job.project,
            "version": job.number,
            "parent": job.parent,
            "created_at": _iso(utcnow()),
            "message": job.message,
            "refresh_holdout": job.refresh_holdout,
            "holdout": job.holdouts,
            "definition": job.definition.model_dump(mode="json"),
            "split_salt": job.salt,
            "group_hash": "sha256(split_salt + NUL + key)[:32]; key = conversation:<id>, "
            "user:<id> or item:<id>",
            "splits": splits,
            "excluded": dict(sorted(self.excluded.items())),
            "erasures": [],
        }
        with self.store.writer(self.key(manifest.FILE)) as raw:
            sink = Sink(raw)
            manifest.write_framed(sink, head, {s: o.ids for s, o in self.outs.items()})
        counts["excluded"] = head["excluded"]
        return sink.digest.hexdigest(), counts


def prefetch(chunks: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Run `chunks` in a thread, `depth` ahead: the next chunk's queries wait on the database
    while this one is written (the driver releases the GIL while it waits)."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(("chunk", chunk), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(("end", None))
        except BaseException as exc:
            ready.put(("error", exc))

    worker = threading.Thread(target=produce, name="winnow-dataset-read", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join(timeout=30)


class GroupWriter:
    """Records new groups' splits in a thread of its own, in order, one transaction a batch."""

    def __init__(self) -> None:
        self.batches: queue.Queue[list[tuple[int, str, str, int]] | None] = queue.Queue(4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="winnow-dataset-groups", daemon=True)
        self.thread.start()

    def put(self, rows: list[tuple[int, str, str, int]]) -> None:
        if self.error is not None:
            raise self.error
        if rows:
            self.batches.put(rows)

    def close(self) -> None:
        self.batches.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("stopped")
            self.batches.put(None)
            self.thread.join(timeout=30)

    def _work(self) -> None:
        db = runtime.current().db
        while (rows := self.batches.get()) is not None:
            if self.error is not None:
                continue  # drain: the build fails anyway
            try:
                with db.session() as session:
                    record_groups(session, session.get_bind().dialect.name, rows)
            except BaseException as exc:
                self.error = exc


def record_groups(session: Any, dialect: str, rows: list[tuple[int, str, str, int]]) -> None:
    """Insert new groups' splits: COPY on PostgreSQL (a million rows in seconds), else one
    executemany. A group recorded twice within one build (it recurred before its first record
    was committed) always has the same split, since the draw is a pure function of the group,
    the salt and the ratios: the second record is dropped."""
    if not rows:
        return
    if dialect == "postgresql":

        # Not waiting for the WAL flush at each chunk's commit: a record lost in a crash only
        # means the build fails and the next one draws the same splits again.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        savepoint = session.begin_nested()
        raw = session.connection().connection.dbapi_connection
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY dataset_groups (dataset_id, group_hash, split, since_version) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            savepoint.commit()
            return
        except UniqueViolation:
            savepoint.rollback()
        session.execute(pg_insert(DatasetGroup).on_conflict_do_nothing(), _dicts(rows))
        return
    session.execute(sqlite_insert(DatasetGroup).on_conflict_do_nothing(), _dicts(rows))


def _dicts(rows: list[tuple[int, str, str, int]]) -> list[dict[str, Any]]:
    return [
        {"dataset_id": d, "group_hash": g, "split": s, "since_version": v} for d, g, s, v in rows
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _screen_free_text(texts: dict[int, str]) -> dict[int, str]:
    """Tweaks and annotators' corrections: free text, screened with curation's PII screener
    before it can reach a file (what the policy would reject is left out)."""
    screener = models().screener
    screened: dict[int, str] = screener.screen_texts(texts)
    return screened
