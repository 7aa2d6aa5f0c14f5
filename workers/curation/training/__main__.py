"""Train every curation model: python -m workers.curation.training [--shared DIR]
(or `bash scripts/train-curation`). Same data and seed give the same bytes."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from workers.curation.training import corpora, fitting, jailbreak, spam


def _tasks() -> list[tuple[fitting.Task, Path]]:
    return [(jailbreak.TASK, jailbreak.OUTPUT), (spam.TASK, spam.OUTPUT)]


def fitting_models_dir() -> Path:
    return corpora.REPO / "workers" / "curation" / "models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.curation.training")
    parser.add_argument("--shared", type=Path, default=corpora.REPO.parent / "shared" / "data",
                        help="the shared evaluation data (default ../shared/data)")
    parser.add_argument("--curation", type=Path, default=corpora.CURATION_DATA,
                        help="the public corpora folder (default data/curation)")
    parser.add_argument("--only", choices=["jailbreak", "spam", "gibberish"], default=None)
    args = parser.parse_args(argv)
    shared = args.shared if args.shared.is_dir() else None
    if shared is None:
        print(f"note: {args.shared} absent, training on {args.curation} only", file=sys.stderr)
    sources = corpora.load_sources(shared, args.curation)
    report: dict[str, Any] = {}
    for task, output in _tasks():
        if args.only not in (None, task.name):
            continue
        started = time.perf_counter()
        model = fitting.train(task, sources)
        model.save(output)
        report[task.name] = {
            "model": str(output.relative_to(corpora.REPO)),
            "thresholds": model.meta["thresholds"],
            "figures_out_of_fold": model.meta["figures_out_of_fold"],
            "seconds": round(time.perf_counter() - started, 1),
        }
    if args.only in (None, "gibberish"):
        try:
            gib = importlib.import_module("workers.curation.training.gibberish")
        except ImportError:
            report["gibberish"] = {"skipped": "workers.curation.training.gibberish absent"}
        else:
            report["gibberish"] = gib.train(fitting_models_dir(), shared)
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
