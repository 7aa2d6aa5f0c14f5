"""Jobs used only by the queue tests; importable by a `winnow worker` started from the repo."""

from __future__ import annotations

from pathlib import Path


def append_line(path: str, line: str) -> None:
    with Path(path).open("a") as f:
        f.write(line + "\n")


def fail_until(path: str, failures: int) -> None:
    """Fails `failures` times (counted in a file), then succeeds: a transient fault."""
    counter = Path(path)
    seen = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(seen + 1))
    if seen < failures:
        raise RuntimeError("transient")
