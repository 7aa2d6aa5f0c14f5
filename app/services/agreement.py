"""Agreement on the verdict (pure: no I/O).

Per item: percent agreement = the share of annotator pairs that gave the same verdict. Per
project: the mean of that over items with two or more verdicts, and Krippendorff's alpha
(nominal; the `krippendorff` package) over the annotators x items table. And how well each kind
of user feedback predicts the annotators' majority verdict: a reaction whose signal is positive
predicts "good", a negative one "bad"; neutral ones (share, comment, a 3 rating) predict nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import krippendorff
import numpy as np

from app.feedback import RATING, SignalMap
from app.services.reactions import Feedback

VERDICTS = ("good", "bad")


@dataclass(frozen=True)
class ItemAgreement:
    item_id: int
    verdicts: int
    good: int
    bad: int
    percent_agreement: float | None  # None with fewer than two verdicts
    majority: str | None  # None on a tie


@dataclass(frozen=True)
class FeedbackPrediction:
    feedback: str  # an event type, or rating_N
    predicts: str  # good | bad
    items: int  # annotated items (with a majority) that had this feedback
    agree: int  # of those, how many the annotators' majority matched
    agreement: float | None


@dataclass(frozen=True)
class Report:
    annotations: int
    annotators: int
    items_annotated: int
    items_with_overlap: int
    percent_agreement: float | None
    krippendorff_alpha: float | None
    items: list[ItemAgreement]
    feedback: list[FeedbackPrediction]


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def item_agreement(item_id: int, verdicts: Iterable[str]) -> ItemAgreement:
    counts = Counter(v for v in verdicts if v in VERDICTS)
    n = sum(counts.values())
    pairs = [a == b for a, b in combinations(list(counts.elements()), 2)]
    majority = None
    if counts["good"] != counts["bad"]:
        majority = "good" if counts["good"] > counts["bad"] else "bad"
    return ItemAgreement(
        item_id,
        n,
        counts["good"],
        counts["bad"],
        _round(sum(pairs) / len(pairs)) if pairs else None,
        majority,
    )


def alpha(rows: Mapping[int, Mapping[str, str]]) -> float | None:
    """Krippendorff's alpha (nominal) over {item: {annotator: verdict}}; None when it is not
    defined (fewer than two items with two verdicts, or no variation at all)."""
    items = [i for i, by in rows.items() if sum(v in VERDICTS for v in by.values()) >= 2]
    if len(items) < 2:
        return None
    annotators = sorted({a for i in items for a in rows[i]})
    code = {"good": 1.0, "bad": 0.0}
    table = np.full((len(annotators), len(items)), np.nan)
    for col, item in enumerate(items):
        for row, annotator in enumerate(annotators):
            verdict = rows[item].get(annotator)
            if verdict in code:
                table[row, col] = code[verdict]
    values = table[~np.isnan(table)]
    if values.size == 0 or np.all(values == values[0]):
        return None  # every verdict the same: alpha is undefined (no variation to explain)
    return _round(float(krippendorff.alpha(reliability_data=table, level_of_measurement="nominal")))


def predictions(
    majorities: Mapping[int, str], feedback: Mapping[int, Feedback], signals: SignalMap
) -> list[FeedbackPrediction]:
    seen: Counter[tuple[str, str]] = Counter()
    agree: Counter[tuple[str, str]] = Counter()
    for item_id, majority in majorities.items():
        fb = feedback.get(item_id)
        if fb is None:
            continue
        kinds: set[tuple[str, str]] = set()
        for event_type in fb.by_type:
            if event_type == RATING:
                continue
            score = signals.signal(event_type, None).score
            if score:
                kinds.add((event_type, "good" if score > 0 else "bad"))
        for value in fb.ratings:
            score = signals.signal(RATING, value).score
            if score:
                kinds.add((f"rating_{value}", "good" if score > 0 else "bad"))
        for kind in kinds:
            seen[kind] += 1
            agree[kind] += kind[1] == majority
    return [
        FeedbackPrediction(
            name,
            predicts,
            seen[(name, predicts)],
            agree[(name, predicts)],
            _round(agree[(name, predicts)] / seen[(name, predicts)]),
        )
        for name, predicts in sorted(seen)
    ]


def report(
    verdicts: Iterable[tuple[int, str, str]],
    feedback: Mapping[int, Feedback],
    signals: SignalMap,
    annotations: int,
) -> Report:
    """verdicts: (item id, annotator, verdict) of the live, non-skipped review annotations."""
    rows: dict[int, dict[str, str]] = {}
    for item_id, annotator, verdict in verdicts:
        rows.setdefault(item_id, {})[annotator] = verdict
    per_item = [item_agreement(i, by.values()) for i, by in sorted(rows.items())]
    overlapped = [a for a in per_item if a.percent_agreement is not None]
    majorities = {a.item_id: a.majority for a in per_item if a.majority is not None}
    return Report(
        annotations=annotations,
        annotators=len({a for by in rows.values() for a in by}),
        items_annotated=len(per_item),
        items_with_overlap=len(overlapped),
        percent_agreement=_round(
            sum(a.percent_agreement or 0.0 for a in overlapped) / len(overlapped)
        )
        if overlapped
        else None,
        krippendorff_alpha=alpha(rows),
        items=per_item,
        feedback=predictions(majorities, feedback, signals),
    )
