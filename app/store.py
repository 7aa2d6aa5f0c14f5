"""Where dataset versions live: a local directory by default, any fsspec URL by configuration
(`WINNOW_DATASETS_URL`, e.g. s3://bucket/winnow with s3fs installed).

Keys are built only from validated parts (project slug, dataset name, version number, split,
format), never from a caller's raw string, so a path-like name cannot escape the root. A file is
written to `<key>.part` and moved into place when complete, so a reader never sees half a file.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import fsspec

from app.config import Settings

_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def store_url(settings: Settings) -> str:
    return settings.datasets_url or str(settings.data_dir / "datasets")


class Store:
    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        fs, root = fsspec.core.url_to_fs(url, **options)
        self.fs: Any = fs
        self.root: str = root.rstrip("/") or "/"

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(store_url(settings))

    def key(self, *parts: str | int) -> str:
        for part in parts:
            text = str(part)
            if not _SAFE.match(text) or text in (".", ".."):
                raise ValueError(f"not a safe storage key part: {text!r}")
        return posixpath.join(self.root, *(str(p) for p in parts))

    @contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        partial = key + ".part"
        self.fs.makedirs(posixpath.dirname(key), exist_ok=True)
        try:
            with self.fs.open(partial, "wb") as out:
                yield out
        except BaseException:
            self._remove(partial)
            raise
        self.fs.mv(partial, key)

    def open(self, key: str) -> IO[bytes]:
        handle: IO[bytes] = self.fs.open(key, "rb")
        return handle

    def size(self, key: str) -> int:
        return int(self.fs.size(key))

    def stamp(self, key: str) -> tuple[Any, ...]:
        """What changes when the file at `key` is rewritten (size, and mtime or ETag)."""
        self.fs.invalidate_cache(key)  # an object store's listing cache may predate a rewrite
        info = self.fs.info(key)
        return (info.get("size"), info.get("ETag") or info.get("mtime")
                or info.get("LastModified") or info.get("created"))

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(key))

    def local_path(self, key: str) -> str | None:
        """The OS path when the store is a local directory (lets the server send files with
        sendfile); None for remote stores."""
        protocol = self.fs.protocol
        names = protocol if isinstance(protocol, tuple) else (protocol,)
        return key if "file" in names or "local" in names else None

    def remove_tree(self, key: str) -> None:
        if self.fs.exists(key):
            self.fs.rm(key, recursive=True)

    def _remove(self, key: str) -> None:
        try:
            if self.fs.exists(key):
                self.fs.rm(key)
        except OSError:
            pass
