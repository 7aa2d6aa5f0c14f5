"""Recognizers Winnow adds to Presidio's, and the filters that cut its false positives.

Presidio is strong on checksummed and well-formed values (email, IBAN, IP, SSN, card numbers
that pass Luhn) and weak where formats vary: street addresses (it has no recognizer), phone
numbers written with extensions or dots, and names outside an NER model. Every pattern here is
linear-time (no nested quantifiers over the same characters).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from workers.curation.name_phrases import phrase_words
from workers.curation.name_recognizer import (
    COMMON,
    LIST,
    NEVER_ALONE,
    RARE,
    census_names,
    mostly_lower_case,
    zipf,
)

STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|Loop|Alley|Crescent|"
    r"Close|Gardens?|Row|Walk|Hill|Park|Plaza|Flats?|Mews|Grove|Green|Heights|Ridge|Crossing|"
    r"Strasse|Straße|str\.|gasse|weg|vej|vägen|gatan|katu|laan|straat|utca|ulica|rue|via|"
    r"calle|rua|avenida)"
)
# Street words written glued to the name ("Hauptstraße", "Kerkstraat").
_GLUED = r"(?:strasse|straße|str\.|gasse|weg|vej|vägen|gatan|katu|laan|straat|utca|ulica)"
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
        rf"\b{_WORD}(?:[ \t]+{_WORD}){{0,2}}?(?:[ \t]+{STREET_SUFFIX}|{_GLUED})"
        rf"[ \t]+\d{{1,5}}[A-Za-z]?\b{_UNIT}",
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


def _street_types() -> dict[str, list[str]]:
    path = files("workers.curation").joinpath("data/pii/street_types.json")
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_TYPES = _street_types()
_PREFIX_T = _alternatives(_TYPES["prefix"])
_SUFFIX_T = _alternatives(_TYPES["suffix"])
_COMPOUND_T = _alternatives(_TYPES["compound"])
_UNIT_T = _alternatives(_TYPES["unit"])
_NAMEW = r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w'\u2019.-]{0,30}"
_LINKW = (
    r"(?:de|del|de la|de los|de las|da|do|dos|das|di|della|delle|dei|des|du|le|la|les|von|van"
    r"|der|den|y|e|of|the)"
)
_NAME_SEQ = rf"(?:{_LINKW}[ \t]+)?{_NAMEW}(?:[ \t]+(?:{_LINKW}[ \t]+)?{_NAMEW}){{0,4}}"
_NUM = r"(?:\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?|[Ss]/[Nn])\b"
_UNITS = rf"(?:[ \t,]+(?i:{_UNIT_T})[ \t]*\d{{1,5}}[A-Za-z]?\b){{0,2}}"
POSTCODE = (
    r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}|\d{4}[ \t]?[A-Z]{2}|\d{5}-\d{3}|\d{4}-\d{3}"
    r"|\d{5}(?:-\d{4})?|\d{6}|\d{4}|\d{3}[ \t]\d{3}|\d{8})(?![\w-])"
)
# Street lines in the orders countries write them (types from data/pii/street_types.json).
# Matched case-sensitively (Presidio's default flags ignore case): a name's capitals count.
STREET_LINE_PATTERNS = [
    Pattern(  # "Via Pina, 56 Piano 3", "Rua das Flores, 123", "Calle Mayor 5"
        "type name number",
        rf"(?<![\w-])(?i:{_PREFIX_T})\.?[ \t]+{_NAME_SEQ},?[ \t]+(?:n[º°o.][ \t]*)?{_NUM}{_UNITS}",
        0.6,
    ),
    Pattern(  # "84, chemin Legendre", "12 rue de la Paix"
        "number type name",
        rf"(?<![\w.,-])\d{{1,5}}[A-Za-z]?(?:[ \t]*,)?[ \t]+(?i:{_PREFIX_T})\.?[ \t]+{_NAME_SEQ}",
        0.6,
    ),
    Pattern(  # "Viela da Luz\nMirante\n79984-833 ...": no number, but a postcode follows
        "type name before postcode",
        rf"(?<![\w-])(?i:{_PREFIX_T})\.?[ \t]+{_NAME_SEQ}(?=[ \t]*(?:,|\n)[ \t]*"
        rf"(?:[^\n\d]{{1,40}}\n[ \t]*)?{POSTCODE})",
        0.5,
    ),
    Pattern(  # "250 Jones Ferry", "71 Kieran Corners", "69/14, Pandit Zila"
        "number name suffix",
        rf"(?<![\w.,-])\d{{1,5}}[A-Za-z]?(?:/\d{{1,5}})?,?[ \t]+{_NAMEW}(?:[ \t]+{_NAMEW}){{0,3}}"
        rf"[ \t]+(?:{_SUFFIX_T.title()}|{_SUFFIX_T.upper()})\b\.?{_UNITS}",
        0.55,
    ),
    Pattern(  # "Studio 88e\nBuckley Bridge", "H.No. 17, Sodhi Chowk", "414\nDayal Path"
        "unit then street",
        rf"(?:\b(?i:{_UNIT_T})[ \t]*\d{{1,5}}[A-Za-z]?|(?<![\w.,-])\d{{1,5}}(?:/\d{{1,5}})?)"
        rf"(?:[ \t]*,[ \t]*|[ \t]*\n[ \t]*){_NAMEW}(?:[ \t]+{_NAMEW}){{0,3}}"
        rf"[ \t]+(?:{_SUFFIX_T.title()})\b",
        0.5,
    ),
    Pattern(  # "Drubinstraße 47-26", "Hans-Jörg-Hesse-Gasse 2/9", "Willy-Brandt-Ring 59-83"
        "compound street number",
        rf"(?<![\w-])(?:(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w'\u2019.]{{0,30}}-){{1,4}}(?i:{_COMPOUND_T})"
        rf"|[A-ZÀ-ÖØ-Þ][\w'\u2019]{{1,30}}?(?i:{_COMPOUND_T}))[ \t]+{_NUM}",
        0.6,
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


def street_line_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        patterns=STREET_LINE_PATTERNS,
        context=ADDRESS_CONTEXT,
        name="WinnowStreetLineRecognizer",
        global_regex_flags=re.MULTILINE,
    )


def phone_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="PHONE_NUMBER",
        patterns=PHONE_PATTERNS,
        context=PHONE_CONTEXT,
        name="WinnowPhoneRecognizer",
    )


_PLACE_TOKEN = (
    rf"(?:{POSTCODE}|\([A-Z]{{2}}\)|[A-ZÀ-ÖØ-ÞĀ-Ž'][\w'\u2019.-]*|de|da|do|dos|das|di|del|an|der|am|sur|la|le"
    r"|les|en|im|bei|/)"
)
_PLACE_LINE = re.compile(rf"{_PLACE_TOKEN}(?:[ \t]*,?[ \t]+{_PLACE_TOKEN}|-{POSTCODE}){{0,6}}")
_LINE_GAP = re.compile(r"[ \t]*(?:,|\n)[ \t]*|-(?=\d)")


def address_tail(text: str, end: int) -> int:
    """Where an address that ends at `end` really ends: over up to three following place lines
    ("Beckerburgh, MN 99927", "06690 Groß-Gerau", "5985PP\nMarrum", "Nizamabad-267029"), as far
    as the last one that holds a postcode or a region code (a place line after a bare postcode
    line is taken too)."""
    best = end
    position = end
    coded = False
    for _ in range(3):
        gap = _LINE_GAP.match(text, position)
        if gap is None:
            break
        line = _PLACE_LINE.match(text, gap.end())
        if line is None or line.end() == gap.end():
            break
        stop = line.end()
        rest = text[stop : stop + 1]
        if rest and rest not in "\n,.;!?" and not rest.isspace():
            break
        value = line.group()
        has_code = bool(re.search(rf"{POSTCODE}|\(?\b[A-Z]{{2}}\b\)?", value))
        if coded and any(c.isdigit() for c in value):
            break  # a second number line: a phone, an order number
        if has_code:
            best, coded = stop, True
        elif coded and gap.group().strip() != ",":
            best = stop  # "5985PP\nMarrum": the city after the postcode
            break
        elif coded:
            break
        position = stop
    return best


def _trim_address_lead(text: str, r: RecognizerResult) -> None:
    """ "it to Hauptstraße 5", "Sie an Kaulgasse 82": the case-blind patterns start on the
    words before the street; drop common words that are no street word."""
    if mostly_lower_case(text):
        return
    while True:
        m = re.match(r"([^\W\d_]+)[ \t]+(?=\S)", text[r.start : r.end])
        if m is None or m.group(1).casefold() in _ADDRESS_WORDS:
            return
        word = m.group(1)
        if not (word.islower() or common_word(word, text_language(text))):
            return
        r.start += m.end()


def merge_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Address spans that overlap or touch ("…Extensions\n Apt" and "Apt. 724\n Hibberdene…")
    are one address: one span, not the longer alone."""
    streets = sorted(
        (r for r in results if r.entity_type == "STREET_ADDRESS"), key=lambda r: r.start
    )
    merged: list[RecognizerResult] = []
    for r in streets:
        last = merged[-1] if merged else None
        if (
            last is not None
            and r.start <= last.end + 2
            and not text[last.end : r.start].strip(" ,")
        ):
            last.end = max(last.end, r.end)
            last.score = max(last.score, r.score)
        else:
            merged.append(r)
    return [r for r in results if r.entity_type != "STREET_ADDRESS"] + merged


def extend_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Grow each address over the city, state, country and postcode lines that follow it."""
    for r in results:
        if r.entity_type == "STREET_ADDRESS":
            _trim_address_lead(text, r)
            tail = _TAIL.match(text[r.end : r.end + 200])
            old = r.end + tail.end() if tail else r.end
            r.end = max(old, address_tail(text, r.end))
            lead = _LEAD.search(text[max(0, r.start - 12) : r.start])
            if lead and text[r.start : r.start + 1].isdigit():  # "50475 216 Karaiskaki Sq"
                r.start -= len(lead.group())
    return results


_CODEISH = re.compile(r"[\d_/\\=(){}\[\]<>@#$%^*|~`]|\.\w")


_ADDRESS_WORDS = frozenset(
    [
        *re.sub(r"[^a-zäöüßåø|]", "", STREET_SUFFIX.lower()).split("|"),
        *(w.strip(".").casefold() for kind in _TYPES.values() for w in kind),
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
    words = re.findall(r"[^\W\d_]+", value)
    return not words or any(
        w.lower() in _ADDRESS_WORDS or zipf(w) < 4.0 or _compound(w) for w in words
    )


def _compound(word: str) -> bool:
    return word.casefold().endswith(tuple(w.strip(".") for w in _TYPES["compound"]))


def _known_or_rare(words: list[str]) -> bool:
    first, last = census_names()
    return all(w in first or w in last or zipf(w) < RARE for w in words)


@cache
def word_list(name: str) -> frozenset[str]:
    """A word list from workers/curation/data/pii/ (one entry a line, `#` comments)."""
    text = files("workers.curation").joinpath(f"data/pii/{name}").read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line.strip()[:1] not in ("", "#")
    )


# Recognizers whose match follows a telling phrase ("my name is", "Thanks,"): the phrase is the
# evidence, so their single words need not look like names by frequency or part of speech.
CONTEXTUAL = frozenset(
    [
        "WinnowNameAfterTrigger",
        "WinnowIntroductionRecognizer",
        "WinnowVocativeRecognizer",
        "WinnowPersonContextRecognizer",
    ]
)
# spaCy labels that say "not a person" when they cover a candidate another recognizer found
# (ORG is left out: the small model calls many foreign names an organisation).
NOT_PERSON_LABELS = frozenset(["GPE", "LOC", "NORP", "LANGUAGE"])
_NAME_PREFIX = re.compile(r"(?:Mc|Mac|O['\u2019]|D['\u2019]|De|Di|Da|La|Le|Van|Von)[A-Z]")
_INNER_CAP = re.compile(r"[a-z][A-Z]")
_SENTENCE_START = re.compile(r"(?:\A|[.!?:;>*#|\])\-]\s*|\n\s*|[\"'(\[]\s*)\Z")
_SUFFIX = re.compile(r"(?:I{1,3}|IV|Jr\.?|Sr\.?)\Z")


def code_identifier(word: str) -> bool:
    """ "DeprecationWarning", "PyCharm", "EXPLAIN": CamelCase or capitals are code, not names
    ("McDonald", "DeShawn", initials and "II" are names)."""
    letters = re.sub(r"[\W\d_]", "", word)
    if len(letters) >= 2 and letters.isupper():
        return not _SUFFIX.match(word)
    return bool(_INNER_CAP.search(word)) and not _NAME_PREFIX.match(word)


def _low(word: str) -> str:
    return word.casefold().removesuffix("'s").removesuffix("\u2019s").strip(".")


def english_word(word: str) -> bool:
    """A lower-case English dictionary word ("refresh", "billing", "ex-zombie"), capitalised
    or not."""
    words = word_list("english_words.txt")
    return all(piece in words or piece in ("ex", "re", "co") for piece in _low(word).split("-"))


TEXT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")


@lru_cache(maxsize=1)
def _function_words() -> dict[str, frozenset[str]]:
    from wordfreq import top_n_list

    return {lang: frozenset(top_n_list(lang, 150)) for lang in TEXT_LANGUAGES}


@lru_cache(maxsize=256)
def text_language(text: str) -> str:
    """The language whose most frequent words the text uses most (English unless another
    clearly leads): enough to tell which language's common words are not names."""
    tokens = re.findall(r"[^\W\d_]+", text[:2000].casefold())
    counts = {lang: sum(t in words for t in tokens) for lang, words in _function_words().items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] >= 2 and counts[best] > counts["en"] else "en"


def common_word(word: str, lang: str) -> bool:
    """A dictionary word in English, or a frequent word of the text's language ("Rechnung",
    "Gisteren"), unless it is a known given name."""
    if english_word(word):
        return True
    folded = unicodedata.normalize("NFKD", _low(word)).encode("ascii", "ignore").decode()
    if _first(word) or folded in census_names_folded():
        return False
    from wordfreq import zipf_frequency

    if lang != "en":  # "Das Paket": the text's own language decides, surname or not
        return zipf_frequency(_low(word), lang) >= 3.5 and zipf(word) < 5.0
    if _surname(word):
        return False
    # English, or too short to tell: a very frequent word of any of the languages
    return any(zipf_frequency(_low(word), other) >= 5.0 for other in TEXT_LANGUAGES[1:])


@lru_cache(maxsize=1)
def census_names_folded() -> frozenset[str]:
    """Census given names without accents' absence held against them ("José" is "jose")."""
    return census_names()[0]


def _tech(word: str) -> bool:
    return _low(word) in word_list("tech_terms.txt")


def _first(word: str) -> bool:
    low = _low(word)
    return low in census_names()[0] and low not in NEVER_ALONE


def _surname(word: str) -> bool:
    return _low(word) in census_names()[1]


def _name_word(word: str, lang: str = "en") -> bool:
    """A word that is a name rather than a word: a census given name, or no common word."""
    return not _tech(word) and (_first(word) or not common_word(word, lang))


def _doc_says_not_person(doc: Any, start: int, end: int, word: str) -> bool:
    """spaCy (already run for NER: no second pass) calls a lone word a people or a language,
    a place when it is no known name (the small model calls many names places), or a verb."""
    if doc is None:
        return False
    known = _first(word) or _surname(word)
    for ent in doc.ents:
        overlaps = ent.start_char < end and start < ent.end_char
        if overlaps and (
            ent.label_ in ("NORP", "LANGUAGE") or (ent.label_ in ("GPE", "LOC") and not known)
        ):
            return True
    span = doc.char_span(start, end, alignment_mode="expand")
    return span is not None and len(span) == 1 and span[0].pos_ == "VERB" and not known


def person_plausible(text: str, r: RecognizerResult, doc: Any = None) -> bool:
    """A PERSON candidate must look like a name: not code, not a product, not a run of
    dictionary words (a UI label, an imperative opening a sentence), not a place (spaCy's
    GPE, LOC). Leading and trailing dictionary words are cut off ("Zombie Kastner")."""
    value = text[r.start : r.end]
    words = value.split()
    if not (
        len(value) > 2
        and not _CODEISH.search(value)
        and (value[0].isupper() or (mostly_lower_case(text) and _known_or_rare(words)))
        and len(words) <= 4
    ):
        return False
    parts = [
        w for w in re.finditer(r"[^\W\d_][\w'\u2019.-]*", value) if len(w.group().strip(".")) > 1
    ]
    if not parts or any(code_identifier(w.group()) for w in parts):
        return False
    if all(_tech(w.group()) for w in parts):
        return False
    source = (r.recognition_metadata or {}).get("recognizer_name", "")
    if source in CONTEXTUAL:
        return True
    lang = text_language(text)
    while len(parts) > 1 and (
        (common_word(parts[0].group(), lang) and not _first(parts[0].group()))
        or (parts[0].group().casefold() in phrase_words() and not _first(parts[0].group()))
    ):
        parts.pop(0)  # "Choose Weekly", "ex-Zombie Kastner", "Hallo Frau Keller"
    while len(parts) > 1 and not (
        _name_word(parts[-1].group(), lang) or _surname(parts[-1].group())
    ):
        parts.pop()  # "Barbara Yudina Apt"
    start, end = r.start + parts[0].start(), r.start + parts[-1].end()
    names = [w.group() for w in parts]
    if len(names) == 1 and _doc_says_not_person(doc, start, end, names[0]):
        return False
    initial = bool(_SENTENCE_START.search(text[max(0, start - 3) : start]))
    if len(names) == 1:
        word = names[0]
        if _in_name_list(text, start, end, lang):
            pass  # "Monjeau, Graves and Reed": one plain name makes the others names
        elif not _name_word(word, lang) or (initial and english_word(word) and not _first(word)):
            return False
    elif not (
        any(_name_word(w, lang) for w in names)
        and all(_name_word(w, lang) or _surname(w) or len(w.strip(".")) == 1 for w in names)
    ):
        return False
    r.start, r.end = start, end
    return True


def _in_name_list(text: str, start: int, end: int, lang: str) -> bool:
    for m in LIST.finditer(text, max(0, start - 120), min(len(text), end + 120)):
        if not (m.start() <= start and end <= m.end()):
            continue
        items = [
            w for w in re.findall(r"[^\W\d_][\w'\u2019-]*", m.group()) if w not in ("and", "or")
        ]
        return any(_name_word(w, lang) for w in items) and all(
            (_name_word(w, lang) or _surname(w)) and not _tech(w) for w in items
        )
    return False


_NHS_CONTEXT = re.compile(r"\b(?:nhs|health|patient|hospital|gp|surgery|medical)\b", re.I)


def plausible(text: str, r: RecognizerResult, doc: Any = None) -> bool:
    """Drop detections that look like code, paths or noise rather than PII."""
    value = text[r.start : r.end]
    if r.entity_type == "PERSON":
        return person_plausible(text, r, doc)
    if r.entity_type == "STREET_ADDRESS":
        return _address_words_ok(value)
    if r.entity_type == "PHONE_NUMBER":
        number = re.split(r"[ \t]*(?:x|ext|extension)", value, maxsplit=1, flags=re.I)[0]
        digits = sum(c.isdigit() for c in number)
        before = text[max(0, r.start - 1) : r.start]
        return 7 <= digits <= 15 and before not in ("/", "v", ".", "-")
    if r.entity_type == "EMAIL_ADDRESS":  # "support@", "git@github.com": a role, no person
        return value.split("@", 1)[0].casefold() not in word_list("role_mailboxes.txt")
    if r.entity_type == "UK_NHS":  # 1 in 11 ten-digit numbers passes the checksum: a phone too
        return bool(_NHS_CONTEXT.search(text[max(0, r.start - 60) : r.start]))
    return True


def same_names_again(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Once "Maciej Borkowski" is found, a later "Borkowski" (or "Maciej") alone is the same
    person: mask every other occurrence of a full name's words (those not common in English)."""
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


PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PT", "IN", "BR")
_DIGITS7 = re.compile(r"(?:\d\D{0,3}){7}")


class RegionalPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer for the national formats Winnow expects (UK, EU
    countries, India, Brazil, US); skipped cheaply on text with fewer than seven digits."""

    def __init__(self) -> None:
        super().__init__(
            supported_regions=PHONE_REGIONS, context=PHONE_CONTEXT, name="WinnowRegionalPhone"
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        if not _DIGITS7.search(text):
            return []
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        return results


# "x611", "ext. 12", "poste 34", "Durchwahl 5", "-12" after a number; "+44", "0044", "001-",
# "(+351)" before one: parts of the same phone number, masked with it.
_EXTENSION = re.compile(
    r"\A(?:[ \t]*,?[ \t]*(?:x|ext\.?|extn\.?|extension|extensión|poste|durchwahl|dw\.?|app\.?"
    r"|int\.?|interno|ramal|toestel|tst\.?|#)[ \t]*:?[ \t]*\d{1,6}|-\d{1,5})(?![\w-])",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"(?:(?<![\w+])(?:\+|00)\d{1,3}|(?<!\w)0\d{1,2}|\(\+?\d{1,3}\))[ \t.-]?\Z")
_TRAILING_GROUP = re.compile(r"\A[ .-]\d{2,6}(?![\w-])")


def extend_phones(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Grow each phone number over its extension, international prefix and the digit groups
    a national pattern left out."""
    for r in results:
        if r.entity_type != "PHONE_NUMBER":
            continue
        value = text[r.start : r.end]
        if not value.startswith(("+", "00", "(")):
            lead = _PREFIX.search(text[max(0, r.start - 6) : r.start])
            if lead:
                r.start -= len(lead.group())
        for _ in range(2):
            grow = _TRAILING_GROUP.match(text, r.end) or _EXTENSION.match(text[r.end : r.end + 30])
            if grow is None:
                break
            r.end += len(grow.group()) if grow.re is _EXTENSION else grow.end() - r.end
    return results
