"""A dataset version's manifest (`manifest.json`, format "winnow-dataset/1"), written and read here.

Dataset builds write it and erasure rewrites it (both jobs of the worker); the pull API,
diffs, lineage and a user's data read it. The head (dataset, version, definition, splits with
their files, checksums and label distributions, exclusions, erasures) comes first, as indented
JSON; the item lists come last, one entry per line, so that a manifest of a million items is never
held in memory to write it, and its head is read without them.

An entry is [id, digest, flags, verdict, signal, failure_modes, corrected]: flags say which files
hold the item ("e" eval, "f" fine-tune, in manifest order); the digest changes when its lines do.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Protocol

import orjson

from app.store import Store

FORMAT = "winnow-dataset/1"
FILE = "manifest.json"
ITEMS_MARKER = b',\n  "items": {'


class Sink(Protocol):
    """Where the manifest's bytes go (the build's file sink counts and hashes them)."""

    def add(self, data: bytes) -> None: ...

    def flush(self) -> None: ...


def key(store: Store, project: str, name: str, number: int) -> str:
    return store.key(project, name, number, FILE)


class Tally:
    """A split's label distributions, counted entry by entry (a build counts as it writes)."""

    __slots__ = ("corrected", "modes", "signals", "verdicts")

    def __init__(self) -> None:
        self.verdicts: dict[str, int] = {}
        self.signals: dict[str, int] = {}
        self.modes: dict[str, int] = {}
        self.corrected = 0

    def add(self, verdict: str | None, signal: str | None, modes: Iterable[str],
            corrected: bool) -> None:
        key = verdict or "none"
        self.verdicts[key] = self.verdicts.get(key, 0) + 1
        key = signal or "none"
        self.signals[key] = self.signals.get(key, 0) + 1
        for mode in modes:
            self.modes[mode] = self.modes.get(mode, 0) + 1
        self.corrected += bool(corrected)

    def result(self, origins: Mapping[str, int]) -> dict[str, Any]:
        return {
            "verdict": dict(sorted(self.verdicts.items())),
            "signal": dict(sorted(self.signals.items())),
            "failure_modes": dict(sorted(self.modes.items())),
            "corrected": self.corrected,
            "preference_origin": dict(sorted(origins.items())),
        }


def tally(entries: Iterable[Sequence[Any]], origins: Counter[str]) -> dict[str, Any]:
    """A split's label distributions from its entries and its preference pairs' origins."""
    counts = Tally()
    for entry in entries:
        counts.add(entry[3], entry[4], entry[5], entry[6])
    return counts.result(origins)


def write(sink: Sink, head: dict[str, Any], items: dict[str, Iterable[bytes]]) -> None:
    """The head, then `items` ({split: [entry as JSON bytes, ...]}) streamed, one per line."""
    text = orjson.dumps(head, option=orjson.OPT_INDENT_2)
    sink.add(text[:-2] + ITEMS_MARKER)
    for n, (split, entries) in enumerate(items.items()):
        sink.add(b"," if n else b"")
        sink.add(b"\n    " + orjson.dumps(split) + b": [")
        first = True
        for entry in entries:
            sink.add((b"\n      " if first else b",\n      ") + entry.rstrip(b"\n"))
            first = False
        sink.add(b"]" if first else b"\n    ]")
    sink.add(b"\n  }\n}\n")
    sink.flush()


ENTRY = b",\n      "  # what precedes an entry in the item lists (the first drops the comma)


def write_framed(sink: Sink, head: dict[str, Any], items: dict[str, IO[bytes]]) -> None:
    """`write`, with each split's entries already framed: a file of `ENTRY + entry JSON` per
    entry, copied a block at a time (a build writes its entries so as it goes). The same
    bytes as `write` of the bare entries."""
    text = orjson.dumps(head, option=orjson.OPT_INDENT_2)
    sink.add(text[:-2] + ITEMS_MARKER)
    for n, (split, framed) in enumerate(items.items()):
        sink.add(b"," if n else b"")
        sink.add(b"\n    " + orjson.dumps(split) + b": [")
        framed.seek(0)
        block = framed.read(COPY_BLOCK)
        if not block:
            sink.add(b"]")
            continue
        sink.add(block[1:])  # the first entry has no comma before it
        while block := framed.read(COPY_BLOCK):
            sink.add(block)
        sink.add(b"\n    ]")
    sink.add(b"\n  }\n}\n")
    sink.flush()


COPY_BLOCK = 1 << 20


def read(store: Store, project: str, name: str, number: int) -> Any:
    """The whole manifest, item lists included."""
    with store.open(key(store, project, name, number)) as handle:
        return orjson.loads(handle.read())


def read_head(store: Store, project: str, name: str, number: int) -> Any:
    """The manifest without its (possibly huge) item lists, which `write` puts last: read up to
    the `"items"` key (a raw newline never occurs inside a JSON string)."""
    text = b""
    with store.open(key(store, project, name, number)) as handle:
        while True:
            block = handle.read(1 << 16)
            start = max(0, len(text) - len(ITEMS_MARKER))
            text += block
            cut = text.find(ITEMS_MARKER, start)
            if cut >= 0:
                return orjson.loads(text[:cut] + b"\n}")
            if not block:
                return orjson.loads(text)


def item_entries(manifest: Any) -> Iterator[tuple[str, str, str, str]]:
    """(split, example id, digest, flags) of every item in a manifest."""
    for split, entries in manifest.get("items", {}).items():
        for entry in entries:
            yield split, entry[0], entry[1], entry[2]


# Parsed item lists of recently read manifests, for the pages that look items up in them (an
# item's lineage, a diff): a version's manifest changes only when erasure rewrites it, which
# changes its stamp. Bounded by entries held (about 33 MB per 100,000 in a web process), not
# manifests; a version larger than the bound is read each time, never kept.
INDEX_ENTRIES = 300_000
_index: OrderedDict[tuple[str, tuple[Any, ...]], dict[str, tuple[str, str, str]]] = OrderedDict()
_index_lock = threading.Lock()


def item_index(store: Store, project: str, name: str,
               number: int) -> Mapping[str, tuple[str, str, str]]:
    """{example id: (split, digest, flags)} of a version's items, cached while its manifest is
    unchanged (read-only: do not modify)."""
    path = key(store, project, name, number)
    cache_key = (path, store.stamp(path))
    with _index_lock:
        found = _index.get(cache_key)
        if found is not None:
            _index.move_to_end(cache_key)
            return found
    index = {example: (split, digest, flags)
             for split, example, digest, flags in item_entries(read(store, project, name, number))}
    if len(index) > INDEX_ENTRIES:
        return index
    with _index_lock:
        _index[cache_key] = index
        held = sum(len(v) for v in _index.values())
        while held > INDEX_ENTRIES and len(_index) > 1:
            _, dropped = _index.popitem(last=False)
            held -= len(dropped)
    return index
