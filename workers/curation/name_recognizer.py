"""Names that NER models miss: runs of capitalised words of which at least one is rare in
English (word frequencies from `wordfreq`). A small English NER model knows "John Smith" but
not "Tomomi Nishiyama" or "Faina D. Yefremova"; a word that almost never occurs in English
text, capitalised next to another capitalised word, is very likely part of a name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

_WORD = r"[A-ZÀ-ÖØ-ÞĀ-Ž][a-zà-öø-ÿā-ž'\u2019-]+"
_PARTICLE = r"(?:van|von|de|da|del|der|den|ten|ter|le|la|di|du|bin)"
_JOIN = rf"(?:[ \t]+(?:[A-Z]\.?[ \t]+)?(?:{_PARTICLE}[ \t]+)?)"
RUN = re.compile(rf"\b{_WORD}(?:{_JOIN}{_WORD}){{1,3}}\b")
RARE = 3.0  # Zipf frequency: below about one in a million words
COMMON = 4.5  # leading words this common ("Hello", "Have") are not part of the name


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


class RareNameRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="WinnowRareNameRecognizer", supported_language="en"
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        for m in RUN.finditer(text):
            words = [(w.start(), w.group()) for w in re.finditer(r"\S+", m.group())]
            while words and zipf(words[0][1].strip(".")) >= COMMON:
                words.pop(0)  # "Have Ravil Yefimov" -> "Ravil Yefimov"
            names = [w for _, w in words if len(w.strip(".")) > 1 and w[0].isupper()]
            if len(names) < 2 or not any(zipf(w) < RARE for w in names):
                continue
            start = m.start() + words[0][0]
            results.append(RecognizerResult("PERSON", start, m.end(), 0.5))
        return results
