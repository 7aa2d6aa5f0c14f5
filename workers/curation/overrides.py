"""Precise, multilingual rules for instructions that switch off rules or extract hidden ones.

`find_override(text)` answers one narrow question: does the text *use* an instruction such as
"ignore all previous instructions", "reveal your system prompt" or "from now on you have no
restrictions", in any of the languages in data/overrides.yaml? Mentions are not uses: a short
quoted phrase ("translate 'ignore previous instructions' into French", a string in a test or a
config) and a phrase named by a question ("how do I detect prompts like ...") give no match.

The phrases are data (overrides.yaml), compiled once. Matching runs on a folded copy of the
text (NFKC, lower case, Latin accents dropped, one space between words), made with translate
tables; the map back to the original, so that offsets point into the text given, is built only
once something matches. Cheap checks skip what cannot match (a language whose letters are not
in the text, a rule none of whose first words are), so a message pays for the few rules whose
words it holds. Every pattern has bounded repetitions only: the cost grows linearly.
"""

# Tables of look-alike letters and other scripts are the point of this module.
# ruff: noqa: RUF001, RUF002
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
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


def _fold_char(ch: str) -> str:
    """The folded form of one character (see `fold`)."""
    if ch.isascii():
        return " " if ch.isspace() else ch.lower()
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


class _Table:
    """A `str.translate` table from a function of one character, filled on first sight of
    each character (NFKC and NFD then run once per distinct character, not per character of
    every text). A plain dict: translate is several times slower through a __missing__."""

    def __init__(self, function: Callable[[str], str], limit: int = 50_000) -> None:
        self._function = function
        self._limit = limit  # a text of every code point must not grow it forever
        self.ascii = {c: function(chr(c)) for c in range(128)}  # translate's 1:1 fast path
        self._table = dict(self.ascii)
        self._known = {chr(c) for c in range(128)}
        self.marked: set[str] = set()  # characters whose output holds a combining mark

    def for_text(self, text: str) -> dict[int, str]:
        return self.ascii if text.isascii() else self.prepare(set(text))

    def prepare(self, chars: set[str]) -> dict[int, str]:
        """The table, with entries for every character in chars."""
        new = chars.difference(self._known)
        if new:
            if len(self._table) + len(new) > self._limit:
                self._table, self._known = dict(self.ascii), {chr(c) for c in range(128)}
                self.marked.clear()
            for ch in new:
                out = self._table[ord(ch)] = self._function(ch)
                if any(unicodedata.combining(c) for c in out):
                    self.marked.add(ch)
            self._known.update(new)
        return self._table

    def __getitem__(self, ch: str) -> str:
        return self.for_text(ch)[ord(ch)]


_FOLD = _Table(_fold_char)
_SPACE_RUNS = re.compile(r"  +")


@cache
def _marks_after_latin() -> re.Pattern[str]:
    """A Latin letter and the combining marks after it (an accent written separately)."""
    ranges: list[tuple[int, int]] = []
    for c in range(0x0300, 0x110000):
        if unicodedata.combining(chr(c)):
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1] = (ranges[-1][0], c)
            else:
                ranges.append((c, c))
    marks = "".join(
        re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges
    )
    return re.compile(f"([A-Za-z])[{marks}]+")


def fold(text: str) -> str:
    """The matching form of text: NFKC, lower case, Latin accents dropped, zero-width and tag
    characters removed, whitespace runs as one space. Per character through translate tables,
    so ASCII text never meets unicodedata."""
    if text.isascii():
        folded = text.translate(_FOLD.ascii)
    else:
        chars = set(text)
        folded = text.translate(_FOLD.prepare(chars))
        if not _FOLD.marked.isdisjoint(chars):
            folded = _marks_after_latin().sub(r"\1", folded)
    if "  " in folded:
        folded = _SPACE_RUNS.sub(" ", folded)
    return folded[1:] if folded.startswith(" ") else folded


def _is_latin(c: str) -> bool:
    return c.isascii() and c.isalpha()


def fold_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """`fold(text)` and, per folded character, the start and end offsets of the original
    characters it came from. A loop per character: run only once a match is found."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        dropped = True
        for c in _FOLD[ch]:
            if c == " " and (not chars or chars[-1] == " "):
                dropped = False  # a run of spaces: the first one stands for it
                continue
            if chars and _is_latin(chars[-1]) and unicodedata.combining(c):
                continue
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
            dropped = False
        if dropped and ends:  # a removed character belongs to the one before it
            ends[-1] = i + 1
    return "".join(chars), starts, ends


# --- rules --------------------------------------------------------------------------------

_BUILTINS = {
    "w": r"(?:[^\s.,!?;:()\[\]{}<>\"\u201c\u201d\u00ab\u00bb\u300c\u300d"
    r"\u3002\uff01\uff1f\uff0c\u3001]++)",
    "c": r"[^.!?\n\u3002\uff01\uff1f]",
}
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")


def _alternation(words: list[str]) -> str:
    folded = sorted({fold(str(w)).strip() for w in words}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w) for w in folded if w) + ")"


def _fold_pattern(pattern: str) -> str:
    """Fold the literal letters of a pattern, leaving escapes (\\b, \\s) alone."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped or ch == "\\" else (_fold_char(ch) or ch))
        escaped = ch == "\\" and not escaped
    return "".join(out)


# --- cheap pre-checks ---------------------------------------------------------------------
# A pattern can only match where one of its anchors (the phrases it starts with) starts, and in
# languages written with spaces that anchor begins a word of the text. So the text is reduced
# once to its words (and adjacent pairs of words, and their first letters), and a language or
# rule none of whose anchors' keys are there is skipped without running its expression.

_KEY_LEN = 4
_NON_WORD = {c: chr(c) if chr(c).isalnum() or c == 95 else " " for c in range(128)}
_NON_WORD_RUNS = re.compile(r"[^\w ]+")


def _words(text: str) -> list[str]:
    """The runs of characters `\\w` matches."""
    if text.isascii():
        return text.translate(_NON_WORD).split()
    return _NON_WORD_RUNS.sub(" ", text).split()


class _TextWords:
    """The words of one folded text, as the keys of `_Keys` look them up."""

    def __init__(self, folded: str) -> None:
        words = _words(folded)
        self.words = set(words)
        self.pairs = set(pairwise(words))
        self._prefixes: set[str] | None = None

    @property
    def prefixes(self) -> set[str]:
        if self._prefixes is None:
            self._prefixes = {w[:_KEY_LEN] for w in self.words}
        return self._prefixes


@dataclass(frozen=True, slots=True)
class _Keys:
    """One of these must be in the text for a phrase of the list to start a word there."""

    words: frozenset[str]  # a whole word ("ignore" followed by a space)
    pairs: frozenset[tuple[str, str]]  # two whole words ("do not follow")
    prefixes: frozenset[str]  # a word's first letters (a stem, "instrukcj")

    def any_in(self, text: _TextWords) -> bool:
        return (
            not self.words.isdisjoint(text.words)
            or not self.pairs.isdisjoint(text.pairs)
            or (bool(self.prefixes) and not self.prefixes.isdisjoint(text.prefixes))
        )


def _keys(phrases: list[str], ends_word: bool) -> _Keys | None:
    """The keys of phrases that the pattern follows by a non-word character (ends_word) or
    not, or None when one of them has no key (a short stem that may start any word)."""
    words: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    prefixes: set[str] = set()
    for phrase in phrases:
        toks = _words(phrase)
        if not toks:
            return None
        last_whole = ends_word or not (phrase[-1].isalnum() or phrase[-1] == "_")
        if len(toks) >= 3 or (len(toks) == 2 and last_whole):
            pairs.add((toks[0], toks[1]))
        elif len(toks) == 2 or last_whole:
            words.add(toks[0])
        elif len(toks[0]) >= _KEY_LEN:
            prefixes.add(toks[0][:_KEY_LEN])
        else:
            return None
    return _Keys(frozenset(words), frozenset(pairs), frozenset(prefixes))


_NO_QUANTIFIER = r"(?![?*+]|\{\d)"
_ANCHOR_LISTS = re.compile(r"\(\?:\{([a-z]+)\}((?:\|\{[a-z]+\})*)\)" + _NO_QUANTIFIER)
_ANCHOR_LIST = re.compile(r"\{([a-z]+)\}" + _NO_QUANTIFIER)
_LITERAL = r"[^\\()\[\]{}?*+.|]+"
_ANCHOR_WORDS = re.compile(rf"\(\?:({_LITERAL}(?:\|{_LITERAL})*)\)" + _NO_QUANTIFIER)
_ANCHOR_WORD = re.compile(_LITERAL + _NO_QUANTIFIER)
_ENDS_WORD = re.compile(r"(?:[,;:.!]\?)?(?:[ ,;:'.!]|\\b|\\s)")


def _anchors(pattern: str, words: dict[str, list[str]]) -> tuple[list[str], bool] | None:
    """The literal phrases a pattern (as written in the YAML) starts with, and whether the
    pattern follows them by a non-word character; None when it does not start with literal
    phrases ("(?:a )?b", "{w}")."""
    if m := _ANCHOR_LISTS.match(pattern):
        names = [m.group(1), *re.findall(r"[a-z]+", m.group(2))]
    elif m := _ANCHOR_LIST.match(pattern):
        names = [m.group(1)]
    elif m := _ANCHOR_WORDS.match(pattern):
        phrases = [w for w in m.group(1).split("|") if w.strip()]
        return (phrases, _ENDS_WORD.match(pattern, m.end()) is not None) if phrases else None
    elif m := _ANCHOR_WORD.match(pattern):
        phrase = m.group()
        ends = phrase != phrase.rstrip() or _ENDS_WORD.match(pattern, m.end()) is not None
        return ([phrase], ends) if phrase.strip() else None
    else:
        return None
    if any(name not in words for name in names):
        return None  # a built-in ({w}, {c})
    ends = _ENDS_WORD.match(pattern, m.end()) is not None
    return [str(w) for name in names for w in words[name]], ends


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: Kind
    pattern: re.Pattern[str]
    scan: re.Pattern[str] | None  # where a match may start; None: anywhere
    keys: _Keys | None  # None: no such check


@dataclass(frozen=True, slots=True)
class _Language:
    code: str
    order: int  # position in the YAML: breaks ties between languages sharing a script
    extend: bool  # matches may end inside a word (stems): report up to the word's end
    script: re.Pattern[str] | None  # a letter the gate words start with; None: Latin
    gate_keys: _Keys | None
    gate: re.Pattern[str]
    rules: tuple[_Rule, ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    languages: tuple[_Language, ...]
    mention: re.Pattern[str]
    question: re.Pattern[str]
    homoglyphs: dict[int, str]


def _compile_language(code: str, order: int, spec: dict[str, Any]) -> _Language:
    lists = {name: [str(w) for w in ws] for name, ws in spec["words"].items()}
    table = {**_BUILTINS, **{name: _alternation(ws) for name, ws in lists.items()}}

    def expand(pattern: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in table:
                raise ValueError(f"overrides.yaml {code}: unknown list {{{m.group(1)}}}")
            return table[m.group(1)]

        return _PLACEHOLDER.sub(sub, _fold_pattern(pattern))

    boundary = spec.get("boundary", "both")
    spaced = boundary in ("both", "start")
    head = r"(?<![\w])" if spaced else ""
    tail = r"(?![\w])" if boundary == "both" else ""
    rules: list[_Rule] = []
    for kind in KINDS:
        patterns = [str(p) for p in spec.get(kind) or []]
        if not patterns:
            continue
        body = "|".join(f"(?:{expand(p)})" for p in patterns)
        anchors = [_anchors(p, lists) for p in patterns]
        scan = keys = None
        if spaced and all(a is not None for a in anchors):  # else sre skips ahead itself
            phrases = sorted({fold(w).strip() for a in anchors if a for w in a[0]} - {""})
            scan = re.compile(_alternation(phrases))
            parts = [_keys([fold(w).strip() for w in a[0]], a[1]) for a in anchors if a]
            if all(k is not None for k in parts):
                keys = _Keys(
                    frozenset().union(*(k.words for k in parts if k)),
                    frozenset().union(*(k.pairs for k in parts if k)),
                    frozenset().union(*(k.prefixes for k in parts if k)),
                )
        rules.append(_Rule(kind, re.compile(f"{head}(?:{body}){tail}"), scan, keys))
    gate_words = sorted({fold(w).strip() for name in spec["gate"] for w in lists[name]} - {""})
    firsts = {w[0] for w in gate_words}
    script = None
    if not all(c.isascii() for c in firsts):
        script = re.compile("[" + "".join(re.escape(c) for c in sorted(firsts)) + "]")
    gate_keys = _keys(gate_words, ends_word=False) if spaced else None
    return _Language(
        code,
        order,
        boundary == "start",
        script,
        gate_keys,
        re.compile(_alternation(gate_words)),
        tuple(rules),
    )


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
# A whole word (run of letters) holding both a Latin letter and a Greek or Cyrillic one.
_MIXED_WORD = re.compile(r"(?<![^\W\d_])(?=[^\W\d_]*?[a-z])(?=[^\W\d_]*?[\u0370-\u052f])[^\W\d_]++")
_LATIN_THEN_OTHER = re.compile(r"[a-z][\u0370-\u052f]")
_OTHER_THEN_LATIN = re.compile(r"[\u0370-\u052f][a-z]")
_LETTER = re.compile(r"[^\W\d_]")
_QUOTE_MAX_EXTRA = 40  # a quote holding more than the phrase is a pasted document, judged
_MENTION_REACH = 40  # characters before a phrase in which "what does"/"phrases like" counts


def _unmix(folded: str, table: dict[int, str]) -> str:
    """Latin look-alikes inside words that mix scripts ("ignоre" with a Cyrillic o)."""
    if folded.isascii() or not (
        _LATIN_THEN_OTHER.search(folded) or _OTHER_THEN_LATIN.search(folded)
    ):
        return folded  # a word that turns all Latin has a Latin letter next to a look-alike

    return _MIXED_WORD.sub(lambda m: m.group().translate(table), folded)  # one-to-one


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


def _matches(rule: _Rule, folded: str, prechecks: bool) -> Iterator[re.Match[str]]:
    """rule.pattern.finditer(folded), trying only where an anchor starts."""
    if rule.scan is None or not prechecks:
        yield from rule.pattern.finditer(folded)
        return
    pos = 0
    while (anchor := rule.scan.search(folded, pos)) is not None:
        m = rule.pattern.match(folded, anchor.start())
        if m is None or m.end() == m.start():
            pos = anchor.start() + 1
            continue
        yield m
        pos = m.end()


def _may_match(lang: _Language, folded: str, words: Callable[[], _TextWords]) -> bool:
    if lang.script is not None and (folded.isascii() or not lang.script.search(folded)):
        return False
    if lang.gate_keys is not None:  # one of the gate's words begins a word of the text
        return lang.gate_keys.any_in(words())
    return lang.gate.search(folded) is not None


def find_overrides(text: str, *, prechecks: bool = True) -> list[Override]:
    """Every instruction-override use in text, in order of position. `prechecks=False` runs
    every expression over the whole text: slower, the same answer (a test checks it)."""
    rules = _rules()
    folded = _unmix(fold(text), rules.homoglyphs)
    cache: list[_TextWords] = []

    def words() -> _TextWords:
        if not cache:
            cache.append(_TextWords(folded))
        return cache[0]

    offsets: tuple[list[int], list[int]] | None = None
    found: list[tuple[int, int, Override]] = []
    for lang in rules.languages:
        if prechecks and not _may_match(lang, folded, words):
            continue
        for rule in lang.rules:
            if prechecks and rule.keys is not None and not rule.keys.any_in(words()):
                continue
            for m in _matches(rule, folded, prechecks):
                start, end = m.span()
                if _is_mention(folded, start, end, rules):
                    continue
                if lang.extend:
                    end = _WORD_REST.match(folded, end).end()  # type: ignore[union-attr]
                if offsets is None:  # the map back to text, built once a match is found
                    mapped, starts, ends = fold_offsets(text)
                    if _unmix(mapped, rules.homoglyphs) != folded:
                        raise AssertionError("overrides: fold and fold_offsets disagree")
                    offsets = starts, ends
                hit = Override(rule.kind, lang.code, offsets[0][start], offsets[1][end - 1])
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
