"""The labelled texts the curation models learn from, by source.

A source is one origin of data (one upstream set) and one label: "jailbreak-llms:attack",
"prompt-injections-deepset:benign". Sources come from the shared evaluation data (fixed
loaders below) and from every folder of `data/curation/` (discovered, never listed here),
except the held-out corpora kept for an independent evaluation, which are refused by name.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
CURATION_DATA = REPO / "data" / "curation"
# Held out (issue 13): never read, even if a folder with one of these names appears.
HELD_OUT = frozenset({"garak", "pyrit", "spikee", "prompt-security-fuzzer"})
LABELS = ("attack", "benign", "spam", "ham", "text")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # one of LABELS
    kind: str = ""


@dataclass(slots=True)
class Source:
    name: str  # "<origin>:<label>"
    origin: str  # the upstream set: a leave-one-source-out fold leaves out a whole origin
    label: str
    examples: list[Example]
    files: dict[str, str]  # path -> sha256 of the file read


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _held_out(name: str) -> bool:
    low = name.lower()
    return any(h in low for h in HELD_OUT)


def _shared(data_dir: Path) -> Iterator[tuple[str, Path, list[Example]]]:
    """(origin, file, examples) of the shared evaluation sets that are present."""
    jb = data_dir / "jailbreak-llms" / "jailbreak_prompts_2023_12_25.csv"
    if jb.is_file():
        csv.field_size_limit(sys.maxsize)
        with jb.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            rows = [Example(r["prompt"], "attack", r.get("platform", "")) for r in reader]
        yield "jailbreak-llms", jb, rows
    ds = data_dir / "prompt-injections-deepset" / "prompt_injections.jsonl"
    if ds.is_file():
        lines = ds.read_text(encoding="utf-8").splitlines()
        recs = [json.loads(line) for line in lines if line]
        yield "prompt-injections-deepset", ds, [
            Example(r["text"], "attack" if int(r["label"]) == 1 else "benign") for r in recs
        ]
    xs = data_dir / "xstest" / "xstest_prompts.csv"
    if xs.is_file():
        with xs.open(encoding="utf-8", newline="") as f:
            # "unsafe" prompts are harmful questions, not jailbreaks: not used here.
            rows = [Example(r["prompt"], "benign", r["type"]) for r in csv.DictReader(f)
                    if r["label"] == "safe"]
        yield "xstest", xs, rows
    oa = data_dir / "oasst-en100-trees" / "en_100_tree.jsonl"
    if oa.is_file():
        out: list[Example] = []
        replies: list[Example] = []

        def walk(msg: dict[str, Any]) -> None:
            if msg.get("text") and msg.get("role") in ("prompter", "assistant"):
                prompter = msg["role"] == "prompter"
                (out if prompter else replies).append(
                    Example(msg["text"], "benign", "prompter" if prompter else "assistant-reply")
                )
            for reply in msg.get("replies") or []:
                walk(reply)

        for line in oa.read_text(encoding="utf-8").splitlines():
            if line:
                walk(json.loads(line)["prompt"])
        yield "oasst-prompts", oa, out
        # Long explanatory prose in the second person ("you can", "make sure you"), as users
        # paste it back into a conversation: benign, and unlike the short prompts above.
        yield "oasst-replies", oa, replies
    hh = data_dir / "hh-rlhf-harmless" / "harmless-base-test.jsonl.gz"
    if hh.is_file():
        # First human turn of red-team dialogues: requests for harmful help, sometimes rude,
        # but not instructions to drop rules or reveal hidden ones, so benign for this detector.
        firsts: list[Example] = []
        with gzip.open(hh, "rt", encoding="utf-8") as f:
            for line in f:
                chosen = json.loads(line)["chosen"]
                first = chosen.split("\n\nHuman: ", 1)[-1].split("\n\nAssistant:", 1)[0]
                firsts.append(Example(first.strip(), "benign", "red-team-first-turn"))
        yield "hh-rlhf-harmless", hh, firsts


def _curation(root: Path) -> Iterator[tuple[str, Path, list[Example]]]:
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if _held_out(folder.name):
            continue
        for part in sorted(folder.glob("*.jsonl.gz")):
            examples = []
            with gzip.open(part, "rt", encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        continue
                    rec = json.loads(line)
                    if rec.get("label") in LABELS and rec.get("text"):
                        examples.append(Example(rec["text"], rec["label"], rec.get("kind") or ""))
                    elif isinstance(rec.get("messages"), list):
                        # A benign conversation (help docs): its articles, as a user pastes them.
                        examples.extend(
                            Example(m["content"], "benign", "article")
                            for m in rec["messages"]
                            if m.get("role") == "assistant" and m.get("content")
                        )
            yield folder.name, part, examples


def load_sources(
    shared: Path | None = None, curation: Path | None = CURATION_DATA
) -> dict[str, Source]:
    """Every source present, by name; texts deduplicated within a source (first wins)."""
    sources: dict[str, Source] = {}
    found = [*(_shared(shared) if shared else ()), *(_curation(curation) if curation else ())]
    for origin, path, examples in found:
        if _held_out(origin):
            continue
        digest = _sha256(path)
        for ex in examples:
            text = ex.text.strip()
            if not text:
                continue
            name = f"{origin}:{ex.label}"
            src = sources.get(name)
            if src is None:
                src = sources[name] = Source(name, origin, ex.label, [], {})
            src.files[str(path)] = digest
            src.examples.append(Example(text, ex.label, ex.kind))
    for src in sources.values():
        seen: set[str] = set()
        unique = []
        for ex in src.examples:
            if ex.text not in seen:
                seen.add(ex.text)
                unique.append(ex)
        src.examples = unique
    return dict(sorted(sources.items()))


def fingerprint(sources: dict[str, Source]) -> dict[str, dict[str, Any]]:
    """What a model records about its training data: n per source and the files' sha256."""
    return {
        name: {"n": len(s.examples), "files": {Path(p).name: h for p, h in sorted(s.files.items())}}
        for name, s in sources.items()
    }
