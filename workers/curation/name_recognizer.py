"""Names that NER models miss: runs of capitalised words of which at least one is rare in
English (word frequencies from `wordfreq`). A small English NER model knows "John Smith" but
not "Tomomi Nishiyama" or "Faina D. Yefremova"; a word that almost never occurs in English
text, capitalised next to another capitalised word, is very likely part of a name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
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


class _PersonRecognizer(EntityRecognizer):
    """A recognizer of English names that needs no model to load."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"],
            name=f"Winnow{type(self).__name__}",
            supported_language="en",
        )

    def load(self) -> None:
        pass


class RareNameRecognizer(_PersonRecognizer):
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- known first names ------------------------------------------------------------------------
# US Census 1990 first names (public domain; shipped by the `names` package). Single given names
# ("Megan lives on...", "said Maurice") are what a small NER model misses most.

# Census first names that are also lower-case English words (those in Debian's wamerican word
# list): accepted only mid-sentence, where the capital letter says "name".
AMBIGUOUS = _words(
    "abbey aide aline alpha amber angel angelic angle art august aura autumn barb barney "
    "basil beau bee bell belle berry beryl bill billy birdie blanch blossom bob bobby bong "
    "bonnie bonny brad brain brandy brook brooks buck bud buddy bunny buster camellia candy "
    "caprice carmine carol carry celesta chad chance charity chase chastity cherish cherry "
    "chi chin china christen chuck clay clement cliff colleen conception coral coy crystal "
    "curt dahlia daisy dale dawn dean deb dell delta derrick desire destiny diamond dick "
    "dimple dirk dolly don dot dotty drew dung dusty earl earnest ebony echo eddy else "
    "emerald emery era ester eve fairy faith fanny fawn fern flora forest foster frank "
    "freeman gala gale garland garnet garret gay gene genesis genie ginger glen glory golden "
    "grace grant guy hang hank harmony harry hazel heath heather hector herb holly homer "
    "honey hope hue hung hunter hyacinth iris ivory ivy jack jade jarred jasmine jasper jay "
    "jewel jimmy john josh joy julienne junior karma ken king kit kitty lacy lady lance lane "
    "laurel lea lean lee liberty lien lily loan long lore love magnolia major man manual many "
    "maple margarita maria marina marine mark marlin marquis marry martin marvel mason matt "
    "max maxima may meg melody mercy merry meta mica mickey mike miles min miss misty moon "
    "myrtle newton nick noble noel nova novella numbers olive omega opal page pansy pasty pat "
    "patience patsy patty pearl pearly peg penny peter phoebe ping pinkie piper porter "
    "precious prince princess prudence queen randy raven ray reed rhea rich rick rob robin "
    "rocky rod roger romaine roman rose rosemary rosette rosy royal ruby rusty sage sally "
    "sandy sang sari savanna savannah scarlet season see shad sherry shin sibyl sierra sol "
    "son song sonny soon sparkle spring star sterling stormy sue summer sun sung sunny "
    "sunshine tad tam tanner tawny temple tequila terry tiara tiny tom tony trinity troy "
    "valentine van velvet victor viola violet viva wade waldo walker wan ward warren wen will "
    "willow windy winter yen yon young yuk"
)
# Never a name on their own, capital letter or not: frequent words, months, places, brands.
NEVER_ALONE = _words(
    "will may june august april miss many long see man love son sun moon star young major "
    "king queen prince princess lady page spring summer winter autumn season hope grace "
    "faith joy mercy patience chance charity liberty trinity genesis golden royal noble rich "
    "sterling earnest precious tiny lean junior numbers manual else era desire marry carry "
    "brain angle hang loan lore ping sang sung soon yon hue wan wen min shin chin chi "
    "america asia china france india israel kenya nevada georgia virginia carolina dakota "
    "paris dallas denver houston austin orlando cleveland sydney trenton alberta mercedes "
    "porsche alexa dell eden augusta monday tuesday wednesday thursday friday saturday "
    "sunday january february march july september october november december florida "
    "christian irish chia dia venice"
)
_NAME_TOKEN = re.compile(r"(?<![\w@./\\-])(?:[A-Z][a-z]{2,}|[a-z]{3,})(?![\w@/\\-])")
_PLACE_BEFORE = re.compile(
    r"\b(?:San|Santa|Santo|São|St\.?|Saint|Fort|Port|Lake|Mount|Mt\.?)[ \t]+$"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"'()\[\]>*#-]\s*|\n\s*)$")


@lru_cache(maxsize=1)
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), lower case. Surnames: the 40,000 most frequent."""
    data = files("names")

    def column(name: str, limit: int | None = None) -> list[str]:
        lines = data.joinpath(name).read_text(encoding="ascii").splitlines()
        return [ln.split()[0].lower() for ln in lines[:limit] if ln.strip()]

    first = frozenset(column("dist.male.first") + column("dist.female.first"))
    last = frozenset(column("dist.all.last", 40_000))
    return first, last


@lru_cache(maxsize=64)
def mostly_lower_case(text: str) -> bool:
    """A writer who never uses capitals: case says nothing about names there. (Asked by
    several recognizers of the same text, hence the small cache.)"""
    letters = sum(map(str.isalpha, text))
    return letters >= 20 and sum(map(str.isupper, text)) <= letters * 0.01


class KnownNameRecognizer(_PersonRecognizer):
    """A census first name, with the surname or rare word next to it ("Zoe Young", "Cormac
    Allan"). Lower-case names count only in text written without capitals."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        first, last = census_names()
        lower_ok = mostly_lower_case(text)
        tokens = list(_NAME_TOKEN.finditer(text))
        results = []
        for i, m in enumerate(tokens):
            word = m.group()
            low = word.lower()
            if low not in first or low in NEVER_ALONE or (word.islower() and not lower_ok):
                continue
            start, end = m.start(), m.end()
            if _PLACE_BEFORE.search(text[max(0, start - 7) : start]):
                continue  # "San Diego", "Fort William", "Lake Louise"
            if low in AMBIGUOUS and (
                word.islower() or _SENTENCE_START.search(text[max(0, start - 3) : start])
            ):
                continue
            if i > 0:  # "Cormac Allan": a rare capitalised word just before
                prev = tokens[i - 1]
                if (
                    _adjacent(text, prev.end(), start)
                    and _name_like(prev.group(), lower_ok)
                    and (zipf(prev.group()) < RARE or prev.group().lower() in first)
                ):
                    start = prev.start()
            for nxt in tokens[i + 1 : i + 3]:  # "Zoe Young", "Megan Alice Brown"
                w = nxt.group()
                if not (_adjacent(text, end, nxt.start()) and _name_like(w, lower_ok)):
                    break
                if w.lower() not in last and w.lower() not in first and zipf(w) >= RARE:
                    break
                end = nxt.end()
            if low in AMBIGUOUS and (start, end) == m.span():
                continue  # "Sparkle", "Ruby", "Christian" alone: a word as often as a name
            results.append(RecognizerResult("PERSON", start, end, 0.5))
        return results


def _adjacent(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return 0 < len(gap) <= 3 and not gap.strip(" .")  # "Faina D. Yefremova" via initials


def _name_like(word: str, lower_ok: bool) -> bool:
    return word[0].isupper() or lower_ok


# --- names given away by what is around them -------------------------------------------------
_CAPW = r"[A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻŹĆŃ][a-zà-öø-ÿā-žłśżźćńőű'\u2019-]+"
_ONE_OR_TWO = rf"{_CAPW}(?:[ \t]+{_CAPW})?"
# "Enrico shouted at", "Vsevolod is very reliable", "said Erle to", "Mourik began writing".
_AROUND = re.compile(
    rf"(?:\b(?:said|asked|told|shouted at|yelled at|replied to|whispered to|spoke to|talked to"
    rf"|married|thanked|texted|emailed|heard|ex-\w+)[ \t]+(?P<after>{_ONE_OR_TWO})\b)"
    rf"|(?:(?<![\w-])(?P<before>{_ONE_OR_TWO})[ \t]+(?:lives|lived|began writing|said|says"
    rf"|shouted|yelled|asked|told|replied|whispered|had given|speaks|spoke)\b)"
)
# Speaker labels of a written dialogue: "Leverett: What a wife." on two or more lines.
_SPEAKER = re.compile(rf"^[ \t>]*(?P<name>{_CAPW})[ \t]*:", re.MULTILINE)
NOT_SPEAKERS = _words(
    "user assistant human system bot ai gpt chatgpt model question answer note input output "
    "example examples context task prompt response reply summary title subject date time "
    "source sources update edit warning error info tip step result results reason code text "
    "name email phone address location status total price q a mobile desk fax tel telephone "
    "cell work home office web website url company title position department"
)


class PersonContextRecognizer(_PersonRecognizer):
    """Capitalised words that act like people: they say, shout, live somewhere; or speak in a
    written dialogue. Words common in English are left alone."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        results = []
        for m in _AROUND.finditer(text):
            group = "after" if m.group("after") else "before"
            start, end = m.span(group)
            words = m.group(group).split()
            while words and zipf(words[0]) >= COMMON:  # "Then Erle said" -> "Erle"
                start += len(words[0]) + 1
                words.pop(0)
            if words and all(zipf(w) < COMMON for w in words):
                results.append(RecognizerResult("PERSON", start, end, 0.45))
        first, last = census_names()
        speakers = [
            m
            for m in _SPEAKER.finditer(text)
            if m.group("name").lower() not in NOT_SPEAKERS
            and (
                m.group("name").lower() in first
                or m.group("name").lower() in last
                or zipf(m.group("name")) < RARE
            )
        ]
        names = {m.group("name") for m in speakers}
        if len(names) >= 2 and any(n.lower() in first for n in names):
            results += [RecognizerResult("PERSON", *m.span("name"), 0.45) for m in speakers]
        return results


LIST = _LIST = re.compile(
    rf"{_CAPW}(?:[ \t]*,[ \t]*{_CAPW}){{0,8}}[ \t]*,?[ \t]+(?:and|&|or)[ \t]+{_CAPW}"
)
_LIST_LOWER = re.compile(
    r"[a-z]{3,}(?:[ \t]*,[ \t]*[a-z]{3,}){1,8}[ \t]*,?[ \t]+(?:and|or)[ \t]+[a-z]{3,}"
)


def list_siblings(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """ "Morrison, Rogers and Torres": once one item of a list of single words is a name, the
    others (not common English words) are names too."""
    people = [(r.start, r.end) for r in results if r.entity_type == "PERSON"]
    if not people:
        return []
    first, last = census_names()
    found = []
    pattern = _LIST_LOWER if mostly_lower_case(text) else _LIST
    for m in pattern.finditer(text):
        items = [
            w
            for w in re.finditer(r"[^\W\d_][\w'\u2019-]*", m.group())
            if w.group() not in ("and", "or")
        ]
        spans = [(m.start() + w.start(), m.start() + w.end(), w.group()) for w in items]
        if not any(s < e2 and s2 < e for s, e, _ in spans for s2, e2 in people):
            continue
        for s, e, w in spans:
            if any(s < e2 and s2 < e for s2, e2 in people):
                continue
            if zipf(w) < RARE or w.lower() in first or w.lower() in last:
                found.append(RecognizerResult("PERSON", s, e, 0.45))
    return found
