"""How much a text looks like gibberish: novelty against natural text, never fit on gibberish.

Each measure (`MEASURES`) is oriented so that more means less natural:
- letters: surprise per character (-mean log10 p) under a character trigram model of natural
  text of many languages (random letters, keyboard mash, pseudo-words, random characters);
- unigrams: the same for single letters (uniformly random Han or Hangul syllables);
- unknown words: share of lower-case and Capitalised words known to no wordfreq language;
- unseen pairs: share of adjacent pairs of known lower-case words never seen in the
  natural-text corpora (word salad), looked up in a hashed bit set;
- few function words: 1 - the share of words that are function words of some language;
- symbols: share of visible characters in runs of mixed symbols; scripts: letters of 3+ scripts.
`workers.curation.training.gibberish` stores, per measure, group (script) and length bucket,
quantiles of the measure over natural text only. A measure scores 0 up to its q90, 0.5 at the
gate quantile (chosen so that at most ~0.5% of natural text reaches 0.5 on any measure) and 1
well beyond q99.9; the text's score is the highest measure's. A measure abstains (NaN) on
text too short for it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MODEL_DIR = Path(__file__).resolve().parent / "models"
WORD = re.compile(r"[^\W\d_]+")  # a run of letters (any script)
NO_SPACE_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"})
MEASURES = (
    "letters",
    "unigrams",
    "unknown_words",
    "unseen_pairs",
    "few_function_words",
    "symbols",
    "scripts",
)
# What each measure's length bucket counts: letters, judged words, word pairs, words, visible
# characters.
SIZE_OF = ("letters", "letters", "judged", "pairs", "words", "visible", "letters")
REASONS = {
    "letters": "letters unlike any language in its script ({script})",
    "unigrams": "characters rare in natural {script} text",
    "unknown_words": "mostly words that exist in no dictionary",
    "unseen_pairs": "real words in no grammatical order",
    "few_function_words": "words without the function words of a sentence",
    "symbols": "mostly symbols",
    "scripts": "letters of several scripts mixed",
}
PAIR_BITS = 24  # the seen-word-pair bit set has 2**24 bits (2 MB)
MIN_LETTERS = 6  # the character measures abstain below this many letters
MIN_VISIBLE = 8
KNOWN, FUNCTION, FREQUENT = 1, 2, 4  # bits of the word table's flags
LANG_SHIFT = 8  # above them, one bit per language that knows the word
_LANG_BITS = np.arange(64 - 8, dtype=np.uint64)
WORD_MEASURES = (2, 3, 4)  # grouped by the text's language, the others by its script
_SCRIPT_FAMILY = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "FULLWIDTH": "CJK"}
MIN_WORDS = 3  # judged words (unknown words), pairs, words (function words)
_MAX_CHARS = 1500  # the measures read this much of a text (a prefix decides)
_MAX_TOKENS = 120
_LM_CHARS = 600  # letters the character model reads
_NON_LETTERS = re.compile(r"[\W\d_]+")
_ASCII_LETTERS = str.maketrans({chr(i): chr(i) if chr(i).isalpha() else " " for i in range(128)})
_BACKOFF = float(np.log10(0.4))
_FLOOR = -7.0
_SYMBOL_TOKEN = re.compile(r"[^\w\s]{3,}")
_EDGE_PUNCT = (  # quotes, brackets, sentence marks, dashes around a word
    "\"'()[]{}<>.,;:!?*-\u00ab\u00bb\u201c\u201d\u2018\u2019\u201e\u00bf\u00a1\u2026\u2013\u2014"
)
_INNER_SPLIT = re.compile("[-'\u2019]")


def fold_word(word: str) -> str:
    """Lower case without combining marks, so polytonic Greek or unaccented spellings meet
    the word tables."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def word_key(word: str) -> int:
    """The key of a (lower-case) word in the word table."""
    return zlib.crc32(fold_word(word).encode("utf-8"))


def pair_index(a: str, b: str) -> int:
    """The bit of the word pair (a, b) in the seen-pairs bit set."""
    return zlib.crc32(f"{a} {b}".encode()) & ((1 << PAIR_BITS) - 1)


def lm_codes(text: str) -> NDArray[Any]:
    """The code points the character model reads: the letters, lower case, with one space
    for any run of other characters and a space at each end (symbols are judged apart)."""
    return _codes(_NON_LETTERS.sub(" ", text.lower()))


def _codes(spaced: str) -> NDArray[Any]:
    s = " " + spaced.strip() + " "
    return np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _lookup(
    keys: NDArray[Any], values: NDArray[Any], q: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any]]:
    idx = np.searchsorted(keys, q)
    idx[idx >= len(keys)] = 0
    found = keys[idx] == q
    return found, values[idx].astype(np.float32)


def char_logliks(text: str, arrays: dict[str, NDArray[Any]]) -> NDArray[Any]:
    """log10 P of each character given the two before (stupid backoff to bigram, unigram)."""
    return _logliks(arrays, lm_codes(text))


def _logliks(arrays: dict[str, NDArray[Any]], c: NDArray[Any]) -> NDArray[Any]:
    if len(c) < 3:
        return np.zeros(0, dtype=np.float32)
    a, b, z = c[:-2], c[1:-1], c[2:]
    found, lp = _lookup(arrays["k3"], arrays["v3"], (a << 42) | (b << 21) | z)
    miss = ~found
    if miss.any():  # back off only where the trigram is unknown
        b, z = b[miss], z[miss]
        f2, v2 = _lookup(arrays["k2"], arrays["v2"], (b << 21) | z)
        f1, v1 = _lookup(arrays["k1"], arrays["v1"], z)
        lp[miss] = np.where(f2, v2 + _BACKOFF, np.where(f1, v1 + 2 * _BACKOFF, _FLOOR))
    return lp


def _unigrams(arrays: dict[str, NDArray[Any]], c: NDArray[Any]) -> NDArray[Any]:
    """log10 P of each letter on its own (spaces left out)."""
    c = c[c != 32]
    found, lp = _lookup(arrays["k1"], arrays["v1"], c)
    return np.where(found, lp, _FLOOR)


@lru_cache(maxsize=1 << 14)
def char_script(c: str) -> str:
    """The Unicode script word of a letter's name: LATIN, CYRILLIC, CJK, HANGUL, ..."""
    name = unicodedata.name(c, "")
    return name.split(" ", 1)[0] if name else ""


def _scripts(letters: str) -> dict[str, int]:
    if letters.isascii():
        return {"LATIN": len(letters)} if letters else {}
    return dict(Counter(map(char_script, letters)))


def dominant_script(text: str) -> str:
    counts = _scripts(_NON_LETTERS.sub("", text[:1600])[:400])
    return max(counts, key=lambda s: counts[s]) if counts else ""


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Per measure: group -> (buckets x levels) array of natural-text quantiles (NaN = too
    few texts); the bucket edges of each size kind; where the gate sits."""

    levels: tuple[float, ...]
    edges: dict[str, tuple[int, ...]]
    table: dict[str, dict[str, NDArray[Any]]]
    gate: float  # the level that scores 0.5
    min_spread: dict[str, float]

    def row(self, measure: str, groups: tuple[str, ...], size: int) -> NDArray[Any] | None:
        """The quantiles of the first of groups (then the pooled "*") that has some."""
        bucket = bucket_of(size, self.edges[SIZE_OF[MEASURES.index(measure)]])
        for g in (*groups, "*"):
            rows = self.table[measure].get(g)
            if rows is not None and not np.isnan(rows[bucket, 0]):
                row: NDArray[Any] = rows[bucket]
                return row
        return None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Quantiles:
        return cls(
            tuple(raw["levels"]),
            {k: tuple(v) for k, v in raw["edges"].items()},
            {
                measure: {
                    g: np.array([[np.nan if v is None else v for v in r] for r in rows])
                    for g, rows in groups.items()
                }
                for measure, groups in raw["table"].items()
            },
            float(raw["gate"]),
            {k: float(v) for k, v in raw["min_spread"].items()},
        )


def bucket_of(size: int, edges: tuple[int, ...]) -> int:
    """Bucket index: edges are the lower bounds of buckets 1.. (bucket 0 below edges[0])."""
    i = 0
    for edge in edges:
        if size < edge:
            break
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class Model:
    arrays: dict[str, NDArray[Any]]
    languages: tuple[str, ...]
    quantiles: Quantiles | None
    flags: Callable[[str], int]  # a lower-case word's flags and language bits (cached)


@cache
def model(path: Path = MODEL_DIR) -> Model:
    with np.load(path / "gibberish.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta: dict[str, Any] = json.loads((path / "gibberish.json").read_text(encoding="utf-8"))
    return build_model(arrays, meta["languages"], meta.get("quantiles"))


def build_model(
    arrays: dict[str, NDArray[Any]], languages: list[str], quantiles: dict[str, Any] | None
) -> Model:
    keys, flags = arrays["wk"], arrays["wf"]

    @lru_cache(maxsize=1 << 16)
    def word_flags(word: str) -> int:
        key = word_key(word)
        i = int(keys.searchsorted(np.uint32(key)))  # same dtype: no copy of the table
        return int(flags[i]) if i < len(keys) and int(keys[i]) == key else 0

    return Model(
        arrays,
        tuple(languages),
        Quantiles.from_json(quantiles) if quantiles else None,
        word_flags,
    )


# --- the measures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    values: NDArray[Any]  # one per MEASURES, NaN where the measure abstains
    sizes: dict[str, int]  # letters, judged, pairs, words, visible
    script: str  # dominant script of the letters ("" if none)
    language: str  # the wordfreq language knowing most of its words ("" if none does)

    def size(self, i: int) -> int:
        return self.sizes[SIZE_OF[i]]


def _symbol_chars(text: str) -> tuple[int, int]:
    """(visible characters, those in runs of 3+ symbols holding 3+ different ones: "#$%^&"),
    which code and markup ("});", "|---|", "-->") rarely fill a text with."""
    visible = len(text) - sum(text.count(c) for c in " \n\t\r")
    if visible < MIN_VISIBLE:
        return visible, 0
    noisy = 0
    for run in _SYMBOL_TOKEN.findall(text):
        if not run.isascii():  # vowel signs and viramas are marks, not symbols
            run = "".join(c for c in run if not unicodedata.category(c).startswith("M"))
        if len(run) >= 3 and len(set(run)) >= 3:
            noisy += len(run)
    return visible, noisy


def prose_pairs(text: str) -> list[tuple[str, str]]:
    """Adjacent lower-case words with only a space between them: prose, not the cells of a
    table, the identifiers of code or names (capitalised words pair freely)."""
    tokens = text.split()[:_MAX_TOKENS]
    return [
        (a, b)
        for a, b in itertools.pairwise(tokens)
        if a.isalpha() and b.isalpha() and a.islower() and b.islower()
    ]


def judged_words(tokens: list[str]) -> list[str]:
    """Words the unknown-word measure judges, lower-cased: lower-case or Capitalised runs of
    letters of 3+ (hyphen and apostrophe split them), not ALL-CAPS, CamelCase, or tokens with
    digits, URLs, e-mail addresses or code."""
    out: list[str] = []
    for token in tokens:
        word = token.strip(_EDGE_PUNCT)
        if not word or (not word.isalpha() and not _INNER_SPLIT.search(word)):
            continue
        for piece in _INNER_SPLIT.split(word) if not word.isalpha() else (word,):
            if len(piece) < 3 or not piece.isalpha():
                continue
            if piece.islower() or (piece[0].isupper() and piece[1:].islower()):
                out.append(piece.lower())
    return out


def measure(text: str, m: Model | None = None) -> Measured:
    """The MEASURES of one text (NaN where one abstains), its sizes and dominant script."""
    m = m or model()
    text = text[:_MAX_CHARS]
    x = np.full(len(MEASURES), np.nan)
    visible, noisy = _symbol_chars(text)
    if visible >= MIN_VISIBLE:
        x[5] = noisy / visible
    spaced = text.translate(_ASCII_LETTERS) if text.isascii() else _NON_LETTERS.sub(" ", text)
    raw = spaced.split()
    letters = "".join(raw)
    sizes = {"letters": len(letters), "visible": visible, "judged": 0, "pairs": 0, "words": 0}
    if not letters:
        return Measured(x, sizes, "", "")
    scripts = _scripts(letters[:400])
    script = max(scripts, key=lambda s: scripts[s])
    if len(letters) >= MIN_LETTERS:
        codes = _codes(" ".join(raw).lower()[:_LM_CHARS])
        x[0] = -float(_logliks(m.arrays, codes).mean())
        x[1] = -float(_unigrams(m.arrays, codes).mean())
        x[6] = _mixing(scripts)
    language = ""
    if script not in NO_SPACE_SCRIPTS:
        language = _word_measures(m, text, raw, x, sizes)
    return Measured(x, sizes, script, language)


def _mixing(scripts: dict[str, int]) -> float:
    """Share of letters beyond the two main scripts (Japanese kana and Han count as one)."""
    family: Counter[str] = Counter()
    for name, n in scripts.items():
        family[_SCRIPT_FAMILY.get(name, name)] += n
    counts = sorted(family.values(), reverse=True)
    return counts[2] / sum(counts) if len(counts) >= 3 and counts[2] >= 3 else 0.0


def _word_measures(
    m: Model, text: str, raw: list[str], x: NDArray[Any], sizes: dict[str, int]
) -> str:
    """Fill the word measures; return the language knowing most of the judged words."""
    tokens = text.split()[:_MAX_TOKENS]
    judged = judged_words(tokens)
    flags = m.flags
    language = ""
    if judged:
        f = [flags(w) for w in judged]
        x[2] = sum(not v & KNOWN for v in f) / len(judged)
        language = _best_language(f, m.languages)
    # Function words mean something in prose: most tokens words, not code or table cells.
    words = [w.lower() for w in raw[:_MAX_TOKENS]]
    if len(words) >= MIN_WORDS and len(judged) >= 0.6 * len(tokens):
        x[4] = 1.0 - sum(flags(w) & FUNCTION != 0 for w in words) / len(words)
    # Pairs of frequent words: natural text repeats few of them, so a small corpus knows them.
    pairs = [(a, b) for a, b in prose_pairs(text) if flags(a) & flags(b) & FREQUENT]
    if len(pairs) >= MIN_WORDS:
        bitset = m.arrays["pairs"]
        seen = sum((int(bitset[i >> 3]) >> (i & 7)) & 1 for i in map(_pair_bit, pairs))
        x[3] = 1.0 - seen / len(pairs)
    sizes.update(judged=len(judged), pairs=len(pairs), words=len(words))
    return language


def _best_language(flags: list[int], languages: tuple[str, ...]) -> str:
    """The language whose bit most of the words carry, if it carries at least half."""
    masks = np.array(flags, dtype=np.uint64) >> np.uint64(LANG_SHIFT)
    counts = ((masks[:, None] >> _LANG_BITS[: len(languages)]) & np.uint64(1)).sum(axis=0)
    i = int(counts.argmax())
    return languages[i] if counts[i] and counts[i] >= 0.5 * len(flags) else ""


@lru_cache(maxsize=1 << 16)
def _pair_bit(pair: tuple[str, str]) -> int:
    return pair_index(*pair)


# --- from measures to a score ---------------------------------------------------------------


def measure_score(value: float, row: NDArray[Any], q: Quantiles, name: str) -> float:
    """0 up to q90, 0.25 at q99, 0.45 at the gate (never less than q99 plus the measure's
    natural unit, its min spread), 0.5 just beyond, 1 at the gate plus twice the q99-q99.9
    spread."""
    lv = q.levels
    q90, q99, q999 = (
        float(row[lv.index(0.9)]),
        float(row[lv.index(0.99)]),
        float(row[lv.index(0.999)]),
    )
    unit = q.min_spread[name]
    gate = max(float(np.interp(q.gate, lv, row)), q99 + unit)
    spread = max(q999 - q99, unit)
    if value <= q90:
        return 0.0
    if value <= q99:
        return 0.25 * (value - q90) / max(q99 - q90, 1e-9)
    if value <= gate:  # natural text reaches the gate: only beyond it is 0.5
        return 0.25 + 0.2 * (value - q99) / max(gate - q99, 1e-9)
    return 0.5 + 0.5 * min((value - gate) / (2.0 * spread), 1.0)


def scores(measured: Measured, m: Model) -> NDArray[Any]:
    """Score in [0, 1] of each measure (0 where it abstains or has no reference)."""
    out = np.zeros(len(MEASURES))
    q = m.quantiles
    if q is None:
        return out
    for i, name in enumerate(MEASURES):
        value = float(measured.values[i])
        if math.isnan(value):
            continue
        groups: tuple[str, ...] = (measured.script or "*",)
        if i in WORD_MEASURES and measured.language:
            groups = (measured.language, *groups)
        row = q.row(name, groups, measured.size(i))
        if row is not None:
            out[i] = measure_score(value, row, q, name)
    return out


def gibberish_score(text: str) -> tuple[float, str]:
    """(score in [0, 1]: how far beyond natural text its least natural measure lies, a reason
    that never quotes the text)."""
    m = model()
    measured = measure(text, m)
    s = scores(measured, m)
    top = int(s.argmax())
    if s[top] < 0.5:
        return round(float(s[top]), 3), "reads like natural text"
    return round(float(s[top]), 3), REASONS[MEASURES[top]].format(
        script=measured.script.lower() or "any"
    )
