"""Which curated items a dataset takes, and what their examples and preference pairs are (pure:
the build job reads the database into `Candidate`s and writes what these functions return).

An item's labels come from its annotations when it has any (the annotators' majority verdict,
the failure modes most of them named, the latest correction) and from its users' feedback
otherwise, so a dataset works from feedback signals alone where nothing was annotated.

Precedence (`judge`): annotators outrank explicit feedback, which outranks implicit feedback.
Annotators' votes decide an item's judgement (an annotation naming a failure mode without a
verdict votes bad); a tie leaves it `disputed`, and a disputed item is in no fine-tune or eval
file and matches no `signals` criterion until they agree. Unannotated, the explicit reactions
(thumbs, flags, ratings) decide when there are any, the implicit ones (accept, copy, ...) else.

Preference pairs come from:
- a `tweak`: the user's edit of the answer is chosen over the answer, unless annotators who
  compared the two preferred the original (origin `tweak`, or `annotator` when they decided);
- alternatives: answers to the same prompt in one conversation (regenerations, A/B answers,
  imported comparisons). Within them, a `rank` the user gave orders first (origin `ranking`),
  then the annotators' verdicts (`annotator`), then the users' net feedback (`regenerate` when
  the worse answer was regenerated, else `feedback`). Answers nothing orders are not paired.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from itertools import combinations
from typing import Any

from app.feedback import EVENT_TYPES, Kind, Signal, SignalMap
from app.payloads.datasets import Selection
from app.services.items import messages
from app.services.reactions import Feedback
from workers.datasets.formats import Example, Pair, split_answer


@dataclass(slots=True)
class Review:
    """One annotator's (non-deleted, non-skipped) annotation of the item."""

    kind: str  # review | pairwise
    verdict: str | None = None
    failure_modes: Sequence[str] = ()
    correction: str | None = None
    preference: str | None = None  # original | tweaked (pairwise)
    updated_at: datetime | None = None


@dataclass(slots=True)
class Candidate:
    item_id: int
    external_id: str
    conversation: str | None
    user_id: str | None
    turns: Sequence[Mapping[str, Any]]  # redacted: [{"role", "text"}]
    occurred_at: datetime | None = None  # None when the reader applied since/until itself
    generation: str | None = None
    model: str | None = None
    model_version: str | None = None
    prompt: str | None = None
    prompt_version: str | None = None
    feature: str | None = None
    # Mean signal score (-2..+2) of the users' explicit feedback, else of their implicit
    # feedback (`feedback_score`), and which of the two it is.
    score: float | None = None
    feedback_kind: str | None = None  # explicit | implicit
    regenerated: bool = False
    rank: int | None = None  # best rank a user gave its generation (1 = best)
    tweak: str | None = None  # the user's edit of the answer, already PII-redacted
    reviews: Sequence[Review] = ()


@dataclass(slots=True)
class Labels:
    verdict: str | None
    agreement: float | None  # percent agreement on the verdict; None with fewer than 2
    failure_modes: tuple[str, ...]
    correction: str | None
    preference: str | None  # pairwise majority: original | tweaked
    signal: str | None
    judgement: str | None = None  # good | bad | disputed (see `judge`); None: nothing says
    judged_by: str | None = None  # annotators | explicit | implicit


_STRONG_POSITIVE, _POSITIVE, _NEUTRAL, _NEGATIVE, _STRONG_NEGATIVE = (
    s.value for s in (Signal.STRONG_POSITIVE, Signal.POSITIVE, Signal.NEUTRAL, Signal.NEGATIVE,
                      Signal.STRONG_NEGATIVE)
)  # plain strings: an enum member's `.value` is a descriptor call, and this runs per item


def signal_of(score: float | None) -> str | None:
    """The net signal of a mean score (-2..+2), rounded to the nearest step."""
    if score is None:
        return None
    if score >= 1.5:
        return _STRONG_POSITIVE
    if score >= 0.5:
        return _POSITIVE
    if score > -0.5:
        return _NEUTRAL
    if score > -1.5:
        return _NEGATIVE
    return _STRONG_NEGATIVE


POSITIVE_SIGNALS = (Signal.STRONG_POSITIVE.value, Signal.POSITIVE.value)
NEGATIVE_SIGNALS = (Signal.NEGATIVE.value, Signal.STRONG_NEGATIVE.value)


def feedback_score(
    by_type: Mapping[str, int], ratings: Mapping[int, int], signals: SignalMap
) -> tuple[float | None, str | None]:
    """The users' score from their explicit reactions when they gave any, else from their
    implicit ones: a thumbs down outweighs any number of copies. With the kind it came from."""
    def kind(event_type: str) -> Kind:
        known = EVENT_TYPES.get(event_type)
        return known.kind if known is not None else Kind.IMPLICIT

    explicit = {t: n for t, n in by_type.items() if kind(t) is Kind.EXPLICIT}
    score = Feedback(explicit, ratings).score(signals)
    if score is not None:
        return score, Kind.EXPLICIT.value
    implicit = {t: n for t, n in by_type.items() if kind(t) is Kind.IMPLICIT}
    score = Feedback(implicit, {}).score(signals)
    return score, (Kind.IMPLICIT.value if score is not None else None)


class FeedbackScores:
    """`feedback_score` under one signal map, kept per distinct mix of reactions: a build scores
    a million items, and most share one of a few mixes (one thumbs up, a copy and an accept)."""

    LIMIT = 4096  # mixes kept; past it the memo starts again (counts can make many)

    def __init__(self, signals: SignalMap) -> None:
        self.signals = signals
        self.memo: dict[tuple[Any, ...], tuple[float | None, str | None]] = {}

    def __call__(
        self, by_type: Mapping[str, int], ratings: Mapping[int, int]
    ) -> tuple[float | None, str | None]:
        key = (*by_type.items(), None, *ratings.items())
        got = self.memo.get(key)
        if got is None:
            got = feedback_score(by_type, ratings, self.signals)
            if len(self.memo) >= self.LIMIT:
                self.memo.clear()
            self.memo[key] = got
        return got


def judge(
    reviews: Sequence[Review], signal: str | None, feedback_kind: str | None
) -> tuple[str | None, str | None]:
    """(judgement, judged by) under the precedence annotators > explicit > implicit."""
    votes = verdict_votes(reviews)
    if votes:
        return _majority(votes) or "disputed", "annotators"
    if signal in POSITIVE_SIGNALS:
        return "good", feedback_kind
    if signal in NEGATIVE_SIGNALS:
        return "bad", feedback_kind
    return None, None


def verdict_votes(reviews: Sequence[Review]) -> list[str]:
    """The review annotations' verdicts; one naming a failure mode without a verdict is a bad
    verdict stated another way."""
    votes = []
    for r in reviews:
        if r.kind != "review":
            continue
        if r.verdict in ("good", "bad"):
            votes.append(r.verdict)
        elif r.failure_modes:
            votes.append("bad")
    return votes


def _majority(values: Iterable[str]) -> str | None:
    counts = Counter(values).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def labels_of(c: Candidate) -> Labels:
    if not c.reviews:  # feedback only: the common case, kept cheap
        signal = signal_of(c.score)
        return Labels(None, None, (), None, None, signal, *judge((), signal, c.feedback_kind))
    reviews = [r for r in c.reviews if r.kind == "review"]
    verdicts = verdict_votes(reviews)
    verdict = _majority(verdicts)
    agreement = None
    if len(verdicts) >= 2:
        pairs = [a == b for a, b in combinations(verdicts, 2)]
        agreement = round(sum(pairs) / len(pairs), 4)
    named = Counter(m for r in reviews for m in set(r.failure_modes))
    modes = tuple(sorted(m for m, n in named.items() if reviews and n * 2 >= len(reviews)))
    corrections = [r for r in reviews if r.correction is not None and r.correction.strip()]
    correction = None
    if corrections:
        latest = max(corrections, key=lambda r: (r.updated_at is not None, r.updated_at))
        correction = latest.correction
    preference = _majority(r.preference for r in c.reviews if r.kind == "pairwise" and r.preference)
    signal = signal_of(c.score)
    return Labels(verdict, agreement, modes, correction, preference, signal,
                  *judge(reviews, signal, c.feedback_kind))


def _ref_matches(wanted: Sequence[str], name: str | None, version: str | None) -> bool:
    if name is None:
        return False
    for ref in wanted:
        want_name, at, want_version = ref.partition("@")
        if want_name == name and (not at or want_version == version):
            return True
    return False


def matches(selection: Selection, c: Candidate, labels: Labels) -> bool:
    s = selection
    if c.occurred_at is not None:
        if s.since is not None and c.occurred_at < s.since:
            return False
        if s.until is not None and c.occurred_at >= s.until:
            return False
    if s.verdicts is not None and labels.verdict not in s.verdicts:
        return False
    if s.failure_modes is not None and not set(s.failure_modes) & set(labels.failure_modes):
        return False
    if s.signals is not None and not _signal_matches(s.signals, labels):
        return False
    if s.min_agreement is not None and (
        labels.agreement is None or labels.agreement < s.min_agreement
    ):
        return False
    if s.features is not None and c.feature not in s.features:
        return False
    if s.models is not None and not _ref_matches(s.models, c.model, c.model_version):
        return False
    return s.prompts is None or _ref_matches(s.prompts, c.prompt, c.prompt_version)


def _signal_matches(wanted: Sequence[str], labels: Labels) -> bool:
    """Users' signal, unless annotators judged the item: then a good item counts as positive
    (either strength), a bad one as negative, and a disputed one as nothing."""
    if labels.judged_by != "annotators":
        return labels.signal in wanted
    if labels.judgement == "good":
        return any(w in POSITIVE_SIGNALS for w in wanted)
    if labels.judgement == "bad":
        return any(w in NEGATIVE_SIGNALS for w in wanted)
    return False


def group_key(c: Candidate, group_by: str) -> str:
    """The group an item belongs to; an item without a conversation (or user) is its own."""
    if group_by == "user" and c.user_id:
        return f"user:{c.user_id}"
    if group_by == "conversation" and c.conversation:
        return f"conversation:{c.conversation}"
    return f"item:{c.external_id}"


def group_hash(salt: str, key: str) -> str:
    """What is recorded for a group: a salted hash, never the conversation or user id itself."""
    return hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()[:32]


def source_of(c: Candidate) -> dict[str, Any]:
    return {
        "item": c.external_id,
        "generation": c.generation,
        "model": c.model,
        "model_version": c.model_version,
        "prompt": c.prompt,
        "prompt_version": c.prompt_version,
        "feature": c.feature,
    }


def example_of(c: Candidate, labels: Labels) -> Example:
    return Example(
        id=c.external_id,
        messages=messages(c.turns),
        verdict=labels.verdict,
        failure_modes=labels.failure_modes,
        correction=labels.correction,
        signal=labels.signal,
        judgement=labels.judgement,
        source=source_of(c),
    )


def _prompt_and_answer(c: Candidate) -> tuple[list[Mapping[str, str]], str] | None:
    prompt, answer = split_answer(messages(c.turns))
    if answer is None or not prompt:
        return None
    return prompt, answer


def tweak_pair(c: Candidate, labels: Labels) -> Pair | None:
    parts = _prompt_and_answer(c)
    if parts is None or not c.tweak or not c.tweak.strip():
        return None
    prompt, answer = parts
    if c.tweak == answer:
        return None
    if labels.preference == "original":
        return Pair(
            f"{c.external_id}:tweak",
            prompt,
            answer,
            c.tweak,
            "annotator",
            (c.external_id, c.external_id),
        )
    origin = "annotator" if labels.preference == "tweaked" else "tweak"
    return Pair(
        f"{c.external_id}:tweak", prompt, c.tweak, answer, origin, (c.external_id, c.external_id)
    )


def _order(a: Candidate, la: Labels, b: Candidate, lb: Labels) -> tuple[int, str] | None:
    """+1 if a is better, -1 if b is, with the origin of the decision; None if undecided."""
    if a.rank is not None and b.rank is not None and a.rank != b.rank:
        return (1 if a.rank < b.rank else -1), "ranking"
    if la.verdict and lb.verdict and la.verdict != lb.verdict:
        return (1 if la.verdict == "good" else -1), "annotator"
    if a.score is not None and b.score is not None and a.score != b.score:
        better = 1 if a.score > b.score else -1
        worse = b if better == 1 else a
        return better, "regenerate" if worse.regenerated else "feedback"
    return None


_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*_\d+>")


def _covers(redacted: str, other: str) -> bool:
    """Whether `other` is `redacted` with some placeholders' text still in it."""
    parts = _PLACEHOLDER.split(redacted)
    if len(parts) == 1:
        return False
    pattern = ".+?".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, other, flags=re.S) is not None


def _compatible(x: str, y: str) -> bool:
    if x == y or _covers(x, y) or _covers(y, x):
        return True
    # Each copy redacted something the other did not: align the words; every difference must
    # be placeholders on one side standing for a few words on the other.
    if not (_PLACEHOLDER.search(x) and _PLACEHOLDER.search(y)):
        return False
    wx, wy = x.split(), y.split()
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=wx, b=wy, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        a, b = wx[i1:i2], wy[j1:j2]
        if not (_stands_for(a, b) or _stands_for(b, a)):
            return False
    return True


def _stands_for(placeholders: list[str], words: list[str]) -> bool:
    return (
        bool(placeholders)
        and all(_PLACEHOLDER.search(w) for w in placeholders)
        and len(words) <= 6 * len(placeholders)
    )


def same_prompt(a: Sequence[Mapping[str, str]], b: Sequence[Mapping[str, str]]) -> bool:
    """Equal turns, allowing for redaction: screening sees each conversation whole, so a name
    only the other answer repeats may be redacted in one copy of the prompt and not the other."""
    if len(a) != len(b):
        return False
    return all(
        x["role"] == y["role"] and _compatible(x["content"], y["content"])
        for x, y in zip(a, b, strict=True)
    )


def _redactions(prompt: Sequence[Mapping[str, str]]) -> int:
    return sum(len(_PLACEHOLDER.findall(t["content"])) for t in prompt)


def alternative_pairs(run: Sequence[tuple[Candidate, Labels]]) -> list[Pair]:
    """Pairs among the items of one conversation that answer the same prompt differently. A
    pair's prompt is the more redacted of its two copies."""
    members = []
    for c, labels in run:
        parts = _prompt_and_answer(c)
        if parts is not None:
            members.append((c, labels, parts[0], parts[1]))
    pairs = []
    for (a, la, prompt_a, answer_a), (b, lb, prompt_b, answer_b) in combinations(members, 2):
        if answer_a == answer_b or not same_prompt(prompt_a, prompt_b):
            continue
        decided = _order(a, la, b, lb)
        if decided is None:
            continue
        better, origin = decided
        (win, win_answer), (lose, lose_answer) = (
            ((a, answer_a), (b, answer_b)) if better == 1 else ((b, answer_b), (a, answer_a))
        )
        prompt = prompt_b if _redactions(prompt_b) > _redactions(prompt_a) else prompt_a
        pairs.append(
            Pair(
                f"{win.external_id}>{lose.external_id}",
                prompt,
                win_answer,
                lose_answer,
                origin,
                (win.external_id, lose.external_id),
            )
        )
    return sorted(pairs, key=lambda p: p.id)
