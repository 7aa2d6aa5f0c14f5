"""Readings of a text with its obfuscation undone, so detectors judge what a model would read.

`views(text)` returns the cleaned text first, then one `View` per decoding that changes the
text into something plausible: Unicode tag characters decoded ("ASCII smuggling"), homoglyphs
folded to Latin (Unicode's confusables.txt, via `confusable-homoglyphs`), leetspeak folded,
s p a c e d letters joined, %-escapes, base64 / base32 / hex runs decoded in place, rot13 and
reversed text when they read markedly more like words. Each decoder has a cheap pre-check, runs
in one pass, and nesting stops after a few rounds, so hostile input stays linear.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import unquote

from workers.curation.prank_base import LEET, clean, known_words, unleet

__all__ = ["View", "views", "word_share"]


@dataclass(frozen=True, slots=True)
class View:
    """One reading of a text: `kind` says which decoding produced it."""

    kind: str
    text: str


_MAX_ROUNDS = 3  # nested decodings (base64 of base64 of rot13) followed at most this deep
_GROWTH = 4  # a view is never longer than this many times the input

# --- word-likeness ------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]{2,}")
_SAMPLE_TOKENS = 60


def word_share(text: str, lang: str = "en") -> float:
    """Share of (the first few dozen) letter tokens that are known words of `lang`."""
    words = known_words(lang)
    n = hits = 0
    for m in _TOKEN.finditer(text):
        n += 1
        hits += m.group().lower() in words
        if n >= _SAMPLE_TOKENS:
            break
    return hits / n if n else 0.0


def _more_wordlike(candidate: str, base_share: float) -> bool:
    share = word_share(candidate)
    return share >= 0.5 and share >= base_share + 0.3


# --- Unicode tag characters ---------------------------------------------------------------

_TAGS = re.compile("[\U000e0000-\U000e007f]+")


def _decode_tags(raw: str) -> str | None:
    if raw.isascii() or not _TAGS.search(raw):
        return None

    def ascii_of(m: re.Match[str]) -> str:
        return "".join(chr(ord(c) - 0xE0000) for c in m.group() if 0xE0020 <= ord(c) <= 0xE007E)

    decoded = _TAGS.sub(ascii_of, raw)
    return clean(decoded) if decoded.strip() else None


# --- homoglyphs -----------------------------------------------------------------------------


@cache
def _confusables() -> dict[int, str]:
    """Non-ASCII character -> the ASCII letter or digit it is confusable with (Unicode's
    confusables.txt as packaged by `confusable-homoglyphs`)."""
    path = resources.files("confusable_homoglyphs") / "confusables.json"
    table: dict[int, str] = {}
    for char, entries in json.loads(path.read_text(encoding="utf-8")).items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii()]
        targets = [t for t in targets if t.isalnum()]
        if not targets:
            continue
        letters = [t for t in targets if t.isalpha()]
        target = (letters or targets)[0]
        if target == "l" and "CAPITAL" in unicodedata.name(char, ""):
            target = "I"  # capital I and small l share a skeleton; keep the capital
        table[ord(char)] = target
    return table


_WORDISH = re.compile(r"[^\W_]+")


def _fold_homoglyphs(text: str) -> str | None:
    if text.isascii():
        return None
    table = _confusables()
    latin = sum(c.isascii() and c.isalpha() for c in text)
    letters = sum(c.isalpha() for c in text)
    mostly_latin = latin * 2 >= letters
    changed = False

    def fold_token(m: re.Match[str]) -> str:
        nonlocal changed
        token = m.group()
        if token.isascii():
            return token
        mixed = any(c.isascii() and c.isalpha() for c in token)
        if not (mixed or mostly_latin):
            return token  # a word of another script in a text of that script
        folded = token.translate(table)
        if folded != token and (mixed or folded.isascii()):
            changed = True
            return folded
        return token

    out = _WORDISH.sub(fold_token, text)
    return out if changed else None


# --- leetspeak and spaced letters ------------------------------------------------------------

_LEET_TOKEN = re.compile(r"(?<![\w@$|€])(?=[a-zA-Z]*+[0-9@$|€])[a-zA-Z0-9@$|€]++")
_LEET_CHAR = re.compile(r"[0-9@$|€]")
_LEET_HINT = re.compile(r"[a-zA-Z][0-9@$|€]|[0-9@$|€][a-zA-Z]")


def _fold_leet(text: str) -> str | None:
    if not _LEET_CHAR.search(text) or not _LEET_HINT.search(text):
        return None
    words = known_words("en")
    gained = 0

    def fold_token(m: re.Match[str]) -> str:
        nonlocal gained
        token = m.group()
        lower = token.lower()
        if len(token) < 3 or sum(c.isalpha() for c in token) < 2:
            return token  # "3", "4a", "x2": numbers and short codes, not leetspeak
        folded = unleet(lower)
        if not (folded.isalpha() and folded in words):
            folded = lower.translate(LEET)  # "4ll": kept by unleet as a version-like token
        if folded != lower and folded.isalpha() and folded in words:
            gained += 1
            return folded
        return token

    out = _LEET_TOKEN.sub(fold_token, text)
    return out if gained else None


_L = r"[^\W\d_]"
_SPACED = re.compile(rf"(?<!{_L}){_L}(?!{_L})(?:[ ._*~-]{_L}(?!{_L})){{2,}}")
_SPACED_SEP = re.compile(r"[ ._*~-]")
_SPACED_HINT = re.compile(rf"[ ._*~-]{_L}[ ._*~-]{_L}[ ._*~-]")


def _join_spaced(text: str) -> str | None:
    if not _SPACED_HINT.search(text):
        return None
    words = known_words("en")
    gained = 0

    def join(m: re.Match[str]) -> str:
        nonlocal gained
        joined = _SPACED_SEP.sub("", m.group())
        if len(joined) >= 4 and joined.lower() in words:
            gained += 1
            return joined
        return m.group()

    out = _SPACED.sub(join, text)
    return out if gained else None


# --- %-escapes, base64, base32, hex ------------------------------------------------------------

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")


def _unquote(text: str) -> str | None:
    if "%" not in text or len(_PCT.findall(text)) < 3:
        return None
    out = unquote(text, errors="strict") if _is_utf8_escapes(text) else None
    return out if out and out != text and _looks_like_text(out, min_words=2) else None


def _is_utf8_escapes(text: str) -> bool:
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


_B64 = re.compile(r"[A-Za-z0-9+/\-_]{16,}={0,6}")
_B64_RUN = re.compile(r"^[A-Za-z0-9+/\-_]{16,}={0,2}$")
# ASCII text in hex: every byte starts with 2-7, so this cheap check comes first.
_HEX_HINT = re.compile(r"[2-7][0-9a-fA-F][ :,]?[2-7][0-9a-fA-F][ :,]?[2-7][0-9a-fA-F]")
_HEX_SPACED = re.compile(r"(?:\\x|0x)?[0-9a-fA-F]{2}(?:[ :,]?(?:\\x|0x)?[0-9a-fA-F]{2}){7,}")
_HEX_STRIP = re.compile(r"\\x|0x|[ :,]")
_B32 = re.compile(r"^[A-Z2-7]+=*$")
_HEXRUN = re.compile(r"^[0-9a-fA-F]+$")


def _looks_like_text(s: str, *, min_words: int = 3) -> bool:
    """Decoded bytes that read as prose: printable, mostly letters, several words."""
    if not s or any(not c.isprintable() and c not in "\n\r\t" for c in s):
        return False
    letters = sum(c.isalpha() for c in s)
    spaces = sum(c.isspace() for c in s)
    if len(s.split()) < min_words:
        return False
    return (letters + spaces) / len(s) >= 0.75


def _bytes_text(raw: bytes, depth: int = 0) -> str | None:
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _looks_like_text(s):
        return s
    s = s.strip()
    if depth < _MAX_ROUNDS and _B64_RUN.match(s):  # encoded twice: decode the inner run
        got = _decode_run(s, depth + 1)
        return got[1] if got else None
    return None


def _decode_run(run: str, depth: int = 0) -> tuple[str, str] | None:
    """(kind, text) when a base64 / base32 / hex run decodes to prose."""
    bare = run.rstrip("=")
    if _HEXRUN.match(bare) and len(bare) % 2 == 0:
        s = _bytes_text(binascii.unhexlify(bare), depth)
        return ("hex", s) if s else None
    if _B32.match(run):
        try:
            s = _bytes_text(base64.b32decode(bare + "=" * (-len(bare) % 8)), depth)
        except (binascii.Error, ValueError):
            s = None
        if s:
            return ("base32", s)
    if len(bare) % 4 == 1:
        return None
    try:
        altchars = b"-_" if ("-" in bare or "_" in bare) else None
        raw = base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    s = _bytes_text(raw, depth)
    return ("base64", s) if s else None


def _decode_encoded(text: str) -> tuple[str, str] | None:
    """Encoded runs substituted in place by their decoded text; kind of the first one."""
    kinds: list[str] = []

    def sub_run(m: re.Match[str]) -> str:
        got = _decode_run(m.group())
        if got is None:
            return m.group()
        kinds.append(got[0])
        return got[1]

    def sub_hex(m: re.Match[str]) -> str:
        s = _bytes_text(binascii.unhexlify(_HEX_STRIP.sub("", m.group())))
        if s is None:
            return m.group()
        kinds.append("hex")
        return s

    out = _B64.sub(sub_run, text)
    if _HEX_HINT.search(out):
        out = _HEX_SPACED.sub(sub_hex, out)
    return (kinds[0], out) if kinds else None


# --- rot13 and reversal --------------------------------------------------------------------------

_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


def _rot13(text: str, base_share: float) -> str | None:
    out = text.translate(_ROT13)
    return out if _more_wordlike(out, base_share) else None


def _reverse(text: str, base_share: float) -> str | None:
    out = text[::-1]
    return out if _more_wordlike(out, base_share) else None


# --- all views ---------------------------------------------------------------------------

_Simple = Callable[[str], str | None]
_SIMPLE: tuple[tuple[str, _Simple], ...] = (
    ("homoglyph", _fold_homoglyphs),
    ("leet", _fold_leet),
    ("spaced", _join_spaced),
    ("url", _unquote),
)


def _decodings(text: str) -> list[View]:
    """One round of decoders over `text` (each from `text` itself)."""
    found: list[View] = []
    for kind, decoder in _SIMPLE:
        out = decoder(text)
        if out is not None:
            found.append(View(kind, out))
    if _B64.search(text) or _HEX_HINT.search(text):
        got = _decode_encoded(text)
        if got is not None:
            found.append(View(got[0], got[1]))
    share = word_share(text) if _TOKEN.search(text) else 1.0
    if share < 0.5:  # ordinary prose is already word-like: no rot13 / reversal to try
        for kind, turn in (("rot13", _rot13), ("reversed", _reverse)):
            out = turn(text, share)
            if out is not None:
                found.append(View(kind, out))
    return found


def views(text: str, *, max_views: int = 8) -> tuple[View, ...]:
    """The cleaned text, then each plausible decoding of it (nested up to a few rounds)."""
    first = View("clean", clean(text))
    out = [first]
    seen = {first.text}
    limit = _GROWTH * max(len(text), 1)
    frontier = [first]
    tags = _decode_tags(text)
    if tags is not None and tags not in seen:
        view = View("tags", tags)
        out.append(view)
        seen.add(tags)
        frontier.append(view)
    for _round in range(_MAX_ROUNDS):
        nxt: list[View] = []
        for view in frontier:
            for found in _decodings(view.text):
                if len(out) >= max_views:
                    return tuple(out)
                if found.text in seen or len(found.text) > limit or not found.text.strip():
                    continue
                seen.add(found.text)
                out.append(found)
                nxt.append(found)
        if not nxt:
            break
        frontier = nxt
    return tuple(out)
