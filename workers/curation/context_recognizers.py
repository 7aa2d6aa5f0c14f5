"""Recognizers that look for what follows a telling phrase: "my name is", "Directed by",
"lives at", "Phone:". NER misses many names it has not seen (most non-English ones), and
addresses and phone numbers come in more formats than any one pattern; the phrase before them
is what gives them away. Each match starts right after its trigger.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

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
    r"mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?|sir|madam"
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
        from workers.curation.name_recognizer import COMMON, zipf

        words = m.group().split()
        if words[0].casefold().strip(".") in NOT_NAMES:
            return None
        if len(words) == 1 and (len(words[0]) < 3 or zipf(words[0]) >= COMMON):
            return None  # "Hi There", "Dear Sir"
        return m.start(), m.end()


class AddressAfterTrigger(TriggeredRecognizer):
    def __init__(self) -> None:
        super().__init__("STREET_ADDRESS", ADDRESS_TRIGGERS, 0.55, "WinnowAddressAfterTrigger")

    def span_after(self, text: str, pos: int) -> tuple[int, int] | None:
        m = ADDRESS_BODY.match(text, pos)
        if m is None or not m.group().strip():
            return None
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
        from workers.curation.recognizers import luhn_ok

        m = CARD_BODY.match(text, pos)
        if m is None or not luhn_ok(m.group(1)) or len(set(m.group(1))) < 3:
            return None
        return m.start(1), m.end(1)
