"""Recognizers Winnow adds to Presidio's, and the filters that cut its false positives.

Presidio is strong on checksummed and well-formed values (email, IBAN, IP, SSN, card numbers
that pass Luhn) and weak where formats vary: street addresses (it has no recognizer), phone
numbers written with extensions or dots, and names outside an NER model. Every pattern here is
linear-time (no nested quantifiers over the same characters).
"""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|Loop|Alley|Crescent|"
    r"Close|Gardens?|Row|Walk|Hill|Park|Plaza|Flats?|Mews|Grove|Green|Heights|Ridge|Crossing|"
    r"Strasse|Straße|str\.|gasse|weg|vej|vägen|gatan|katu|laan|straat|utca|ulica|rue|via|"
    r"calle|rua|avenida)"
)
# "<number> <words> <suffix>", "<words><suffix> <number>" (European order), PO boxes and
# military addresses, with optional unit and following city / state / postcode lines.
_UNIT = r"(?:[,\s]+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#)\s?\w{1,6}){0,2}"
_WORD = r"[A-ZÀ-Þ][\w'.-]{0,30}"
ADDRESS_PATTERNS = [
    Pattern(
        "number street suffix",
        rf"\b\d{{1,6}}[A-Za-z]?(?:[ \t]+{_WORD}){{0,4}}[ \t]+{STREET_SUFFIX}\b\.?{_UNIT}",
        0.6,
    ),
    Pattern(
        "street suffix number (European)",
        rf"\b{_WORD}(?:[ \t]+{_WORD}){{0,2}}?(?:{STREET_SUFFIX})[ \t]+\d{{1,5}}[A-Za-z]?\b"
        rf"{_UNIT}",
        0.5,
    ),
    Pattern(
        "street number (European)",
        r"\b(?:[A-ZÀ-Þ][a-zà-ÿ]+(?:vej|vägen|gatan|katu|laan|straat|strasse|straße|weg|"
        r"gasse|tie|väg|gade|plein|utca|ulica)|(?:ul\.|C/|Rua|Via|Calle|Rue)[ \t]+"
        r"[A-ZÀ-Þ][\w'.-]{1,30}(?:[ \t]+[A-ZÀ-Þ][\w'.-]{1,30}){0,2})[ \t]+\d{1,5}\b",
        0.5,
    ),
    Pattern(
        "PO box / military",
        r"\b(?:PSC|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}"
        r"(?:\s+[AD]PO[ \t]+A[AEP][ \t]+\d{5})?|\bP\.?O\.?[ \t]+Box[ \t]+\d{1,6}\b"
        r"|\b(?:USNS|USNV|USS|USCGC)[ \t]+[^\W\d_][\w'-]{1,30}\s+FPO[ \t]+A[AEP][ \t]+\d{5}\b",
        0.6,
    ),
    Pattern("unit", r"\b(?:Apt\.?|Apartment|Suite|Ste\.)[ \t]+\d{1,5}[A-Za-z]?\b", 0.4),
    # "the corner of Dalbraut 99 and Frederikke Coves": a crossing is a place someone is at.
    Pattern(
        "street corner",
        r"\b(?:the[ \t]+)?corner[ \t]+of[ \t]+(?:[^\W\d_][\w'.-]*[ \t]+){0,4}?\d{1,5}[A-Za-z]?"
        r"\.?(?:[ \t]+[^\W\d_][\w'.-]*){0,2}?[ \t]+and[ \t]+[^\W_][\w'.-]*"
        r"(?:[ \t]+[^\W_][\w'.-]*){0,3}?(?=[ \t]*(?:[.,;?!\n]|$))",
        0.5,
    ),
    # "20789 Allika 46", "233 Erzsébet tér 19.", "4844 Søndergade 52" at the start of a line
    # or after "at" / "to" / ":" (building, street, number): the order many countries use.
    Pattern(
        "line-start number street number",
        r"(?:^|(?<=\n)|(?<=: )|(?<=\bat )|(?<=\bto )|(?<=\bin ))[ \t>]*\d{1,5}(?:[ \t]+\d{1,5})?"
        r"[ \t]+[^\W\d_][\w'.-]{1,30}"
        r"(?:[ \t]+[^\W\d_][\w'.-]{0,30}){0,3}[ \t]+\d{1,4}[A-Za-z]?\b\.?"
        rf"{_UNIT}",
        0.5,
    ),
]
ADDRESS_CONTEXT = [
    "address",
    "live",
    "lives",
    "living",
    "located",
    "street",
    "ship",
    "deliver",
    "mail",
    "send",
    "apartment",
    "home",
    "office",
    "visit",
    "moved",
]

# A following "City, ST 12345", "City\n, ST\n Country 12345" or postcode line.
_CAP_ANY = r"(?:[A-ZÀ-ÞΑ-ΩА-Я]|\()"  # a capital (Latin, Greek, Cyrillic) or "(Greek)"
_TAIL = re.compile(
    rf"\A(?:(?:[ \t]*(?:,|\n)){{1,2}}[ \t]*(?:{_CAP_ANY}[\w'()∆-]*(?:[ \t]+{_CAP_ANY}[\w'()∆-]*)"
    r"{0,3}|[A-Z]{2}|\d{4,6}(?:-\d{4})?)){1,5}(?:[ \t]+\d{4,6}(?:-\d{4})?(?![ \t]?\d))?"
)
_LEAD = re.compile(r"(?<![\w.-])\d{3,6}[ \t]+\Z")

PHONE_PATTERNS = [
    Pattern(
        "phone with separators",
        r"(?<![\w.-])(?:\+?\d{1,3}[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
        r"(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,6})?(?![\w-])",
        0.5,
    ),
    Pattern(
        "international", r"(?<![\w.])(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\d(?!\w)", 0.45
    ),
]
PHONE_PATTERNS.append(
    # "416 60 039 office", "781 1704 home": digit groups labelled by the word after them.
    Pattern(
        "labelled digits",
        r"(?<![\w.-])\+?\(?\d{1,4}\)?(?:[ .-]\d{2,4}){1,4}"
        r"(?=[ \t-]?(?:office|home|mobile|cell|work|fax)\b)",
        0.5,
    )
)
PHONE_CONTEXT = [
    "phone",
    "call",
    "tel",
    "mobile",
    "cell",
    "number",
    "reach",
    "contact",
    "fax",
    "text",
    "whatsapp",
]

CARD_PATTERNS = [
    # Presidio's own pattern wants known prefixes; this one takes any 13-19 digit grouping and
    # relies on the Luhn check below.
    Pattern("card digits", r"(?<![\d-])(?:\d{4}[ -]?){3}\d{1,7}(?![\d-])", 0.3),
]


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class CardRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="CREDIT_CARD",
            patterns=CARD_PATTERNS,
            context=["card", "credit", "visa", "mastercard", "amex", "debit"],
            name="WinnowCardRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = re.sub(r"\D", "", pattern_text)
        return 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 2


class AddressRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="STREET_ADDRESS",
            patterns=ADDRESS_PATTERNS,
            context=ADDRESS_CONTEXT,
            name="WinnowAddressRecognizer",
        )


def address_recognizer() -> AddressRecognizer:
    return AddressRecognizer()


def phone_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="PHONE_NUMBER",
        patterns=PHONE_PATTERNS,
        context=PHONE_CONTEXT,
        name="WinnowPhoneRecognizer",
    )


def extend_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Grow each address over the city, state, country and postcode lines that follow it."""
    for r in results:
        if r.entity_type == "STREET_ADDRESS":
            tail = _TAIL.match(text[r.end : r.end + 200])
            if tail and tail.end() > 0:
                r.end += tail.end()
            lead = _LEAD.search(text[max(0, r.start - 12) : r.start])
            if lead and text[r.start : r.start + 1].isdigit():  # "50475 216 Karaiskaki Sq"
                r.start -= len(lead.group())
    return results


_CODEISH = re.compile(r"[\d_/\\=(){}\[\]<>@#$%^*|~`]|\.\w")


_ADDRESS_WORDS = frozenset(
    [
        *re.sub(r"[^a-zäöüßåø|]", "", STREET_SUFFIX.lower()).split("|"),
        *[
            "box",
            "po",
            "apt",
            "apartment",
            "suite",
            "ste",
            "unit",
            "flat",
            "fpo",
            "apo",
            "dpo",
            "psc",
        ],
    ]
)


def _address_words_ok(value: str) -> bool:
    """ "3 sets of 8" is not an address: one of its words must be a street word or not a common
    English word (a street or place name)."""
    from workers.curation.name_recognizer import zipf

    words = re.findall(r"[^\W\d_]+", value)
    return not words or any(w.lower() in _ADDRESS_WORDS or zipf(w) < 4.0 for w in words)


def _known_or_rare(words: list[str]) -> bool:
    from workers.curation.name_recognizer import RARE, census_names, zipf

    first, last = census_names()
    return all(w in first or w in last or zipf(w) < RARE for w in words)


def plausible(text: str, r: RecognizerResult) -> bool:
    """Drop detections that look like code, paths or noise rather than PII."""
    from workers.curation.name_recognizer import mostly_lower_case

    value = text[r.start : r.end]
    if r.entity_type == "PERSON":
        words = value.split()
        return (
            len(value) > 2
            and not _CODEISH.search(value)
            and (value[0].isupper() or (mostly_lower_case(text) and _known_or_rare(words)))
            and not value.isupper()
            and len(words) <= 4
        )
    if r.entity_type == "STREET_ADDRESS":
        return _address_words_ok(value)
    if r.entity_type == "PHONE_NUMBER":
        digits = sum(c.isdigit() for c in value)
        before = text[max(0, r.start - 1) : r.start]
        return 7 <= digits <= 15 and before not in ("/", "v", ".", "-")
    return True


def same_names_again(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Once "Maciej Borkowski" is found, a later "Borkowski" (or "Maciej") alone is the same
    person: mask every other occurrence of a full name's words (those not common in English)."""
    from workers.curation.name_recognizer import COMMON, mostly_lower_case, zipf

    lower_case = mostly_lower_case(text)
    words: set[str] = set()
    for r in results:
        parts = text[r.start : r.end].split()
        if r.entity_type == "PERSON" and len(parts) >= 2:  # a full name, not a lone word
            words.update(
                w
                for w in re.findall(r"[^\W\d_][\w'-]{2,}", text[r.start : r.end])
                if (w[0].isupper() or lower_case) and zipf(w) < COMMON
            )
    if not words:
        return []
    covered = [(r.start, r.end) for r in results]
    found = []
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")
    for m in pattern.finditer(text):
        if not any(s <= m.start() < e for s, e in covered):
            found.append(RecognizerResult("PERSON", m.start(), m.end(), 0.5))
    return found
