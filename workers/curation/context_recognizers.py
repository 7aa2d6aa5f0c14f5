"""Recognizers that look for what follows a telling phrase: "my name is", "Directed by",
"lives at", "Phone:". NER misses many names it has not seen (most non-English ones), and
addresses and phone numbers come in more formats than any one pattern; the phrase before them
is what gives them away. Each match starts right after its trigger.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from workers.curation.name_phrases import name_phrases, phrase_words
from workers.curation.name_recognizer import COMMON, NEVER_ALONE, census_names, zipf
from workers.curation.recognizers import code_identifier, english_word, luhn_ok, word_list

_CAP = r"[A-ZÀ-ÞŁŚŻŹĆŃ][a-zà-ÿłśżźćńőűčřšžěůý'\u2019-]+"
_INITIAL = r"[A-Z]\.?"
NAME = rf"{_CAP}(?:[ \t]+(?:{_INITIAL}[ \t]+)?{_CAP}){{0,3}}"
NAME_TRIGGERS = (
    r"(?:my|his|her|their|the)\s+name\s+is|(?:i\s+am|i'm)\s+called|named|called|"
    r"name:|contact:|dear|hi|hello|hey|thanks,?|regards,?|sincerely,?|"
    r"(?:directed|written|produced|composed|painted|signed|sent|sung|performed)\s+by:?|"
    r"(?:last|first|full|family|sur)\s?name\s?(?:is|:|\?)?|"
    r"(?:my|our|your)\s+(?:kid|son|daughter|wife|husband|partner|friend|colleague|boss|"
    r"manager|doctor|teacher|neighbou?r|brother|sister|mother|father|mom|dad|aunt|uncle|"
    r"cousin|client|tenant|landlord|lawyer)|"
    r"mrs\.?|mr\.?|ms\.?|miss|dr\.?|prof\.?|sir|madam"
)
# Capitalised words after these triggers are often not names.
NOT_NAMES = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "tomorrow",
        "yesterday",
        "god",
        "christmas",
        "easter",
        "python",
        "java",
        "javascript",
        "rust",
        "linux",
        "windows",
        "mac",
        "macos",
        "ios",
        "android",
        "google",
        "microsoft",
        "apple",
        "amazon",
        "excel",
        "word",
        "chatgpt",
        "gpt",
        "openai",
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "my",
        "your",
        "our",
        "his",
        "her",
        "their",
        "its",
        "i",
        "you",
        "we",
        "they",
        "he",
        "she",
        "it",
        "english",
        "french",
        "german",
        "spanish",
        "chinese",
        "japanese",
        "russian",
    ]
)

ADDRESS_TRIGGERS = (
    r"(?:i|we|he|she|they)\s+(?:live|lives|lived|stay|stays|reside|resides)\s+(?:at|in|on)|"
    r"(?:address|addr)(?:\s+is)?:?|located\s+at|ship(?:ped)?\s+(?:it\s+)?to|"
    r"deliver(?:ed)?\s+(?:it\s+)?to|send\s+(?:it|the\s+\w+)\s+to|moved\s+to|"
    r"billing\s+address:?|shipping\s+address:?|mailing\s+address:?|home\s+address:?"
)
# An address: up to ~160 characters that hold a number, ending at a sentence end.
ADDRESS_BODY = re.compile(r"[^\n.?!;]{0,60}?\d[^?!;]{0,140}?(?=\.(?:\s|$)|[?!;]|\n\n|$)")

PHONE_TRIGGERS = (
    r"phone|tel\.?|telephone|mobile|cell|fax|call\s+(?:me|us|him|her)\s+(?:on|at)|"
    r"reach\s+(?:me|us)\s+(?:on|at)|text\s+(?:me|us)\s+(?:on|at)|whatsapp|"
    r"(?:answering|reached|reachable)\s+at|"
    r"number\s+is|office"
)
PHONE_BODY = re.compile(r"[\s:#]{0,4}(\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{1,4}\)?){1,5})")


class TriggeredRecognizer(EntityRecognizer):
    """Finds `body` right after any of `triggers` (case-insensitive)."""

    def __init__(self, entity: str, triggers: str, score: float, name: str) -> None:
        self.trigger = re.compile(rf"(?<![\w])(?:{triggers})[ \t]*", re.IGNORECASE)
        self.score = score
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:
        pass

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        for m in self.trigger.finditer(text):
            span = self.span_after(text, m.end())
            if span is not None:
                results.append(
                    RecognizerResult(self.supported_entities[0], span[0], span[1], self.score)
                )
        return results


class NameAfterTrigger(TriggeredRecognizer):
    body = re.compile(NAME)

    def __init__(self) -> None:
        super().__init__("PERSON", NAME_TRIGGERS, 0.6, "WinnowNameAfterTrigger")

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        m = self.body.match(text, pos)
        if m is None:
            return None
        words = m.group().split()
        if words[0].casefold().strip(".") in NOT_NAMES:
            return None
        if len(words) == 1 and (len(words[0]) < 3 or zipf(words[0]) >= COMMON):
            return None  # "Hi There", "Dear Sir"
        if not given_name_ok(words[0], "en") and not _surname_ok(words[0], "en"):
            return None  # "name: Install packages"
        return m.start(), m.end()


class AddressAfterTrigger(TriggeredRecognizer):
    def __init__(self) -> None:
        super().__init__("STREET_ADDRESS", ADDRESS_TRIGGERS, 0.55, "WinnowAddressAfterTrigger")

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        m = ADDRESS_BODY.match(text, pos)
        if m is None or not m.group().strip() or "@" in m.group():
            return None  # "send it to ana@example.org": an e-mail address, found as one
        end = pos + len(m.group().rstrip(" ,\t"))
        return pos, end


class PhoneAfterTrigger(TriggeredRecognizer):
    def __init__(self) -> None:
        super().__init__("PHONE_NUMBER", PHONE_TRIGGERS, 0.55, "WinnowPhoneAfterTrigger")

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        m = PHONE_BODY.match(text, pos)
        if m is None:
            return None
        digits = sum(c.isdigit() for c in m.group(1))
        if not 6 <= digits <= 15:
            return None
        return m.start(1), m.end(1)


CARD_TRIGGERS = r"card(?:\s+(?:number|no\.?|#))?|cc|credit\s+card|debit\s+card"
CARD_BODY = re.compile(r"[\s:#]{0,4}(\d{12,19})(?!\d)")


class CardAfterTrigger(TriggeredRecognizer):
    """12-digit Maestro numbers and other ranges Presidio's card pattern skips, when "card"
    comes right before them and the Luhn check passes."""

    def __init__(self) -> None:
        super().__init__("CREDIT_CARD", CARD_TRIGGERS, 0.6, "WinnowCardAfterTrigger")

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        m = CARD_BODY.match(text, pos)
        if m is None or not luhn_ok(m.group(1)) or len(set(m.group(1))) < 3:
            return None
        return m.start(1), m.end(1)


# --- names after greetings, sign-offs, titles and introductions, in seven languages ----------
_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻŹĆŃ][a-zà-öø-ÿā-žłśżźćńőűčřšžěůý'\u2019-]+"
_LINKS = r"(?:van|von|de|da|del|della|der|den|des|di|do|dos|das|du|le|la|ten|ter|y|e|bin|al)"
MULTI_NAME = re.compile(
    rf"{_NAME_WORD}(?:[ \t]+(?:[A-Z]\.?[ \t]+)?(?:{_LINKS}[ \t]+){{0,2}}{_NAME_WORD}){{0,3}}"
)


GAPS = {  # what may stand between the phrase and the name (a sign-off's: a line break)
    "intro": r"[ \t]+",
    "title": r"[ \t]*",
    "greeting": r"[ \t]*,?[ \t]*",
    "signoff": r"[ \t]*[,!.]?[ \t]*(?:\n[ \t]*)?",
}


@dataclass(frozen=True, slots=True)
class _Phrases:
    """The phrases of one language and kind as one pattern, and what a text must hold for it
    to match at all: a phrase's first word as a word of the text, or (a one-word phrase whose
    gap may be empty, "HiSian") at the start of one."""

    pattern: re.Pattern[str]
    lang: str
    kind: str
    first_words: frozenset[str]
    glued: tuple[str, ...]

    def may_match(self, words: frozenset[str], glued: bool) -> bool:
        """`words`: the text's words, lower-cased; `glued`: whether a capital follows a
        letter anywhere in it (the only way a glued phrase can precede a name)."""
        if not self.first_words.isdisjoint(words):
            return True
        return glued and bool(self.glued) and any(w.startswith(self.glued) for w in words)


_WORD = re.compile(r"\w+")
_GLUE = re.compile(r"[^\W\d_][A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻŹĆŃ]")


@lru_cache(maxsize=1)
def _phrase_patterns() -> list[_Phrases]:
    """The phrases of each language and kind, then the gap before the name."""
    out = []
    for lang, kinds in name_phrases().items():
        for kind, phrases in kinds.items():
            joined = "|".join(sorted(phrases, key=len, reverse=True))
            pattern = rf"(?<![\w'\u2019])(?:{joined}){GAPS[kind]}(?=[A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻŹĆŃ])"
            firsts = [m.group() for p in phrases if (m := _WORD.match(p.lower()))]
            glued = () if re.fullmatch(GAPS[kind], "") is None else tuple(
                sorted({p.lower().replace("\\.?", "") for p in phrases
                        if _WORD.fullmatch(p.lower().replace("\\.?", ""))})
            )
            out.append(_Phrases(
                re.compile(pattern, re.IGNORECASE), lang, kind, frozenset(firsts), glued
            ))
    return out


def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, lang))


# Below this Zipf frequency in the phrase's language a capitalised word in a name's slot is
# taken as a name; German capitalises its nouns ("Ich bin Lehrer"), so it is stricter there.
SLOT_LIMIT = {"en": 4.0, "de": 4.5}
SLOT_LIMIT_OTHER = 5.5


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().casefold()


def given_name_ok(word: str, lang: str) -> bool:
    """A word standing where a name goes ("Thanks, Sian", "Ich bin Jonas", "Sou João") is
    taken when it is a known given name, or no dictionary word in English and not frequent in
    the phrase's language."""
    low = word.casefold()
    if len(low) < 2 or low in NOT_NAMES or low in word_list("tech_terms.txt"):
        return False
    if code_identifier(word) or low in phrase_words():
        return False
    first = census_names()[0]
    if (low in first or _fold(low) in first) and low not in NEVER_ALONE:
        return True
    if english_word(word):
        return False
    return _zipf(low, lang) < SLOT_LIMIT.get(lang, SLOT_LIMIT_OTHER)


def _doc_place(nlp_artifacts: Any, start: int, end: int) -> bool:
    doc: Any = getattr(nlp_artifacts, "tokens", None)
    if doc is None or not hasattr(doc, "ents"):
        return False
    return any(
        e.start_char < end and start < e.end_char and e.label_ in ("GPE", "LOC", "NORP", "LANGUAGE")
        for e in doc.ents
    )


class IntroductionRecognizer(EntityRecognizer):
    """ "Ich bin Jonas", "Me llamo Ana Sofía Sancho", "Hi Sian", "Cheers,\\nJemma", "Frau
    Keller": a name after an introduction, a greeting, a sign-off or a title (phrases per
    language in data/pii/name_phrases.json)."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"],
            name="WinnowIntroductionRecognizer",
            supported_language="en",
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        present = frozenset(_WORD.findall(text.lower()))
        glued = _GLUE.search(text) is not None
        for phrases in _phrase_patterns():
            if not phrases.may_match(present, glued):  # most texts hold no phrase of most languages
                continue
            lang, kind = phrases.lang, phrases.kind
            check = _surname_ok if kind == "title" else given_name_ok
            for m in phrases.pattern.finditer(text):
                name = MULTI_NAME.match(text, m.end())
                if name is None:
                    continue
                words = name.group().split()
                if not check(words[0], lang):
                    continue
                end = m.end() + len(words[0])
                for w in re.finditer(r"\S+", name.group()):
                    if w.start() == 0:
                        continue
                    if w.group()[0].isupper() and not _surname_ok(w.group(), lang):
                        break
                    end = m.end() + w.end()
                results.append(RecognizerResult("PERSON", m.end(), end, 0.65))
        return results


def _surname_ok(word: str, lang: str) -> bool:
    low = word.casefold().strip(".")
    if low in NOT_NAMES or low in word_list("tech_terms.txt") or code_identifier(word):
        return False
    if len(low) == 1 or low in census_names()[1] or low in census_names()[0]:
        return True
    return not english_word(word) and _zipf(low, lang) < 4.5


# ", Jemma." / ", Sian!" closing a sentence: a person spoken to.
_VOCATIVE = re.compile(rf",[ \t]*({_NAME_WORD})(?=[ \t]*(?:[.!?…]|\n|$))")


class VocativeRecognizer(EntityRecognizer):
    """ "Sorry about that, Jemma." — a single name after a comma that ends the sentence."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="WinnowVocativeRecognizer", supported_language="en"
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        for m in _VOCATIVE.finditer(text):
            word = m.group(1)
            if not given_name_ok(word, "en") or _doc_place(nlp_artifacts, *m.span(1)):
                continue
            before = text[max(0, m.start() - 40) : m.start()]
            if re.search(r"(?:^|[.!?\n])[^.!?\n,]*,[^.!?\n]*\Z", before):
                continue  # "Paris, Lyon, Nantes.": a list, not someone spoken to
            results.append(RecognizerResult("PERSON", *m.span(1), 0.55))
        return results
