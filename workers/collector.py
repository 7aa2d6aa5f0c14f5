"""The cyclic garbage collector during a long streaming job.

A build or a curation batch keeps a chunk or two of rows in flight: each survives the young
generations, and every promotion counts toward CPython's next full collection, which walks
every object the process holds. Measured on a 100,000-item dataset build, full collections
were a quarter of the reader's CPU (benchmarks/README.md, issue 17). Everything a job makes is
freed by reference counting as its chunk is dropped; the young generations still collect the
short-lived cycles (sessions, results). So while a job streams, full collections wait: they
run again, on CPython's usual schedule, when the last such job in the process ends.

Process-wide (the collector is): jobs running in threads of one process (`winnow up`) share
one deferral, counted, so the first to end does not resume collections under the others.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None
# The oldest generation's threshold: collections of it wait this many young collections
# (CPython also waits for the long-lived objects to have grown by a quarter).
DEFERRED = 1_000_000_000


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            young, middle, _ = _saved
            gc.set_threshold(young, middle, DEFERRED)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
