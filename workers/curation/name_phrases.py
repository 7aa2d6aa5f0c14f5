"""Greeting, sign-off, introduction and title phrases of seven languages
(data/pii/name_phrases.json): what stands before or after a given name. The context recognizers
build their patterns from them; the name filters never take a one-word phrase for a name.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")


@lru_cache(maxsize=1)
def name_phrases() -> dict[str, dict[str, list[str]]]:
    path = files("workers.curation").joinpath("data/pii/name_phrases.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {lang: data[lang] for lang in LANGUAGES}


@lru_cache(maxsize=1)
def phrase_words() -> frozenset[str]:
    """Single-word phrases of every language ("hallo", "frau", "dear"): never part of a name."""
    return frozenset(
        p.replace("\\", "").strip(".")
        for kinds in name_phrases().values()
        for phrases in kinds.values()
        for p in phrases
        if " " not in p
    )
