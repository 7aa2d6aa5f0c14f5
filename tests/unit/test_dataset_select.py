"""What a dataset selects and which preference pairs it makes (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.payloads.datasets import Selection
from workers.datasets.select import (
    Candidate,
    Review,
    alternative_pairs,
    group_key,
    labels_of,
    matches,
    same_prompt,
    signal_of,
    tweak_pair,
)

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
PROMPT = [{"role": "user", "text": "How do I reset my password?"}]


def item(n: int, answer: str = "Open Settings.", **fields: Any) -> Candidate:
    base: dict[str, Any] = {
        "item_id": n, "external_id": f"i{n}", "conversation": "c1", "user_id": "u1",
        "occurred_at": WHEN, "turns": [*PROMPT, {"role": "assistant", "text": answer}],
        "model": "gpt-4o", "model_version": "2024-08-06", "prompt": "support",
        "prompt_version": "3", "feature": "help",
    }
    base.update(fields)
    return Candidate(**base)


def review(verdict: str | None = None, modes: tuple[str, ...] = (), correction: str | None = None,
           day: int = 1, kind: str = "review", preference: str | None = None) -> Review:
    return Review(kind, verdict, modes, correction, preference, datetime(2026, 3, day, tzinfo=UTC))


def test_labels_majority_agreement_modes_and_latest_correction() -> None:
    c = item(1, reviews=[
        review("bad", ("hallucination",), "Use Settings > Security.", day=1),
        review("bad", ("hallucination", "format"), "Settings, then Security.", day=3),
        review("good", day=2),
    ])
    labels = labels_of(c)
    assert labels.verdict == "bad"
    assert labels.agreement == round(1 / 3, 4)  # one of three pairs agrees
    assert labels.failure_modes == ("hallucination",)  # format: one of three, not half
    assert labels.correction == "Settings, then Security."  # the latest
    tie = labels_of(item(2, reviews=[review("bad"), review("good")]))
    assert tie.verdict is None and tie.agreement == 0.0
    alone = labels_of(item(3, score=1.0))
    assert (alone.verdict, alone.agreement, alone.signal) == (None, None, "positive")
    assert [signal_of(s) for s in (2, 1.5, 0.5, 0.2, -0.5, -1.5, None)] == [
        "strong_positive", "strong_positive", "positive", "neutral", "negative",
        "strong_negative", None]


def test_selection_criteria_all_must_hold() -> None:
    annotated = item(1, score=1.0, reviews=[review("good"), review("good")])
    labels = labels_of(annotated)

    def ok(**criteria: Any) -> bool:
        return matches(Selection.model_validate(criteria), annotated, labels)

    assert ok()
    assert ok(verdicts=["good"]) and not ok(verdicts=["bad"])
    assert ok(signals=["positive"]) and not ok(signals=["negative"])
    assert ok(min_agreement=1.0)
    assert ok(models=["gpt-4o"]) and ok(models=["gpt-4o@2024-08-06"])
    assert not ok(models=["gpt-4o@2024-05-13"]) and not ok(models=["claude"])
    assert ok(prompts=["support@3"]) and not ok(prompts=["support@2"])
    assert ok(features=["help"]) and not ok(features=["search"])
    assert ok(since="2026-02-01T00:00:00Z", until="2026-04-01T00:00:00Z")
    assert not ok(since="2026-03-02T00:00:00Z")
    assert not ok(until="2026-03-01T00:00:00Z")  # until is exclusive
    assert not ok(failure_modes=["hallucination"])
    single = item(2, reviews=[review("good")])
    assert not matches(Selection(min_agreement=0.5), single, labels_of(single))
    unannotated = item(3, score=2.0)
    assert not matches(Selection(verdicts=["good"]), unannotated, labels_of(unannotated))
    no_generation = item(4, model=None, model_version=None)
    assert not matches(Selection(models=["gpt-4o"]), no_generation, labels_of(no_generation))


def test_groups() -> None:
    assert group_key(item(1), "conversation") == "conversation:c1"
    assert group_key(item(1), "user") == "user:u1"
    assert group_key(item(1, conversation=None), "conversation") == "item:i1"
    assert group_key(item(1, user_id=None), "user") == "item:i1"


def test_tweak_pairs_follow_the_user_unless_annotators_preferred_the_original() -> None:
    tweaked = item(1, tweak="Open Settings, then Security.")
    pair = tweak_pair(tweaked, labels_of(tweaked))
    assert pair is not None and pair.origin == "tweak"
    assert (pair.chosen, pair.rejected) == ("Open Settings, then Security.", "Open Settings.")
    assert pair.prompt == [{"role": "user", "content": "How do I reset my password?"}]
    overruled = item(2, tweak="Open Settings, then Security.",
                     reviews=[review(kind="pairwise", preference="original")] * 2)
    pair = tweak_pair(overruled, labels_of(overruled))
    assert pair is not None and pair.origin == "annotator"
    assert (pair.chosen, pair.rejected) == ("Open Settings.", "Open Settings, then Security.")
    assert tweak_pair(item(3, tweak="Open Settings."), labels_of(item(3))) is None
    assert tweak_pair(item(4), labels_of(item(4))) is None


def pairs(*cands: Candidate) -> list[tuple[str, str]]:
    return [(p.id, p.origin) for p in alternative_pairs([(c, labels_of(c)) for c in cands])]


def test_alternatives_ordered_by_rank_then_verdict_then_feedback() -> None:
    assert pairs(item(1, "A", rank=2, score=2.0), item(2, "B", rank=1, score=-2.0)) == [
        ("i2>i1", "ranking")]
    assert pairs(item(1, "A", score=2.0, reviews=[review("bad")]),
                 item(2, "B", score=-2.0, reviews=[review("good")])) == [("i2>i1", "annotator")]
    assert pairs(item(1, "A", score=-2.0, regenerated=True), item(2, "B", score=2.0)) == [
        ("i2>i1", "regenerate")]
    assert pairs(item(1, "A", score=1.0), item(2, "B", score=-1.0)) == [("i1>i2", "feedback")]
    assert pairs(item(1, "A", score=1.0), item(2, "B", score=1.0)) == []  # undecided
    assert pairs(item(1, "A", score=1.0), item(2, "A", score=-1.0)) == []  # same answer
    other_prompt = item(2, "B", score=-1.0,
                        turns=[{"role": "user", "text": "Something else entirely?"},
                               {"role": "assistant", "text": "B"}])
    assert pairs(item(1, "A", score=1.0), other_prompt) == []
    three = pairs(item(1, "A", rank=1), item(2, "B", rank=2), item(3, "C", rank=3))
    assert three == [("i1>i2", "ranking"), ("i1>i3", "ranking"), ("i2>i3", "ranking")]


def test_prompts_redacted_differently_still_match_and_the_pair_keeps_the_redacted_one() -> None:
    plain = [{"role": "user", "content": "Why was Dickens accused of stereotypes?"}]
    redacted = [{"role": "user", "content": "Why was <PERSON_1> accused of stereotypes?"}]
    assert same_prompt(plain, redacted) and same_prompt(redacted, plain)
    mixed_a = [{"role": "user", "content": "Did <PERSON_1> write about London in 1850?"}]
    mixed_b = [{"role": "user", "content": "Did Dickens write about <LOCATION_1> in 1850?"}]
    assert same_prompt(mixed_a, mixed_b)
    assert not same_prompt(plain, [{"role": "user", "content": "Why was <PERSON_1> happy?"}])
    assert not same_prompt(plain, [{"role": "assistant", "content": plain[0]["content"]}])
    a = item(1, "A", score=1.0, turns=[{"role": "user", "text": plain[0]["content"]},
                                       {"role": "assistant", "text": "A"}])
    b = item(2, "B", score=-1.0, turns=[{"role": "user", "text": redacted[0]["content"]},
                                        {"role": "assistant", "text": "B"}])
    [pair] = alternative_pairs([(a, labels_of(a)), (b, labels_of(b))])
    assert pair.prompt == redacted and pair.items == ("i1", "i2")
