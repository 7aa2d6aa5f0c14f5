"""Dataset file formats: content, what is left out, and byte-identical rebuilds."""

from __future__ import annotations

import hashlib
import io
import json

from workers.datasets.formats import (
    Example,
    Pair,
    Sink,
    eval_record,
    finetune_record,
    lines,
    preference_record,
)

CHAT = [
    {"role": "user", "content": "How do I reset my password, <PERSON_1>?"},
    {"role": "assistant", "content": "Open Settings."},
]


def test_eval_reference_is_the_correction_else_an_accepted_answer() -> None:
    corrected = Example(
        "i1",
        CHAT,
        verdict="bad",
        failure_modes=["wrong_or_incomplete"],
        correction="Open Settings, then Security, then Reset password.",
        source={"model": "gpt-4o@2024-08-06"},
    )
    rec = eval_record(corrected)
    assert rec is not None
    assert rec["input"] == CHAT[:1] and rec["reference"].startswith("Open Settings, then")
    assert rec["labels"] == {
        "verdict": "bad",
        "failure_modes": ["wrong_or_incomplete"],
        "signal": None,
        "corrected": True,
    }
    good = eval_record(Example("i2", CHAT, verdict="good"))
    assert good is not None and good["reference"] == "Open Settings."
    liked = eval_record(Example("i3", CHAT, signal="strong_positive"))
    assert liked is not None and liked["reference"] == "Open Settings."
    # A bad answer with no correction has no reference; users' liking does not overrule annotators.
    assert eval_record(Example("i4", CHAT, verdict="bad", signal="positive")) is None
    assert eval_record(Example("i5", CHAT[:1], verdict="good")) is None  # no answer at all


def test_finetune_is_openai_chat_format_with_the_reference_as_answer() -> None:
    rec = finetune_record(Example("i1", CHAT, verdict="bad", correction="Better."))
    assert rec == {"messages": [CHAT[0], {"role": "assistant", "content": "Better."}]}
    assert finetune_record(Example("i2", CHAT, verdict="bad")) is None


def test_preference_pairs() -> None:
    rec = preference_record(
        Pair(
            "p1",
            CHAT[:1],
            chosen="Open Settings > Security.",
            rejected="Open Settings.",
            origin="tweak",
            items=("i1", "i1"),
        )
    )
    assert rec is not None
    assert set(rec) == {"id", "prompt", "chosen", "rejected", "origin", "source"}
    assert rec["source"] == {"chosen": "i1", "rejected": "i1"}
    assert preference_record(Pair("p2", CHAT[:1], "same", "same", "tweak")) is None


def test_files_are_byte_identical_for_the_same_inputs() -> None:
    examples = [Example(f"i{i}", CHAT, verdict="good", source={"b": 2, "a": 1}) for i in range(50)]

    def written() -> tuple[Sink, bytes]:
        out = io.BytesIO()
        sink = Sink(out)
        for data in lines(map(eval_record, examples)):
            sink.add(data)
        sink.flush()
        return sink, out.getvalue()

    (first, data), (second, again) = written(), written()
    assert first.digest.hexdigest() == second.digest.hexdigest() and data == again
    assert first.records == 50
    assert hashlib.sha256(data).hexdigest() == first.digest.hexdigest()
    assert len(data) == first.bytes
    line = json.loads(data.splitlines()[0])
    assert list(line) == sorted(line) and line["source"] == {"a": 1, "b": 2}
