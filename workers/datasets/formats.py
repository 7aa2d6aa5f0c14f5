"""Dataset file records (pure): eval JSONL, chat fine-tune JSONL (the OpenAI `messages`
format) and preference JSONL lines, byte-identical for the same inputs (sorted keys, fixed
separators), and the `Sink` that writes them with their sha256, size and count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson


@dataclass(slots=True)
class Example:
    """One curated item, redacted, with what annotators and users said about it."""

    id: str
    messages: Sequence[Mapping[str, str]]  # [{"role", "content"}], the last one the answer
    verdict: str | None = None  # the annotators' majority, if any
    failure_modes: Sequence[str] = ()
    correction: str | None = None  # an annotator's corrected answer
    signal: str | None = None  # the users' net feedback signal
    source: Mapping[str, Any] = field(default_factory=dict)  # model, prompt, feature, ...
    # good | bad | disputed under the precedence annotators > explicit > implicit feedback
    # (workers.datasets.select.judge); None: decided from verdict and signal as they stand.
    judgement: str | None = None


@dataclass(slots=True)
class Pair:
    id: str
    prompt: Sequence[Mapping[str, str]]
    chosen: str
    rejected: str
    origin: str  # tweak | annotator | ranking | feedback | regenerate
    items: tuple[str, str] = ("", "")  # the items the chosen and the rejected answer come from


def split_answer(
    messages: Sequence[Mapping[str, str]],
) -> tuple[list[Mapping[str, str]], str | None]:
    """The messages before the last assistant turn, and that turn's content (the messages are
    [{"role", "content"}] already: see select.messages)."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "assistant":
            return list(messages[:i]), messages[i]["content"]
    return list(messages), None


def eval_record(ex: Example) -> dict[str, Any] | None:
    """id, input messages, the reference answer (the correction, else an answer annotators or
    users accepted), labels and source; None when there is no reference, and for an item its
    annotators disagree on (nothing trustworthy to learn from or score against yet)."""
    if ex.judgement == "disputed":
        return None
    prompt, answer = split_answer(ex.messages)
    reference = ex.correction
    if reference is None and _judged_good(ex):
        reference = answer
    if reference is None or not prompt:
        return None
    return {
        "id": ex.id,
        "input": prompt,
        "reference": reference,
        "labels": {
            "verdict": ex.verdict,
            "failure_modes": sorted(ex.failure_modes),
            "signal": ex.signal,
            "corrected": ex.correction is not None,
        },
        "source": dict(ex.source),
    }


def _judged_good(ex: Example) -> bool:
    if ex.judgement is not None:
        return ex.judgement == "good"
    return ex.verdict == "good" or (
        ex.verdict is None and ex.signal in ("positive", "strong_positive")
    )


def finetune_record(ex: Example) -> dict[str, Any] | None:
    """OpenAI chat fine-tuning format; positive or corrected answers only."""
    return finetune_of(eval_record(ex))


def finetune_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fine-tune record of an eval record (its input, then its reference as the answer)."""
    if record is None:
        return None
    return {"messages": [*record["input"], {"role": "assistant", "content": record["reference"]}]}


def preference_record(pair: Pair) -> dict[str, Any] | None:
    if not pair.prompt or pair.chosen == pair.rejected:
        return None
    return {
        "id": pair.id,
        "prompt": [{"role": m["role"], "content": m["content"]} for m in pair.prompt],
        "chosen": pair.chosen,
        "rejected": pair.rejected,
        "origin": pair.origin,
        "source": {"chosen": pair.items[0], "rejected": pair.items[1]},
    }


def line(record: Mapping[str, Any]) -> bytes:
    """One JSONL line: sorted keys, no spaces, UTF-8, so equal records give equal bytes."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"


def lines(records: Iterable[dict[str, Any] | None]) -> Iterator[bytes]:
    for record in records:
        if record is not None:
            yield line(record)


class Sink:
    """A file being written: bytes counted and hashed on the way through, written in blocks
    (`close` writes the rest; the digest covers everything added)."""

    BLOCK = 1 << 16

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.bytes = 0
        self.records = 0
        self._pending: list[bytes] = []
        self._size = 0

    def add(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        self.records += 1
        if self._size >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            block = b"".join(self._pending)
            self.out.write(block)
            self.digest.update(block)
            self.bytes += len(block)
            self._pending.clear()
            self._size = 0
