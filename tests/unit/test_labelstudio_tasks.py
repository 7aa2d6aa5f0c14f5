"""Tasks built from items, and annotations normalized: the pure parts of the Label Studio
integration."""

from __future__ import annotations

from datetime import UTC, datetime

from app.feedback import DEFAULT_SIGNAL_MAP, SignalMap
from app.services.reactions import Feedback
from workers.labelstudio.normalize import normalize
from workers.labelstudio.tasks import order_key, prediction, review_task

REDACTED = [
    {"role": "user", "text": "I'm <PERSON_1>, how do I reset my password?"},
    {"role": "assistant", "text": "Open Settings."},
]


def test_negative_feedback_predicts_bad_and_names_its_source() -> None:
    pred = prediction(Feedback({"thumbs_down": 1, "share": 1}, {}), DEFAULT_SIGNAL_MAP)
    assert pred is not None
    assert pred["model_version"] == "user-feedback:thumbs_down"
    assert pred["result"] == [
        {
            "from_name": "verdict",
            "to_name": "dialogue",
            "type": "choices",
            "value": {"choices": ["bad"]},
        }
    ]


def test_the_reaction_that_weighs_most_names_the_prediction() -> None:
    # accept (+2) and thumbs_down (-1): the users lean good, and accept is why.
    pred = prediction(Feedback({"accept": 1, "thumbs_down": 1}, {}), DEFAULT_SIGNAL_MAP)
    assert pred is not None and pred["model_version"] == "user-feedback:accept"
    assert pred["result"][0]["value"] == {"choices": ["good"]}
    rated = prediction(Feedback({"rating": 2}, {5: 1, 4: 1}), DEFAULT_SIGNAL_MAP)
    assert rated is not None and rated["model_version"] == "user-feedback:rating_5"
    assert rated["result"][1] == {
        "from_name": "rating",
        "to_name": "dialogue",
        "type": "rating",
        "value": {"rating": 4},
    }


def test_neutral_or_no_feedback_predicts_nothing_and_overrides_apply() -> None:
    assert prediction(Feedback({}, {}), DEFAULT_SIGNAL_MAP) is None
    assert prediction(Feedback({"share": 3, "comment": 1}, {}), DEFAULT_SIGNAL_MAP) is None
    flipped = SignalMap.from_overrides({"types": {"copy": "negative"}})
    pred = prediction(Feedback({"copy": 2}, {}), flipped)
    assert pred is not None and pred["result"][0]["value"] == {"choices": ["bad"]}


def test_a_task_carries_the_redacted_messages_and_the_item_id_only() -> None:
    task = review_task(42, REDACTED, Feedback({"regenerate": 2}, {}), DEFAULT_SIGNAL_MAP)
    assert set(task["data"]) == {"winnow_item", "messages", "feedback"}
    assert task["data"]["winnow_item"] == 42
    assert task["data"]["messages"][0] == {
        "role": "user",
        "content": "I'm <PERSON_1>, how do I reset my password?",
    }
    assert task["data"]["feedback"] == "User feedback: regenerate x2"
    assert task["predictions"][0]["model_version"] == "user-feedback:regenerate"


def test_negative_first_order() -> None:
    scores = {1: 1.0, 2: -2.0, 3: None, 4: -1.0}
    assert sorted(scores, key=lambda i: order_key("negative_first", i, scores[i])) == [2, 4, 3, 1]
    assert sorted(scores, key=lambda i: order_key("newest_first", i, None)) == [4, 3, 2, 1]
    assert sorted(scores, key=lambda i: order_key("oldest_first", i, None)) == [1, 2, 3, 4]


def test_normalize_a_review_annotation() -> None:
    raw = {
        "id": 7,
        "task": 3,
        "completed_by": {"id": 1, "email": "ann@example.org"},
        "lead_time": 12.5,
        "was_cancelled": False,
        "created_at": "2026-11-25T10:00:00.123456Z",
        "updated_at": "2026-11-25T10:05:00Z",
        "result": [
            {"from_name": "verdict", "value": {"choices": ["bad"]}},
            {
                "from_name": "failure_modes",
                "value": {"choices": ["off-topic", "hallucination", "not a mode"]},
            },
            {"from_name": "correction", "value": {"text": ["Line one", " ", "Line two"]}},
            {"from_name": "rating", "value": {"rating": 9}},
        ],
    }
    n = normalize(raw)
    assert (n.ls_annotation_id, n.ls_task_id, n.annotator) == (7, 3, "ann@example.org")
    assert n.verdict == "bad" and n.failure_modes == ["hallucination", "off_topic"]
    assert n.correction == "Line one\nLine two" and n.rating is None  # 9 is out of range
    assert n.lead_time == 12.5 and not n.skipped
    assert n.updated_at == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def test_normalize_a_skip_and_a_preference() -> None:
    skipped = normalize({"id": 1, "task": 2, "was_cancelled": True, "result": []})
    assert skipped.skipped and skipped.verdict is None and skipped.failure_modes is None
    pref = normalize(
        {
            "id": 2,
            "task": {"id": 5},
            "completed_by": 3,
            "result": [{"from_name": "preference", "value": {"selected": "right"}}],
        }
    )
    assert (pref.preference, pref.ls_task_id, pref.annotator) == ("tweaked", 5, "3")
