"""Dedupe, the pure part: normalisation, exact keys, MinHash signatures, and the check that
decides whether an LSH candidate really is a copy.

A near duplicate is the same conversation shared again with small edits (typos, casing,
spacing, a changed word), not another conversation on the same topic, and not another answer
to the same prompt (the final answers are compared on their own as well). MinHash LSH over
character shingles finds candidates cheaply; a candidate merges only if the two texts are
close in edit distance *and in order*: sentences that share their words but not their order
("flights from Rome to Oslo" / "from Oslo to Rome") differ in meaning, and a bag-of-words or
shingle measure cannot tell them apart. The order test compares Levenshtein similarity with
the similarity of the same words sorted: copies score alike on both, reorderings do not.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from workers.curation.types import Turn

_NOT_WORD = re.compile(r"[^\w<>]+")
SEED = 1  # every process must hash alike


@dataclass(frozen=True)
class DedupeConfig:
    threshold: float = 0.8  # Levenshtein similarity of the normalised texts, to merge
    max_reorder: float = 0.05  # sorted-words similarity may exceed it by less than this
    candidate_threshold: float = 0.5  # MinHash Jaccard estimate for LSH candidates
    shingle: int = 5
    num_perm: int = 128


def normalize(text: str) -> str:
    """Casefolded words separated by single spaces; placeholders like <PERSON_1> survive."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


# Marks the final answer in a conversation's text (survives `normalize`: it keeps \w and <>).
ANSWER = "<final_answer_turn>"


def conversation_text(turns: Sequence[Turn]) -> str:
    last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=None)
    return "\n".join(
        f"{t.role} {ANSWER}: {t.text}" if i == last else f"{t.role}: {t.text}"
        for i, t in enumerate(turns)
    )


def exact_key(text: str) -> str:
    return hashlib.sha256(normalize(text).encode()).hexdigest()


def shingles(normalized: str, k: int) -> set[bytes]:
    data = normalized.encode()
    if len(data) <= k:
        return {data}
    return {data[i : i + k] for i in range(len(data) - k + 1)}


def signature(normalized: str, config: DedupeConfig) -> MinHash:
    m = MinHash(num_perm=config.num_perm, seed=SEED)
    m.update_batch(list(shingles(normalized, config.shingle)))
    return m


def similarity(a: str, b: str) -> float:
    """Levenshtein similarity in [0, 1] of two normalised texts."""
    return float(Levenshtein.normalized_similarity(a, b))


def is_copy(a: str, b: str, config: DedupeConfig) -> tuple[bool, float]:
    """Whether normalised texts a and b are the same conversation, and their similarity."""
    if a == b:
        return True, 1.0
    score = similarity(a, b)
    if score < config.threshold:
        return False, score
    reordered = fuzz.token_sort_ratio(a, b) / 100 - score
    if reordered >= config.max_reorder:
        return False, score
    # Two answers to the same prompt (a regeneration, an A/B pair) are alternatives, not copies:
    # with a long shared prompt the whole texts are close, so the answers must be too.
    if ANSWER in a and ANSWER in b:
        answer_a, answer_b = a.rsplit(ANSWER, 1)[1], b.rsplit(ANSWER, 1)[1]
        if answer_a != answer_b and similarity(answer_a, answer_b) < config.threshold:
            return False, score
    return True, score
