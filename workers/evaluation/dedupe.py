"""Evaluate dedupe: generated near-copies must merge; PAWS pairs (same words, another meaning)
must not.

Near-copies are made, with a seeded generator, from real exchanges (every OASST prompter
message with its first assistant reply): typos (about 3 per 100 characters), casing, spacing
and punctuation, a changed name, and all of these at once, in the user's message (the reply
gets the same typos or casing, as a model answering again would vary). Each original is
indexed, then each copy is looked up. PAWS-Wiki label-0 pairs are indexed one at a time, in a
fresh project each.
Subsets: PAWS by id parity (dev = even); the copies are not split (generated, not tuned on).
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from workers.curation.dedupe import DedupeConfig, conversation_text
from workers.curation.dedupe_index import MemoryDedupeIndex
from workers.curation.types import Turn

Subset = Literal["all", "dev", "holdout"]
COPY_TARGET = 0.98
PAWS_TARGET = 0.05
NAMES = ("Tanaka", "Oliveira", "Kowalski", "Nguyen", "Okafor", "Lindqvist")


def _exchanges(data_dir: Path) -> list[tuple[str, str]]:
    """Every prompter message of the OASST trees with its first assistant reply."""
    path = data_dir / "oasst-en100-trees" / "en_100_tree.jsonl"
    if not path.is_file():
        return []
    pairs: list[tuple[str, str]] = []

    def walk(msg: dict[str, Any]) -> None:
        replies = msg.get("replies") or []
        if msg.get("role") == "prompter" and replies:
            pairs.append((msg["text"], replies[0]["text"]))
        for reply in replies:
            walk(reply)

    for line in path.read_text().splitlines():
        walk(json.loads(line)["prompt"])
    return list(dict.fromkeys(pairs))


def _paws(data_dir: Path) -> list[tuple[int, str, str, str]]:
    path = data_dir / "paws-wiki-test" / "test.tsv"
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [
            (int(r[0]), r[1], r[2], r[3])
            for r in csv.reader(f, delimiter="\t")
            if len(r) == 4 and r[0].isdigit()
        ]


def _edits(rng: random.Random) -> dict[str, Callable[[str], str]]:
    def typos(t: str) -> str:
        out = list(t)
        for _ in range(max(1, len(t) * 3 // 100)):
            j = rng.randrange(len(out))
            op = rng.randrange(4)
            if op == 0:
                out[j] = rng.choice("abcdefghijklmnopqrstuvwxyz")
            elif op == 1 and len(out) > 1:
                del out[j]
            elif op == 2:
                out.insert(j, rng.choice("abcdefghijklmnopqrstuvwxyz"))
            elif j + 1 < len(out):
                out[j], out[j + 1] = out[j + 1], out[j]
        return "".join(out)

    def casing(t: str) -> str:
        return t.lower() if rng.random() < 0.5 else t.upper()

    def spacing(t: str) -> str:
        t = re.sub(r" ", lambda _: rng.choice([" ", "  ", "\n", " "]), t)
        return t.rstrip(".?!") + rng.choice(["", "!", "??", " :)"])

    def name(t: str) -> str:
        words = t.split(" ")
        caps = [i for i, w in enumerate(words) if i > 0 and w[:1].isupper()]
        if caps:
            words[rng.choice(caps)] = rng.choice(NAMES)
        else:
            words.insert(min(2, len(words)), rng.choice(NAMES))
        return " ".join(words)

    return {
        "typos": typos,
        "casing": casing,
        "spacing": spacing,
        "name": name,
        "combined": lambda t: spacing(name(typos(t))).lower(),
    }


def _conv(text: str, reply: str | None = None) -> str:
    turns = [Turn("user", text)] + ([Turn("assistant", reply)] if reply is not None else [])
    return conversation_text(turns)


def evaluate(
    data_dir: Path, config: DedupeConfig | None = None, *, subset: Subset = "all", seed: int = 0
) -> dict[str, Any]:
    config = config or DedupeConfig()
    pairs_ = _exchanges(data_dir)
    paws = _paws(data_dir)
    if not pairs_ or not paws:
        raise FileNotFoundError(
            f"dedupe evaluation needs oasst-en100-trees, xstest and paws-wiki-test under {data_dir}"
        )
    rng = random.Random(seed)
    index = MemoryDedupeIndex(config)
    merged_originals = 0
    for i, (text, reply) in enumerate(pairs_):
        if index.find_or_add(1, i, _conv(text, reply)) is not None:
            merged_originals += 1
    copies: dict[str, Any] = {}
    total = hits = 0
    next_id = len(pairs_)
    for kind, edit in _edits(rng).items():
        ok = 0
        for i, (text, reply) in enumerate(pairs_):
            # The user's words edited; the reply as a model would give it again, with the
            # same kind of surface change (no new name in it).
            again = (
                reply
                if kind == "name"
                else _edits(rng)["casing" if kind == "casing" else "typos"](reply)
            )
            match = index.find_or_add(1, next_id, _conv(edit(text), again))
            next_id += 1
            ok += match is not None and match.item_id == i
        copies[kind] = round(ok / len(pairs_), 4)
        total += len(pairs_)
        hits += ok
    rate = round(hits / total, 4)

    pairs = [p for p in paws if subset == "all" or (p[0] % 2 == 0) == (subset == "dev")]
    merged = {"0": 0, "1": 0}
    n = {"0": 0, "1": 0}
    for pid, s1, s2, label in pairs:
        fresh = MemoryDedupeIndex(config)
        fresh.find_or_add(pid, 1, _conv(s1))
        n[label] += 1
        merged[label] += fresh.find_or_add(pid, 2, _conv(s2)) is not None
    paws0 = round(merged["0"] / n["0"], 4) if n["0"] else 0.0
    return {
        "originals": len(pairs_),
        "originals_merged_with_each_other": merged_originals,
        "near_copies": {
            "merged": rate,
            "n": total,
            "by_edit": copies,
            "target": f"merged >= {COPY_TARGET}",
            "meets_target": rate >= COPY_TARGET,
        },
        "paws_label0": {
            "merged": paws0,
            "n": n["0"],
            "target": f"merged <= {PAWS_TARGET}",
            "meets_target": paws0 <= PAWS_TARGET,
        },
        "paws_label1_merged_info": round(merged["1"] / n["1"], 4) if n["1"] else 0.0,
    }
