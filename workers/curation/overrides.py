"""Precise, multilingual rules for instructions that switch off rules or extract hidden ones.

`find_override(text)` answers one narrow question: does the text *use* an instruction such as
"ignore all previous instructions", "reveal your system prompt" or "from now on you have no
restrictions", in any of the languages in data/overrides.yaml? Mentions are not uses: a short
quoted phrase ("translate 'ignore previous instructions' into French", a string in a test or a
config) and a phrase named by a question ("how do I detect prompts like ...") give no match.

The phrases are data (overrides.yaml), compiled once. Matching runs on a folded copy of the
text (NFKC, lower case, Latin accents dropped, one space between words) that keeps a map back
to the original, so the offsets returned point into the text given. Every pattern has bounded
repetitions only, so the cost grows linearly with the text.
"""

# Tables of look-alike letters and other scripts are the point of this module.
# ruff: noqa: RUF001, RUF002
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

Kind = Literal["override", "extract", "unrestricted"]
KINDS: tuple[Kind, ...] = ("override", "extract", "unrestricted")

_DATA = Path(__file__).resolve().parent / "data" / "overrides.yaml"


@dataclass(frozen=True, slots=True)
class Override:
    """One instruction found: what it tries, in which language, where (text[start:end])."""

    kind: Kind
    lang: str
    start: int
    end: int


# --- folding ------------------------------------------------------------------------------

# Letters that NFD does not split into base + accent, and script variants unified so one
# spelling in the YAML matches the others.
_EXTRA = {
    "ß": "ss",
    "ł": "l",
    "ı": "i",
    "ø": "o",
    "đ": "d",
    "æ": "ae",
    "œ": "oe",
    "ё": "е",
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ی": "ي",
    "ک": "ك",
    "ۀ": "ه",
    "ـ": "",
}
# Diacritics that are optional in writing: Arabic harakat, Indic nukta.
_OPTIONAL_MARKS = frozenset(
    [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u093c", "\u09bc", "\u0a3c"]
)
_QUOTES = (
    "\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a\u300c\u300d\u300e\u300f"
)


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _OPTIONAL_MARKS:
        return ""
    cat = unicodedata.category(ch)
    if cat == "Cf" or 0xE0000 <= ord(ch) <= 0xE007F:  # zero-width, bidi, tag characters
        return ""
    if ch.isspace():
        return " "
    out = []
    for c in unicodedata.normalize("NFKC", ch).lower():
        c = _EXTRA.get(c, c)
        base = unicodedata.normalize("NFD", c)
        if base[:1].isascii() and base[:1].isalpha():  # Latin letter: accents optional
            c = "".join(b for b in base if not unicodedata.combining(b))
        out.append(c)
    return "".join(out)


def fold(text: str) -> tuple[str, list[int], list[int]]:
    """The matching form of text and, per folded character, the start and end offsets of the
    original characters it came from."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    prev_latin = False
    for i, ch in enumerate(text):
        if ch.isascii():
            f = " " if ch.isspace() else ch.lower()
        elif unicodedata.combining(ch) and prev_latin:
            f = ""  # a separate accent on a Latin letter
        else:
            f = _fold_char(ch)
        if not f:
            if ends:
                ends[-1] = i + 1
            continue
        if f == " " and (not chars or chars[-1] == " "):
            continue
        for c in f:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
        prev_latin = f[-1].isascii() and f[-1].isalpha()
    return "".join(chars), starts, ends


# --- rules --------------------------------------------------------------------------------

_BUILTINS = {
    "w": r"(?:[^\s.,!?;:()\[\]{}<>\"\u201c\u201d\u00ab\u00bb\u300c\u300d"
    r"\u3002\uff01\uff1f\uff0c\u3001]++)",
    "c": r"[^.!?\n\u3002\uff01\uff1f]",
}
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")


def _alternation(words: list[str]) -> str:
    folded = sorted({fold(str(w))[0].strip() for w in words}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w) for w in folded if w) + ")"


def _fold_pattern(pattern: str) -> str:
    """Fold the literal letters of a pattern, leaving escapes (\\b, \\s) alone."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped or ch == "\\" else (_fold_char(ch) or ch))
        escaped = ch == "\\" and not escaped
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Language:
    code: str
    order: int  # position in the YAML: breaks ties between languages sharing a script
    extend: bool  # matches may end inside a word (stems): report up to the word's end
    gate: re.Pattern[str]
    rules: tuple[tuple[Kind, re.Pattern[str]], ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    languages: tuple[_Language, ...]
    mention: re.Pattern[str]
    question: re.Pattern[str]
    homoglyphs: dict[int, str]


def _compile_language(code: str, order: int, spec: dict[str, Any]) -> _Language:
    words = {name: _alternation(list(ws)) for name, ws in spec["words"].items()}
    table = {**_BUILTINS, **words}

    def expand(pattern: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in table:
                raise ValueError(f"overrides.yaml {code}: unknown list {{{m.group(1)}}}")
            return table[m.group(1)]

        return _PLACEHOLDER.sub(sub, _fold_pattern(pattern))

    boundary = spec.get("boundary", "both")
    head = r"(?<![\w])" if boundary in ("both", "start") else ""
    tail = r"(?![\w])" if boundary == "both" else ""
    rules: list[tuple[Kind, re.Pattern[str]]] = []
    for kind in KINDS:
        patterns = spec.get(kind) or []
        if patterns:
            body = "|".join(f"(?:{expand(p)})" for p in patterns)
            rules.append((kind, re.compile(f"{head}(?:{body}){tail}")))
    gate_words = [w for name in spec["gate"] for w in spec["words"][name]]
    gate = re.compile(_alternation(gate_words))
    return _Language(code, order, boundary == "start", gate, tuple(rules))


@cache
def _rules() -> _Rules:
    spec = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    languages = tuple(
        _compile_language(code, i, lang) for i, (code, lang) in enumerate(spec["languages"].items())
    )
    # Latin edges only: CJK mention words sit inside runs of letters ("是什么意思").
    mention = re.compile(r"(?<![a-z0-9])" + _alternation(spec["mention"]) + r"(?![a-z0-9])")
    question = re.compile(r"(?<![a-z0-9])" + _alternation(spec["question"]) + r"(?![a-z0-9])")
    homoglyphs = {ord(k): v for k, v in spec["homoglyphs"].items()}
    return _Rules(languages, mention, question, homoglyphs)


# --- mention or use -----------------------------------------------------------------------

_WORD_REST = re.compile(r"[^\s.,!?;:()\[\]{}<>\"]*")
_CLAUSE_END = re.compile(r"[.!?;:\n\u3002\uff01\uff1f\uff1b\uff1a]")
_MIXED_WORD = re.compile(r"[^\W\d_]*[a-z][^\W\d_]*")
_NON_LATIN_LETTER = re.compile(r"[\u0370-\u052f]")
_LETTER = re.compile(r"[^\W\d_]")
_QUOTE_MAX_EXTRA = 40  # a quote holding more than the phrase is a pasted document, judged
_MENTION_REACH = 40  # characters before a phrase in which "what does"/"phrases like" counts


def _unmix(folded: str, table: dict[int, str]) -> str:
    """Latin look-alikes inside words that mix scripts ("ignоre" with a Cyrillic o)."""
    if folded.isascii() or not _NON_LATIN_LETTER.search(folded):
        return folded

    def sub(m: re.Match[str]) -> str:
        word = m.group()
        return word.translate(table) if _NON_LATIN_LETTER.search(word) else word

    return _MIXED_WORD.sub(sub, folded)  # one-to-one: offsets stay valid


def _quote_around(folded: str, start: int, end: int) -> tuple[int, int] | None:
    """The innermost quote that encloses folded[start:end] on its line, if any."""
    line_start = folded.rfind("\n", 0, start) + 1
    line_end = folded.find("\n", end)
    line_end = len(folded) if line_end < 0 else line_end
    opener = -1
    for i in range(start - 1, max(line_start, start - _QUOTE_MAX_EXTRA - 1) - 1, -1):
        if folded[i] in _QUOTES:
            if folded[i] in "'\u2019" and i > 0 and folded[i - 1].isalnum():
                continue  # an apostrophe ("don't"), not a quote
            opener = i
            break
    if opener < 0:
        return None
    for j in range(end, min(line_end, end + _QUOTE_MAX_EXTRA + 1)):
        if folded[j] in _QUOTES:
            if folded[j] in "'\u2019" and j + 1 < len(folded) and folded[j + 1].isalpha():
                continue
            return opener, j + 1
    return None


def _is_mention(folded: str, start: int, end: int, rules: _Rules) -> bool:
    quote = _quote_around(folded, start, end)
    if quote is not None:
        q0, q1 = quote
        outside = folded[:q0] + folded[q1:]
        if len(_LETTER.findall(outside)) >= 12:  # a phrase quoted inside a sentence
            return True
        around = folded[max(0, q0 - _MENTION_REACH) : q0] + " " + folded[q1 : q1 + _MENTION_REACH]
        if rules.mention.search(around):  # a short question about the quoted phrase
            return True
    clause_start = 0
    for m in _CLAUSE_END.finditer(folded, max(0, start - 200), start):
        clause_start = m.end()
    before = folded[clause_start:start]
    if rules.question.search(before):
        return True
    near = folded[max(clause_start, start - _MENTION_REACH) : start]
    return rules.mention.search(near) is not None


# --- entry point --------------------------------------------------------------------------


def find_overrides(text: str) -> list[Override]:
    """Every instruction-override use in text, in order of position."""
    rules = _rules()
    folded, starts, ends = fold(text)
    folded = _unmix(folded, rules.homoglyphs)
    found: list[tuple[int, int, Override]] = []
    for lang in rules.languages:
        if not lang.gate.search(folded):
            continue
        for kind, pattern in lang.rules:
            for m in pattern.finditer(folded):
                start, end = m.span()
                if end == start or _is_mention(folded, start, end, rules):
                    continue
                if lang.extend:
                    end = _WORD_REST.match(folded, end).end()  # type: ignore[union-attr]
                hit = Override(kind, lang.code, starts[start], ends[end - 1])
                found.append((hit.start, lang.order, hit))
    found.sort(key=lambda f: (f[0], f[1], f[2].end))
    kept: list[Override] = []
    for _, _, hit in found:  # one report per place: the first language listed wins a tie
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def find_override(text: str) -> Override | None:
    """The first instruction that tries to switch off rules or extract hidden instructions, or
    None. Offsets are into `text`."""
    found = find_overrides(text)
    return found[0] if found else None
