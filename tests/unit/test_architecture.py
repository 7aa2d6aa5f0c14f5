"""The one-way house (docs/architecture.md): app/ outside app/cli/ never names the workers
package, and the import contracts hold (lint-imports also runs in scripts/test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The package, as code or as a path: `import workers`, `workers.queue`, `workers/queue.py`.
NAMES_THE_PACKAGE = re.compile(r"\bimport workers\b|\bworkers[./][a-z_]")


def test_app_outside_the_cli_never_names_the_workers_package() -> None:
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if (ROOT / "app" / "cli") in path.parents:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NAMES_THE_PACKAGE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_the_pattern_catches_what_it_is_for() -> None:
    assert NAMES_THE_PACKAGE.search("from workers.queue import make_queue")
    assert NAMES_THE_PACKAGE.search("import workers")
    assert NAMES_THE_PACKAGE.search("see workers/registry.py")
    assert not NAMES_THE_PACKAGE.search('"workers": workers,  # gunicorn processes')


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout
