"""Evaluate dedupe: generated near-copies must merge; PAWS pairs (same words, another meaning)
and short distinct conversations with one canned answer must not.

Near-copies are made, with a seeded generator, from real exchanges (every OASST prompter
message with its first assistant reply): typos (about 3 per 100 characters), casing, spacing
and punctuation, a changed name, and all of these at once, in the user's message (the reply
gets the same typos or casing, as a model answering again would vary). A changed name is a
small edit only in a long message: in one of fewer than NAME_MIN_WORDS words it is another
message ("how cold is it in Antarctica" / "... in Okafor"), which dedupe must not merge, so
there the copies get no name and the name edit's merges are reported apart, without a target.
Each original is indexed, then each copy is looked up. PAWS-Wiki label-0 pairs are indexed one
at a time, in a fresh project each.
Short distinct conversations: pairs of different short messages (greetings, test strings,
one-word and short questions, arithmetic; workers/evaluation/data/short_messages.json), both
answered with the same canned reply, each pair in a fresh project; none may merge.
Subsets: PAWS by id parity (dev = even); the generated sets are not split (not tuned on).
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
NAME_MIN_WORDS = 20  # one word in twenty: a changed name is a small edit from here on
SHORT_PAIRS = 3000
SHORT_MESSAGES = Path(__file__).resolve().parent / "data" / "short_messages.json"


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
        "nameless": lambda t: spacing(typos(t)).lower(),
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
    edits = _edits(rng)
    short_name = short_name_merged = 0
    for kind, edit in edits.items():
        if kind == "nameless":
            continue
        ok = 0
        for i, (text, reply) in enumerate(pairs_):
            # The user's words edited; the reply as a model would give it again, with the
            # same kind of surface change (no new name in it).
            again = (
                reply
                if kind == "name"
                else _edits(rng)["casing" if kind == "casing" else "typos"](reply)
            )
            long = len(text.split()) >= NAME_MIN_WORDS
            if kind == "name" and not long:  # another message, not a copy: reported apart
                match = index.find_or_add(1, next_id, _conv(edit(text), again))
                next_id += 1
                short_name += 1
                short_name_merged += match is not None
                continue
            copy = edit(text) if long or kind != "combined" else edits["nameless"](text)
            match = index.find_or_add(1, next_id, _conv(copy, again))
            next_id += 1
            ok += match is not None and match.item_id == i
        n_kind = len(pairs_) if kind != "name" else len(pairs_) - short_name
        copies[kind] = round(ok / n_kind, 4) if n_kind else 0.0
        total += n_kind
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
        "changed_name_in_short_messages_merged_info": {
            "merged": round(short_name_merged / short_name, 4) if short_name else 0.0,
            "n": short_name,
            "note": f"messages of fewer than {NAME_MIN_WORDS} words: another message, not a copy",
        },
        "short_distinct_canned": short_distinct(config, seed=seed),
    }


def _short_messages() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHORT_MESSAGES.read_text())
    return data


def _arithmetic(rng: random.Random, spec: dict[str, Any]) -> tuple[tuple[str, int, int], str]:
    template, op = rng.choice(spec["templates"])
    a, b = rng.randint(0, spec["max"]), rng.randint(0, spec["max"])
    return (op, a, b), template.format(a=a, b=b)


def _surface(rng: random.Random, text: str) -> str:
    """Casing and final punctuation, which do not make another message."""
    text = rng.choice([text, text.lower(), text.capitalize(), text.upper()])
    return text.rstrip("?!.") + rng.choice(["", "?", "!", ".", "??"])


def short_distinct(
    config: DedupeConfig, *, seed: int = 0, pairs: int = SHORT_PAIRS
) -> dict[str, Any]:
    """Pairs of different short messages with one canned answer: merges must be 0. Also, as
    information, how many copies with one typo (two neighbouring letters swapped in a word of
    five or more letters) still merge."""
    data = _short_messages()
    groups: dict[str, list[str]] = data["groups"]
    answers: list[str] = data["canned_answers"]
    rng = random.Random(seed)
    merged: dict[str, int] = {}
    n: dict[str, int] = {}
    examples: list[tuple[str, str]] = []
    for p in range(pairs):
        group = rng.choice([*groups, "arithmetic"])
        if group == "arithmetic":
            (key_a, a), (key_b, b) = (_arithmetic(rng, data["arithmetic"]) for _ in range(2))
            if key_a == key_b:
                continue
        else:
            a, b = rng.sample(groups[group], 2)
        answer = rng.choice(answers)
        index = MemoryDedupeIndex(config)
        index.find_or_add(p, 1, _conv(_surface(rng, a), answer))
        hit = index.find_or_add(p, 2, _conv(_surface(rng, b), answer)) is not None
        n[group] = n.get(group, 0) + 1
        merged[group] = merged.get(group, 0) + hit
        if hit and len(examples) < 5:
            examples.append((a, b))
    typo_n = typo_merged = 0
    for message in sorted({m for ms in groups.values() for m in ms}):
        words = [w for w in message.split() if len(w) >= 5 and w.isalpha()]
        if not words:
            continue
        word = rng.choice(words)
        j = rng.randrange(1, len(word) - 2)  # not the first letter, as people rarely miss it
        typo = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        index = MemoryDedupeIndex(config)
        answer = rng.choice(answers)
        index.find_or_add(0, 1, _conv(message, answer))
        typo_n += 1
        again = _conv(message.replace(word, typo), answer)
        typo_merged += index.find_or_add(0, 2, again) is not None
    total = sum(merged.values())
    return {
        "merged": total,
        "n": sum(n.values()),
        "by_group": {g: f"{merged[g]}/{n[g]}" for g in sorted(n)},
        "examples": examples,
        "target": "merged == 0",
        "meets_target": total == 0,
        "typo_copies_merged_info": round(typo_merged / typo_n, 4) if typo_n else 0.0,
    }
