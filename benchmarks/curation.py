"""Curation benchmark: conversations/s through the whole curation job in one worker process,
against the same corpus through bare Presidio analyze + anonymize, in the same run.

Corpus: two-turn conversations, the user turn a record of pii-presidio-synth (PII-dense) and
the assistant turn an OASST reply, from ../shared/data (the benchmark stops with a message if
it is absent). Three measurements, each going first in turn from round to round:

- winnow: the job a `winnow worker` runs (`workers.curation.job.curate`), in this process, on
  PostgreSQL with the Redis dedupe index: read the items, decrypt, PII, dedupe, pranks, write
  the outcome. Items are stored (sealed) before the clock starts; batches of 100, as intake
  makes them.
- presidio-same: bare Presidio with the same configuration (the analyzer Winnow builds: the same
  spaCy model and recognizers), `analyze` then `AnonymizerEngine.anonymize` per message.
- presidio-default: bare Presidio with its default recognizers and the same spaCy model.
- presidio-batch: as presidio-same, but through Presidio's BatchAnalyzerEngine (spaCy's pipe,
  50 messages at a time), as Winnow's job analyses a chunk of items at once.

Run with `bash benchmarks/run-curation` (starts PostgreSQL and Redis); results go to
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def corpus(n: int) -> list[list[tuple[str, str]]]:
    synth = DATA / "pii-presidio-synth" / "synth_dataset_v2.json"
    oasst = DATA / "oasst-en100-trees" / "en_100_tree.jsonl"
    if not synth.is_file() or not oasst.is_file():
        sys.exit(f"benchmark corpus absent: needs {synth} and {oasst}")
    users = [r["full_text"] for r in json.loads(synth.read_text())]
    replies = []
    for line in oasst.read_text().splitlines():
        for reply in json.loads(line)["prompt"].get("replies") or []:
            replies.append(reply["text"][:1500])
    return [[("user", users[i % len(users)]), ("assistant", replies[i % len(replies)])]
            for i in range(n)]


def bare(analyzer: Any, anonymizer: Any, convs: list[list[tuple[str, str]]],
         entities: list[str] | None) -> float:
    start = time.perf_counter()
    for conv in convs:
        for _, text in conv:
            results = analyzer.analyze(text=text, language="en", entities=entities)
            anonymizer.anonymize(text=text, analyzer_results=results)
    return time.perf_counter() - start


def bare_batch(analyzer: Any, anonymizer: Any, convs: list[list[tuple[str, str]]],
               entities: list[str]) -> float:
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    texts = [text for conv in convs for _, text in conv]
    start = time.perf_counter()
    for i in range(0, len(texts), 50):  # the chunk a Winnow job analyses at once
        chunk = texts[i:i + 50]
        found = batch.analyze_iterator(chunk, language="en", batch_size=32, entities=entities)
        for text, results in zip(chunk, found, strict=True):
            anonymizer.anonymize(text=text, analyzer_results=results)
    return time.perf_counter() - start


def winnow(app: Any, convs: list[list[tuple[str, str]]], batch: int) -> float:
    from app import runtime
    from app.services.conversations import Share, store_shares
    from app.services.projects import create_project
    from workers.curation.job import curate
    from workers.queue import InProcessJobQueue

    class Hold(InProcessJobQueue):
        """Keeps the jobs intake would enqueue: this run times them itself."""

        held: list[list[int]] = []

        def enqueue(self, func: Any, *args: Any, job_id: str | None = None) -> str:
            Hold.held.append(args[0])
            return job_id or ""

    from app.payloads.conversations import Message

    Hold.held = []
    db = app.extensions["winnow"].db
    rt = runtime.current()
    with db.session() as session:
        project = create_project(session, f"bench-{uuid.uuid4().hex[:8]}")
        pid = project.id
    queue = Hold()
    for start in range(0, len(convs), batch):
        shares = [Share(f"c{start + i}", [Message(role=r, content=t) for r, t in conv],  # type: ignore[arg-type]
                        None, None, f"u{(start + i) % 50}", None, None, uuid.uuid4().hex)
                  for i, conv in enumerate(convs[start:start + batch])]
        with db.session() as session:
            store_shares(session, pid, shares, source="api", box=rt.box, queue=queue)
    jobs = list(Hold.held)
    begin = time.perf_counter()
    for ids in jobs:
        curate(ids)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    from presidio_analyzer import AnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

    from app.cli import make_app
    from app.config import Settings
    from app.migrate import upgrade
    from workers.curation.runtime import models, spacy_model_name

    db_url = os.environ["WINNOW_BENCH_DATABASE_URL"]
    redis_url = os.environ["WINNOW_BENCH_REDIS_URL"]
    settings = Settings(database_url=db_url, redis_url=redis_url,
                        encryption_key=os.environ.get("WINNOW_ENCRYPTION_KEY")
                        or "S0ZSXBt0JmjVgRr4zo4k8Jb2X2Q8F5o1UwHqN3v7c1o=")
    app = make_app(settings)
    upgrade(app.extensions["winnow"].db.engine)
    curation = models()
    curation.pipeline  # noqa: B018 - loads the model once, like a worker does
    screener = curation.screener
    anonymizer = AnonymizerEngine()
    default = AnalyzerEngine(nlp_engine=screener.analyzer.nlp_engine, supported_languages=["en"])
    convs = corpus(args.conversations)
    bare(screener.analyzer, anonymizer, convs[:20], list(screener.entity_types))  # warm up
    winnow(app, convs[:20], args.batch)

    targets = {
        "winnow": lambda: winnow(app, convs, args.batch),
        "presidio-same": lambda: bare(screener.analyzer, anonymizer, convs,
                                      list(screener.entity_types)),
        "presidio-default": lambda: bare(default, anonymizer, convs, None),
        "presidio-batch": lambda: bare_batch(screener.analyzer, anonymizer, convs,
                                             list(screener.entity_types)),
    }
    rates: dict[str, list[float]] = {name: [] for name in targets}
    order = list(targets)
    for r in range(args.rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            seconds = targets[name]()
            rates[name].append(len(convs) / seconds)
            print(f"round {r + 1} {name:17s} {len(convs) / seconds:8.1f} conversations/s",
                  flush=True)
    median = {name: statistics.median(v) for name, v in rates.items()}
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "spacy_model": spacy_model_name(settings.spacy_model),
        "conversations": len(convs), "rounds": args.rounds, "rates": rates, "median": median,
        "ratio_vs_presidio_same": round(median["winnow"] / median["presidio-same"], 3),
        "ratio_vs_presidio_default": round(median["winnow"] / median["presidio-default"], 3),
        "ratio_vs_presidio_batch": round(median["winnow"] / median["presidio-batch"], 3),
    }
    print(json.dumps({k: result[k] for k in ("median", "ratio_vs_presidio_same",
                                             "ratio_vs_presidio_default",
                                             "ratio_vs_presidio_batch")}, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"curation-{result['when'].replace(':', '')}.json").write_text(
        json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
