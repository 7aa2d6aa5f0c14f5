"""Agreement figures on small tables worked out by hand (and one published example)."""

from __future__ import annotations

import pytest

from app.feedback import DEFAULT_SIGNAL_MAP
from app.services.agreement import alpha, item_agreement, report
from app.services.reactions import Feedback


def test_percent_agreement_per_item() -> None:
    assert item_agreement(1, ["good", "good", "bad"]).percent_agreement == pytest.approx(
        1 / 3, abs=1e-4
    )
    assert item_agreement(1, ["good", "good"]).percent_agreement == 1.0
    one = item_agreement(1, ["bad"])
    assert one.percent_agreement is None and one.majority == "bad"
    assert item_agreement(1, ["good", "bad"]).majority is None  # a tie


def test_alpha_matches_a_hand_computed_table() -> None:
    # 3 items x 2 annotators: (g,g) (b,b) (g,b). Coincidences: g-g 2, b-b 2, g-b 2 (o),
    # n = 6, n_g = n_b = 3; D_o = 2/6, D_e = 2*3*3/(6*5) = 0.6; alpha = 1 - (1/3)/0.6 = 4/9.
    rows = {
        1: {"a": "good", "b": "good"},
        2: {"a": "bad", "b": "bad"},
        3: {"a": "good", "b": "bad"},
    }
    assert alpha(rows) == pytest.approx(4 / 9, abs=1e-4)
    assert alpha({1: {"a": "good", "b": "good"}, 2: {"a": "good", "b": "good"}}) is None
    assert alpha({1: {"a": "good", "b": "bad"}}) is None  # one item: undefined


def test_report_and_what_feedback_predicts() -> None:
    verdicts = [
        (1, "a", "bad"),
        (1, "b", "bad"),
        (2, "a", "good"),
        (2, "b", "bad"),
        (2, "c", "good"),
        (3, "a", "good"),
    ]
    feedback = {
        1: Feedback({"thumbs_down": 1}, {}),  # predicts bad; majority bad: right
        2: Feedback({"thumbs_down": 1, "accept": 1}, {}),  # majority good: accept right
        3: Feedback({"regenerate": 1, "share": 2}, {2: 1}),  # majority good: both wrong
    }
    r = report(verdicts, feedback, DEFAULT_SIGNAL_MAP, annotations=6)
    assert (r.annotators, r.items_annotated, r.items_with_overlap) == (3, 3, 2)
    assert r.percent_agreement == pytest.approx((1.0 + 1 / 3) / 2, abs=1e-4)
    by = {f.feedback: (f.predicts, f.items, f.agree) for f in r.feedback}
    assert by == {
        "thumbs_down": ("bad", 2, 1),
        "accept": ("good", 1, 1),
        "regenerate": ("bad", 1, 0),
        "rating_2": ("bad", 1, 0),
    }
