"""Precedence of labels: annotators over explicit feedback over implicit feedback (pure)."""

from __future__ import annotations

from app.feedback import DEFAULT_SIGNAL_MAP
from app.payloads.datasets import Selection
from tests.unit.test_dataset_select import item, review
from workers.datasets.formats import Example, eval_record, finetune_record
from workers.datasets.select import feedback_score, judge, labels_of, matches

CHAT = [{"role": "user", "content": "Reset?"}, {"role": "assistant", "content": "Settings."}]
POSITIVE = Selection.model_validate({"signals": ["positive", "strong_positive"]})


def test_explicit_feedback_outranks_implicit() -> None:
    # Three copies and one thumbs down: the mean of all four would be positive (+0.5).
    score, kind = feedback_score({"copy": 3, "thumbs_down": 1}, {}, DEFAULT_SIGNAL_MAP)
    assert (score, kind) == (-1.0, "explicit")
    score, kind = feedback_score({"copy": 2, "rating": 1}, {2: 1}, DEFAULT_SIGNAL_MAP)
    assert (score, kind) == (-1.0, "explicit")  # a rating is explicit
    assert feedback_score({"copy": 2}, {}, DEFAULT_SIGNAL_MAP) == (1.0, "implicit")
    # Reactions without a signal (share, comment) leave it to the implicit ones.
    assert feedback_score({"share": 1, "accept": 1}, {}, DEFAULT_SIGNAL_MAP) == (2.0, "implicit")
    assert feedback_score({"share": 1}, {}, DEFAULT_SIGNAL_MAP) == (None, None)


def test_annotators_outrank_feedback_and_a_tie_is_disputed() -> None:
    assert judge([review("bad")], "strong_positive", "explicit") == ("bad", "annotators")
    assert judge([review("good")], "negative", "explicit") == ("good", "annotators")
    # A failure mode without a verdict is a bad vote: against a good one, a tie.
    tie = [review("good"), review(None, ("hallucination",))]
    assert judge(tie, "positive", "explicit") == ("disputed", "annotators")
    assert judge([review(kind="pairwise", preference="original")], "positive", "implicit") == (
        "good", "implicit")  # pairwise comparisons judge no answer
    assert judge([], "negative", "implicit") == ("bad", "implicit")
    assert judge([], "neutral", "explicit") == (None, None)


def test_a_disputed_item_users_liked_is_selected_by_no_signal_and_gives_no_line() -> None:
    disputed = item(1, score=1.0, feedback_kind="explicit",
                    reviews=[review("good"), review(None, ("hallucination",))])
    labels = labels_of(disputed)
    assert (labels.verdict, labels.signal, labels.judgement) == (None, "positive", "disputed")
    assert not matches(POSITIVE, disputed, labels)
    assert not matches(Selection.model_validate({"signals": ["negative"]}), disputed, labels)
    assert eval_record(Example("i1", CHAT, signal="positive", judgement="disputed")) is None
    ex = Example("i1", CHAT, signal="positive", correction="Better.", judgement="disputed")
    assert finetune_record(ex) is None  # not even an annotator's correction, while disputed


def test_the_annotators_verdict_decides_which_signal_an_item_matches() -> None:
    bad = item(1, score=2.0, reviews=[review("bad"), review("bad")])
    assert not matches(POSITIVE, bad, labels_of(bad))
    assert matches(Selection.model_validate({"signals": ["strong_negative"]}), bad, labels_of(bad))
    good = item(2, score=-1.0, reviews=[review("good")])
    assert matches(POSITIVE, good, labels_of(good))
    assert not matches(Selection.model_validate({"signals": ["negative"]}), good, labels_of(good))
    unannotated = item(3, score=1.0, feedback_kind="implicit")
    assert matches(POSITIVE, unannotated, labels_of(unannotated))
    assert labels_of(unannotated).judged_by == "implicit"
    # Annotated bad, liked by users: no reference, so no fine-tune line either.
    assert finetune_record(Example("i4", CHAT, verdict="bad", signal="positive",
                                   judgement="bad")) is None
    assert finetune_record(Example("i5", CHAT, signal="negative", judgement="good")) is not None
