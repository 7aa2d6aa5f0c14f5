"""Values and text normalization shared by the prank detectors (pure; no I/O).

`PrankInput.build` does the expensive work once per conversation: Unicode NFKC, removal of
zero-width / format characters, a small confusables map (Cyrillic and Greek look-alikes),
leetspeak folding and joining of s p a c e d letters, so each detector only runs regexes on
ready-made text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import wordfreq

from workers.curation.types import Signal, Turn


@dataclass(frozen=True, slots=True)
class PrankConfig:
    """Thresholds of the prank stage; every field has a product-sensible default."""

    quarantine_at: float = 0.5  # max score >= this: a person decides
    reject_at: float = 0.8  # max score >= this: rejected outright
    # A conversation whose user turns hold fewer letters/digits than this is "too short".
    min_chars: int = 5
    # Share-rate burst: flagged when the last hour is >= burst_factor x the usual hourly rate
    # and at least burst_min shares; `usual` below burst_usual_floor counts as the floor.
    burst_factor: float = 5.0
    burst_min: int = 10
    burst_usual_floor: float = 1.0
    # A burst alone never rejects (the content may be fine): its score is capped here.
    burst_max_score: float = 0.75

    def __post_init__(self) -> None:
        if not 0.0 < self.quarantine_at <= self.reject_at <= 1.0:
            raise ValueError("need 0 < quarantine_at <= reject_at <= 1")
        if self.min_chars < 0 or self.burst_min < 0 or self.burst_factor <= 0:
            raise ValueError("min_chars, burst_min must be >= 0 and burst_factor > 0")


@dataclass(frozen=True, slots=True)
class Context:
    """What the pipeline knows about the sharing user (detectors stay pure)."""

    user_shares_last_hour: int = 0
    user_usual_per_hour: float = 0.0


# --- normalization ----------------------------------------------------------------------

# Zero-width, bidi-control, variation-selector, filler and tag characters: invisible, and used
# to split words ("ig\u200bnore") past filters.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
    (0xE0100, 0xE01EF),
)
_STRIP_INVISIBLE: dict[int, None] = {
    cp: None for lo, hi in _INVISIBLE_RANGES for cp in range(lo, hi + 1)
}

# Lower-case look-alikes of Latin letters (after str.lower()): Cyrillic, Greek, IPA and a few
# others. Applied only to the matching form, never to what an annotator sees.
_CONFUSABLES = str.maketrans(
    (
        "\u0430\u0432\u0435\u0451\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445"
        "\u0456\u0457\u0458\u0455\u0501\u051b\u051d\u04bb\u04cf\u0261\u0251\u0131\u03bf"
        "\u03b1\u03b5\u03b9\u03ba\u03bd\u03c1\u03c4\u03c5\u03c7\u03f2\u2113\u2018\u2019"
        "\u02bc`\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014"
    ),
    ('abeekmhopctyxiijsdqwhlgaioaeikvptuxcl\'\'\'\'"""""--'),
)

# Small capitals ("SYSTEM" written with U+1D00...), which NFKC leaves alone.
_SMALL_CAPS = str.maketrans(
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u01eb\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22",
    "abcdefghijklmnopqrstuvwyz",
)
_HAS_SMALL_CAPS = re.compile(
    "[\u1d00-\u1d22\u0262\u026a\u0274\u0280\u028f\u0299\u029c\u029f\ua730\ua731\u01eb]"
)

LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "|": "l",
        "€": "e",
    }
)
# A "word" that mixes letters with digits or leet symbols: "1gn0r3", "pr3v10u5", "h@ck".
_LEET_HINT = re.compile(r"[a-z][0-9@$|€]|[0-9@$|€][a-z]")
# Whole tokens holding a digit or leet symbol; anchored at token starts so it stays linear.
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$|€])(?=[a-z]*+[0-9@$|€])[a-z0-9@$|€]++")
# Three or more single letters split by one separator: "i g n o r e", "i.g.n.o.r.e".
_L = r"[^\W\d_]"  # a letter
_SPACED = re.compile(rf"(?<!{_L}){_L}(?!{_L})(?:[ ._*~-]{_L}(?!{_L})){{2,}}")
_SPACED_SEP = re.compile(r"[ ._*~-]")
_SPACED_HINT = re.compile(rf"[ ._*~-]{_L}[ ._*~-]{_L}[ ._*~-]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


_INVISIBLE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _INVISIBLE_RANGES) + "]")
# Combining marks that NFKC could not compose into a letter (Zalgo text, "i\u0307gnore").
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_HAS_CONFUSABLE = re.compile(
    "[\u0370-\u04ff\u0500-\u052f\u0250-\u02bc\u2018-\u201e\u00ab\u00bb\u2113`]"
)


def clean(text: str) -> str:
    """NFKC + invisible characters removed: what a person would read."""
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _INVISIBLE.search(text):
        text = text.translate(_STRIP_INVISIBLE)
    return text


def fold(text: str) -> str:
    """The matching form of cleaned text: lower case, look-alikes and leetspeak mapped to
    Latin letters, spaced-out letters joined, whitespace runs collapsed to one space."""
    text = text.lower()
    if "\\n" in text:  # literal "\n" escapes used as fake line breaks: keep words apart
        text = text.replace("\\n", "\\n ")
    if not text.isascii():
        text = _MARKS.sub("", text)
        if _HAS_SMALL_CAPS.search(text):
            text = text.translate(_SMALL_CAPS)
        if _HAS_CONFUSABLE.search(text):
            text = text.translate(_CONFUSABLES)
    if _LEET_HINT.search(text):
        text = _LEET_TOKEN.sub(lambda m: unleet(m.group()), text)
    if _SPACED_HINT.search(text) and _SPACED.search(text):
        text = _SPACED.sub(lambda m: _SPACED_SEP.sub("", m.group()), text)
    return " ".join(text.split())


def unleet(word: str) -> str:
    """A lower-case token with leet digits/symbols mapped to letters, unless it reads as a
    version, model name or variable."""
    # Keep version numbers, times and model names like "gpt4", "2nd", "mp3", "x86" readable:
    # only fold when the letters dominate or the digits sit inside the word.
    if word[0] == "$" and word[1:].rstrip("0123456789").isalpha():
        return word  # a variable ("$term1 = ..."), not leetspeak
    if word[0] == "|" or word[-1] == "|":  # a delimiter ("<|im_start|>", "a | b"), kept
        head = len(word) - len(word.lstrip("|"))
        tail = len(word) - len(word.rstrip("|"))
        inner = word[head : len(word) - tail]
        return word[:head] + (unleet(inner) if inner else "") + word[len(word) - tail :]
    letters = sum(c.isalpha() for c in word)
    if letters < 2 or word.rstrip("0123456789").isalpha() or word[:-2].isdigit():
        return word
    return word.translate(LEET)


@dataclass(frozen=True, slots=True)
class PrankInput:
    """One conversation, prepared once for all detectors."""

    turns: tuple[Turn, ...]
    context: Context
    user_texts: tuple[str, ...]  # cleaned text of each user turn (may be "")
    user_text: str  # user turns joined by a blank line
    folded: str  # fold(user_text)
    words: tuple[str, ...]  # word tokens of `folded`
    wordset: frozenset[str]
    assistant_chars: int  # letters/digits in assistant turns (first 100 chars of each)

    @classmethod
    def build(cls, turns: Sequence[Turn], context: Context) -> PrankInput:
        turns = tuple(turns)
        user_texts = tuple(clean(t.text).strip() for t in turns if t.role == "user")
        user_text = "\n\n".join(t for t in user_texts if t)
        folded = fold(user_text)
        assistant = sum(alnum_count(t.text[:100]) for t in turns if t.role == "assistant")
        words = tuple(_WORD.findall(folded))
        return cls(
            turns, context, user_texts, user_text, folded, words, frozenset(words), assistant
        )


@cache
def known_words(lang: str, n: int = 50_000) -> frozenset[str]:
    """The `n` most frequent words of `lang` (wordfreq; empty for a language it lacks)."""
    try:
        return frozenset(wordfreq.top_n_list(lang, n))
    except (LookupError, ValueError):
        return frozenset()


_NOT_ALNUM = re.compile(r"[\W_]+")


def alnum_count(text: str) -> int:
    """Letters and digits in text (any script)."""
    return len(_NOT_ALNUM.sub("", text))


Detector = Callable[[PrankInput, PrankConfig], Signal | None]
