"""Dedupe, the pure part: normalisation, exact keys, candidate keys, and the check that decides
whether a candidate really is a copy.

A near duplicate is the same conversation shared again with small edits (typos, casing,
spacing, in a long message a changed word), not another conversation on the same topic, and not
another answer to the same prompt. What the user wrote decides: the user turns are compared on
their own, without role labels, system prompts or answers, which are alike in many distinct
conversations and would make short ones look like copies ("test" and "lol", both answered
"Okay."). The assistant turns can only confirm a match (a regeneration is not a copy), never
create one.

Candidates come from MinHash LSH over character shingles of the user text and, for short user
texts (too few shingles for LSH to see one typo), from their one-deletion neighbourhood. A
candidate merges only if the user texts are close in edit distance *and in order* (sentences
that share their words but not their order, "flights from Rome to Oslo" / "from Oslo to Rome",
differ in meaning; the order test compares Levenshtein similarity with the similarity of the
same words sorted), within a typo budget that grows with the length of the text: a short text
must be nearly identical, with the same numbers and no word swapped for another real word
("how cold is it" / "how old is it").

A candidate's text is only read when its fingerprint (length and character counts in 16
buckets, kept with the index) allows a copy (`could_copy`): a necessary condition, so no copy
is lost, and the false LSH candidates that grow with the index are mostly dropped unread.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Levenshtein
from wordfreq import zipf_frequency

from workers.curation.types import Turn

# Placeholders (<person_1>), numbers with their decimal or thousands marks, an arithmetic
# operator between two numbers ("2+2" is not "2*2"), and words; everything else is noise.
_TOKEN = re.compile(r"<\w+>|\d+(?:[.,]\d+)*|(?<=\d)\s*[-+*/\u00d7\u00f7^=%]\s*(?=\d)|\w+")
# In normalised text: numbers, and the operators normalize keeps between them.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|(?<=\d )[-+*/\u00d7\u00f7^=%](?= \d)")
# conversation_text's separators: control characters, which `normalize` never keeps.
RECORD, UNIT = "\x1e", "\x1f"
SEED = 1  # every process must hash alike


@dataclass(frozen=True)
class DedupeConfig:
    threshold: float = 0.8  # OSA similarity (a swap is one edit) of the user texts, to merge
    max_reorder: float = 0.05  # sorted-words similarity may exceed it by less than this
    candidate_threshold: float = 0.5  # MinHash Jaccard estimate for LSH candidates
    shingle: int = 5
    num_perm: int = 128
    exact_below: int = 5  # user texts shorter than this (characters) merge only when identical
    budget_offset: int = 10  # the typo budget is (1 - threshold) of the characters beyond this
    short: int = 40  # up to this many characters: deletion keys, no real word swapped
    numbers_within: int = 100  # up to this many characters: the same numbers in the same order
    known_zipf: float = 3.3  # a word this frequent in one of `languages` is a real word
    languages: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "nl")


@dataclass(frozen=True)
class Sides:
    """A conversation as dedupe compares it: normalised user text, final answer, earlier
    assistant turns."""

    user: str
    answer: str = ""
    earlier: str = ""

    def encode(self) -> str:
        """Printable, plain text: `normalize` never keeps a "|"."""
        return "|".join((self.user, self.answer, self.earlier))

    @classmethod
    def decode(cls, value: str) -> Sides | None:
        parts = value.split("|")
        return cls(*parts) if len(parts) == 3 else None


def normalize(text: str) -> str:
    """Casefolded tokens separated by single spaces; placeholders like <PERSON_1> survive."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(t.strip() for t in _TOKEN.findall(text))


def conversation_text(turns: Sequence[Turn]) -> str:
    """The turns as one string the index can take apart again (roles and texts separated by
    control characters, which are dropped from the texts)."""
    return RECORD.join(f"{t.role}{UNIT}{_clean(t.text)}" for t in turns)


def _clean(text: str) -> str:
    return text.replace(RECORD, " ").replace(UNIT, " ")


def turns_of(text: str) -> list[Turn]:
    """conversation_text undone; any other text is one user turn."""
    if UNIT not in text:
        return [Turn("user", text)]
    turns = []
    for record in text.split(RECORD):
        role, _, body = record.partition(UNIT)
        turns.append(Turn(role, body))
    return turns


def sides(text: str) -> Sides:
    turns = turns_of(text)
    replies = [normalize(t.text) for t in turns if t.role == "assistant"]
    user = [t.text for t in turns if t.role == "user"]
    if not user:  # nothing from a user: what is not an answer stands in for it
        user = [t.text for t in turns if t.role != "assistant"]
    return Sides(
        user=normalize(" ".join(user)),
        answer=replies[-1] if replies else "",
        earlier=" ".join(replies[:-1]),
    )


def exact_key(text: str) -> str:
    if UNIT in text:
        canonical = RECORD.join(f"{t.role}{UNIT}{normalize(t.text)}" for t in turns_of(text))
    else:
        canonical = normalize(text)
    return hashlib.sha256(canonical.encode()).hexdigest()


def shingles(normalized: str, k: int) -> set[bytes]:
    data = normalized.encode()
    if len(data) <= k:
        return {data}
    return {data[i : i + k] for i in range(len(data) - k + 1)}


def signature(normalized: str, config: DedupeConfig) -> MinHash:
    scheme = _scheme(config.num_perm)
    m = MinHash(num_perm=config.num_perm, seed=SEED, permutations=scheme.permutations,
                scheme=scheme.scheme)
    m.update_batch(list(shingles(normalized, config.shingle)))
    return m


@lru_cache(maxsize=8)
def _scheme(num_perm: int) -> MinHash:
    """A MinHash whose permutations every signature reuses: datasketch draws them afresh from
    the seed for each new MinHash (~210 µs a text, the same numbers every time)."""
    return MinHash(num_perm=num_perm, seed=SEED)


@lru_cache(maxsize=32)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH chooses for this threshold; it integrates
    numerically to find them (tens of ms), so once per setting."""
    probe = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(probe.b), int(probe.r)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def candidate_keys(s: Sides, config: DedupeConfig) -> list[str]:
    """Keys under which an item is indexed and looked up: items sharing one are candidates.
    LSH bands of the user text's MinHash, and for a short user text every form of it with one
    character deleted (two texts one typo apart share one)."""
    bands, rows = band_layout(config.candidate_threshold, config.num_perm)
    values = signature(s.user, config).hashvalues
    keys = [f"b{b}:{_digest(values[b * rows : (b + 1) * rows].tobytes())}" for b in range(bands)]
    if len(s.user) <= config.short:
        variants = {s.user} | {s.user[:i] + s.user[i + 1 :] for i in range(len(s.user))}
        keys += sorted(f"d:{_digest(v.encode())}" for v in variants)
    return keys


# A user text's fingerprint: its length and how many of its characters fall in each of 16
# buckets (a space in its own), 18 bytes. Comparing two fingerprints gives a lower bound of the
# texts' edit distance (see could_copy) without reading either text.
BUCKETS = 16
FINGERPRINT = 2 + BUCKETS
_LONGEST, _MOST = 0xFFFF, 0xFF
UNKNOWN = bytes([0xFF, 0xFF]) + bytes(BUCKETS)  # a length out of range: never ruled out


def fingerprint(user: str) -> bytes:
    counts = [0] * BUCKETS
    for char, n in Counter(user).items():
        bucket = 0 if char == " " else 1 + ord(char) % (BUCKETS - 1)
        counts[bucket] += n
    return min(len(user), _LONGEST).to_bytes(2, "big") + bytes(min(c, _MOST) for c in counts)


def could_copy(user: str, prints: bytes, config: DedupeConfig) -> list[bool]:
    """For each fingerprint (FINGERPRINT bytes each, concatenated) whether its text could pass
    `same_user_text` against `user`: False only when the texts' bag distance over the buckets
    (characters one text has more of than the other; at most the OSA distance, since an edit
    moves one character and a swap none) exceeds the typo budget, which every copy keeps
    within. A necessary condition, so no copy is ruled out: it spares fetching and comparing
    most of the unrelated texts that share an LSH band with this one (the candidates grow with
    the index; their texts need not be read)."""
    if not prints:
        return []
    mine = np.frombuffer(fingerprint(user), dtype=np.uint8).astype(np.int32)
    theirs = np.frombuffer(prints, dtype=np.uint8).reshape(-1, FINGERPRINT).astype(np.int32)
    length = theirs[:, 0] * 256 + theirs[:, 1]
    mine_length = int(mine[0]) * 256 + int(mine[1])
    diff = theirs[:, 2:] - mine[2:]
    bound = np.maximum(np.maximum(diff.clip(min=0).sum(axis=1), (-diff).clip(min=0).sum(axis=1)),
                       np.abs(length - mine_length))
    budget = typo_budgets(np.maximum(length, mine_length), config)
    unknown = (length == _LONGEST) | (mine_length == _LONGEST)  # lengths capped: no bound
    return cast(list[bool], ((bound <= budget) | unknown).tolist())


def typo_budgets(lengths: Any, config: DedupeConfig) -> Any:
    """typo_budget for an array of lengths (the same integers: truncation toward zero)."""
    if config.threshold >= 1:
        return np.zeros_like(lengths)
    raw = np.trunc((1 - config.threshold) * (lengths - config.budget_offset)).astype(np.int64)
    return np.where(lengths < config.exact_below, 0, np.maximum(1, raw))


def similarity(a: str, b: str) -> float:
    """Levenshtein similarity in [0, 1] of two normalised texts."""
    return float(Levenshtein.normalized_similarity(a, b))


def typo_budget(length: int, config: DedupeConfig) -> int:
    """Edits (OSA: a swap of neighbours is one) a text of this length may differ by."""
    if length < config.exact_below or config.threshold >= 1:
        return 0
    return max(1, int((1 - config.threshold) * (length - config.budget_offset)))


def is_copy(a: Sides, b: Sides, config: DedupeConfig) -> tuple[bool, float]:
    """Whether a and b are the same conversation, and how similar (the lower of the user
    texts' and the final answers' similarity)."""
    if a == b:
        return True, 1.0
    same, score = same_user_text(a.user, b.user, config)
    if not same:
        return False, score
    # Two answers to the same prompt (a regeneration, an A/B pair) are alternatives, not copies.
    for x, y in ((a.answer, b.answer), (a.earlier, b.earlier)):
        if x and y and x != y:
            if not same_reply(x, y, config):
                return False, score
            score = min(score, similarity(x, y))
    return True, score


def same_user_text(a: str, b: str, config: DedupeConfig) -> tuple[bool, float]:
    if a == b:
        return True, 1.0
    score = float(OSA.normalized_similarity(a, b))  # a swap of two letters is one typo
    if score < config.threshold:
        return False, score
    n = max(len(a), len(b))
    # The same words in another order: the (InDel) ratio of the sorted words against the
    # Levenshtein similarity, the pairing that separates PAWS reorderings best. In a text of a
    # few words it would also count an inserted letter; there the typo budget decides.
    reordered = fuzz.token_sort_ratio(a, b) / 100 - similarity(a, b)
    if n > config.short and reordered >= config.max_reorder:
        return False, score
    if n <= config.numbers_within and _NUMBER.findall(a) != _NUMBER.findall(b):
        return False, score  # "what is 2+2" / "3+1" / "2*2": another number is not a typo
    budget = typo_budget(n, config)
    if OSA.distance(a, b, score_cutoff=budget) > budget:
        return False, score
    if n <= config.short and swaps_real_word(a, b, config):
        return False, score
    return True, score


def same_reply(a: str, b: str, config: DedupeConfig) -> bool:
    """Replies are the same answer given again with surface noise (the test that may veto a
    match the user texts made)."""
    if similarity(a, b) >= config.threshold:
        return True
    n = max(len(a), len(b))
    budget = typo_budget(n, config)
    if n <= config.numbers_within and _NUMBER.findall(a) != _NUMBER.findall(b):
        return False
    return OSA.distance(a, b, score_cutoff=budget) <= budget


def swaps_real_word(a: str, b: str, config: DedupeConfig) -> bool:
    """Whether b has another real word where a has one: in a short text that is another
    message, not a typo (typos mostly make non-words; "hwo" but not "who")."""
    wa, wb = a.split(), b.split()
    for op in Levenshtein.opcodes(wa, wb):
        if op.tag != "replace" or op.src_end - op.src_start != op.dest_end - op.dest_start:
            continue
        src, dest = wa[op.src_start : op.src_end], wb[op.dest_start : op.dest_end]
        if len(src) > 1 and "".join(src) == "".join(dest):
            continue  # a space moved: "in the" / "int he"
        for x, y in zip(src, dest, strict=True):
            if _is_word(x, config) and _is_word(y, config):
                return True
    return False


def _is_word(token: str, config: DedupeConfig) -> bool:
    return (
        len(token) >= 3 and token.isalpha() and _zipf(token, config.languages) >= config.known_zipf
    )


@lru_cache(maxsize=65536)
def _zipf(word: str, languages: tuple[str, ...]) -> float:
    return max(zipf_frequency(word, lang) for lang in languages)
