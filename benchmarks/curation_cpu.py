"""Curation CPU benchmark: the job's own work on top of Presidio, in CPU time.

The wall-clock benchmark (benchmarks/curation.py) moves on a shared machine by more than a small
change does. This one runs in one process with no database or Redis: the curation job's PII
batch and stages (an in-memory dedupe index) against bare Presidio batched the same way with the
same analyzer, alternating which goes first, timed with `time.process_time` (CPU time of this
process, so another tenant's load counts little). It prints both times per round and the ratio
of their medians, bare / job (1.0: the job costs no more than Presidio alone).

    .venv/bin/python benchmarks/curation_cpu.py [--rounds 3] [--conversations 300] [--code DIR]

`--code DIR` measures another checkout of Winnow (a git worktree of an older commit) with this
virtualenv. Corpus: as benchmarks/curation.py (../shared/data).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    if args.rounds < 1 or args.conversations < 1:
        parser.error("--rounds and --conversations must be at least 1")
    code = args.code.resolve()
    if not (code / "workers" / "curation").is_dir():
        parser.error(f"--code {code}: not a Winnow checkout")
    sys.path[:0] = [str(code), str(code / "benchmarks")]
    from curation import bare_batch, corpus
    from presidio_anonymizer import AnonymizerEngine

    from workers.curation.dedupe_index import MemoryDedupeIndex
    from workers.curation.pipeline import DedupeStage, PiiStage, Pipeline, PrankStage, Work
    from workers.curation.pranks import PrankConfig
    try:
        from workers.curation.runtime import pii_screener, spacy_model_name
    except ImportError:  # a checkout from before app/runtime.py
        from workers.runtime import pii_screener, spacy_model_name  # type: ignore[no-redef]
    from workers.curation.types import Turn

    convs = corpus(args.conversations)
    screener = pii_screener(spacy_model_name("auto"), ())
    anonymizer = AnonymizerEngine()

    def job() -> float:
        pipeline = Pipeline((
            PiiStage(screener), DedupeStage(MemoryDedupeIndex()), PrankStage(PrankConfig())
        ))
        start = time.process_time()
        for first in range(0, len(convs), 100):  # a job's chunk, primed at once as curate does
            chunk = convs[first:first + 100]
            screener.prime([text for conv in chunk for _, text in conv])
            for i, conv in enumerate(chunk):
                pipeline.run(Work(1, first + i + 1, tuple(Turn(r, t) for r, t in conv)))
            screener.unprime()
        return time.process_time() - start

    def bare() -> float:
        start = time.process_time()
        bare_batch(screener.analyzer, anonymizer, convs, list(screener.config.entities))
        return time.process_time() - start

    job(), bare()  # warm: models, caches
    jobs: list[float] = []
    bares: list[float] = []
    for r in range(args.rounds):
        order: list[tuple[list[float], Any]] = [(jobs, job), (bares, bare)]
        for times, run in order if r % 2 == 0 else order[::-1]:
            times.append(run())
        print(f"round {r + 1}: job {jobs[-1]:.2f} s, bare presidio batch {bares[-1]:.2f} s CPU")
    ratio = statistics.median(bares) / statistics.median(jobs)
    print(f"{code}: bare / job = {ratio:.3f} ({len(convs)} conversations, median of {args.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
