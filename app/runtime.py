"""What the API and the jobs share in one process: settings, database, job queue, the cipher for
raw text and the dataset store.

`app.cli.make_app` builds it (with the workers' job queue) and installs it: the Flask app
reads it from `app.extensions`, jobs from `current()`. The cipher and the store are built on first
use, so a process that never seals text needs no encryption key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from app.config import Settings
from app.db import Database
from app.jobs import JobQueue
from app.services.crypto import Box, cipher
from app.store import Store


@dataclass(eq=False)
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    _box: Box | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def box(self) -> Box:
        """The cipher for raw conversation text; raises crypto.KeyMissing when none is set."""
        if self._box is None:
            self._box = cipher(self.settings)
        return self._box

    @property
    def store(self) -> Store:
        """Where dataset versions are written and read."""
        if self._store is None:
            self._store = Store.from_settings(self.settings)
        return self._store


class NotConfigured(RuntimeError):
    pass


_current: Runtime | None = None
_lock = threading.Lock()


def install(runtime: Runtime) -> Runtime:
    """Make `runtime` the one this process's jobs use (the latest app built wins)."""
    global _current
    with _lock:
        _current = runtime
    return runtime


def current() -> Runtime:
    with _lock:
        runtime = _current
    if runtime is None:
        raise NotConfigured("Winnow's runtime is not set up: run jobs with `winnow worker` "
                            "(or build the app with app.cli.make_app)")
    return runtime
