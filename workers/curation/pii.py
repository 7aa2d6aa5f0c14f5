"""PII stage: Presidio finds entities, Winnow replaces them with typed placeholders that stay
consistent across a conversation (<PERSON_1> is one person in every message) and keeps only
the entity type, the placeholder and its offsets in the redacted text — never the value.

Presidio, spaCy and Winnow's recognizers (which build on Presidio's classes) are imported where
they are first needed: importing this module costs nothing until a screener analyses text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from workers.curation.types import Finding, PiiResult, Turn

K = TypeVar("K")

log = logging.getLogger("winnow.pii")
Action = Literal["redact", "reject"]

# What Winnow looks for by default. DATE_TIME, LOCATION, NRP and URL are left alone: a plain
# date, a city or a link is rarely personal on its own, and masking them ruins the text.
DEFAULT_ENTITIES = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "US_BANK_NUMBER",
    "UK_NHS",
    "CRYPTO",
    "MEDICAL_LICENSE",
    "STREET_ADDRESS",
)


SPACY_IGNORED = (
    "CARDINAL",
    "DATE",
    "EVENT",
    "FAC",
    "GPE",
    "LANGUAGE",
    "LAW",
    "LOC",
    "MONEY",
    "NORP",
    "ORDINAL",
    "ORG",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "TIME",
    "WORK_OF_ART",
    "MISC",
)


@dataclass(frozen=True)
class Span:
    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class PiiConfig:
    spacy_model: str | None = None  # None: Presidio's pattern recognizers only
    policy: Mapping[str, Action] = field(default_factory=dict)  # default: redact
    entities: tuple[str, ...] = DEFAULT_ENTITIES
    min_score: float = 0.4


def _offline_tldextract() -> None:
    """Presidio's email recognizer calls tldextract, which fetches the public suffix list on
    first use; use the copy bundled with tldextract instead (no network, no cache dir)."""
    import tldextract.tldextract as tx

    tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None)


def quiet_presidio() -> None:
    """Presidio's debug and info logs quote the text around what it finds; raw text must never
    reach a log line, whatever WINNOW_LOG_LEVEL says."""
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_analyzer(config: PiiConfig) -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from workers.curation.recognizers import (
        CardRecognizer,
        RegionalPhoneRecognizer,
        address_recognizer,
        phone_recognizer,
        street_line_recognizer,
    )

    _offline_tldextract()
    quiet_presidio()
    if config.spacy_model:
        # Only names come from NER; the other labels would be mapped, kept and logged.
        nlp_conf: dict[str, Any] = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": config.spacy_model}],
            "ner_model_configuration": {
                "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
                "labels_to_ignore": list(SPACY_IGNORED),
            },
        }
    else:
        nlp_conf = {
            "nlp_engine_name": "no_op",
            "models": [{"lang_code": "en", "model_name": "no_op"}],
        }
    nlp_engine = NlpEngineProvider(nlp_configuration=nlp_conf).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.remove_recognizer("PhoneRecognizer")  # replaced by RegionalPhoneRecognizer
    from workers.curation.context_recognizers import (
        AddressAfterTrigger,
        CardAfterTrigger,
        PhoneAfterTrigger,
    )
    from workers.curation.name_recognizer import (
        KnownNameRecognizer,
        RareNameRecognizer,
    )

    for recognizer in (
        address_recognizer(),
        street_line_recognizer(),
        phone_recognizer(),
        RegionalPhoneRecognizer(),
        CardRecognizer(),
        AddressAfterTrigger(),
        PhoneAfterTrigger(),
        RareNameRecognizer(),
        KnownNameRecognizer(),
        CardAfterTrigger(),
    ):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def name_context_recognizers() -> tuple[Any, ...]:
    """Names given away by the phrase before them. They run beside Presidio's analyzer, not in
    it: its de-duplication keeps the higher-scored of two equal spans and drops a span inside a
    longer one, and the NER span that wins ("Au nom de Marie Dubois") may then fail the
    name filters while this one ("Marie Dubois") would not."""
    from workers.curation.context_recognizers import (
        IntroductionRecognizer,
        NameAfterTrigger,
        VocativeRecognizer,
    )
    from workers.curation.name_recognizer import PersonContextRecognizer

    return (
        NameAfterTrigger(),
        IntroductionRecognizer(),
        VocativeRecognizer(),
        PersonContextRecognizer(),
    )


class PiiScreener:
    def __init__(self, config: PiiConfig) -> None:
        self.config = config
        self.analyzer = build_analyzer(config)
        self.name_recognizers = name_context_recognizers()
        self._local = threading.local()
        # spaCy and the recognizers are not promised to be safe to run in two threads at once
        # (the curation job analyses its next chunk in a thread while it screens this one):
        # one analysis at a time, whichever thread asks.
        self._analysing = threading.Lock()

    @property
    def entity_types(self) -> tuple[str, ...]:
        return self.config.entities

    def analyze(self, text: str) -> list[Span]:
        """Entities in `text`, overlaps resolved (longest, then highest score, wins)."""
        primed: dict[str, list[Span]] | None = getattr(self._local, "primed", None)
        if primed is not None and text in primed:
            return primed[text]
        if not text.strip():
            return []
        with self._analysing:
            return self._spans(text, self.analyzer.nlp_engine.process_text(text, "en"))

    def _spans(self, text: str, artifacts: Any) -> list[Span]:
        found = self.analyzer.analyze(
            text=text,
            language="en",
            entities=list(self.config.entities),
            score_threshold=self.config.min_score,
            nlp_artifacts=artifacts,
        )
        if "PERSON" in self.config.entities:
            for recognizer in self.name_recognizers:
                for r in recognizer.analyze(text, ["PERSON"], artifacts):
                    r.recognition_metadata = {"recognizer_name": recognizer.name}
                    found.append(r)
        return self._resolve(text, found, getattr(artifacts, "tokens", None))

    def analyse_all(self, texts: Sequence[str]) -> dict[str, list[Span]]:
        """Many texts analysed at once (spaCy's pipe batches them, ~1.5x faster than one by
        one), by text. Safe to call from any thread: `use` then makes them the answers."""
        todo = list(dict.fromkeys(t for t in texts if t.strip()))
        found: dict[str, list[Span]] = {}
        with self._analysing:
            batches = self.analyzer.nlp_engine.process_batch(todo, language="en", batch_size=32)
            for text, artifacts in batches:
                found[text] = self._spans(text, artifacts)
        return found

    def use(self, found: dict[str, list[Span]] | None) -> None:
        """`analyze` answers from these results (analyse_all's) in this thread; None: no
        more."""
        self._local.primed = found

    def prime(self, texts: Sequence[str]) -> None:
        """analyse_all, and its results used in this thread until `unprime`."""
        self.use(self.analyse_all(texts))

    def unprime(self) -> None:
        self.use(None)

    def screen_texts(self, texts: Mapping[K, str]) -> dict[K, str]:
        """Free text that arrived outside a conversation (a user's tweak, an annotator's
        correction), each screened on its own and batched: the redacted texts, without those
        the policy would reject."""
        self.prime(list(texts.values()))
        out = {}
        try:
            for key, text in texts.items():
                screened = self.screen([Turn("assistant", text)])
                if not screened.rejected_types:
                    out[key] = screened.turns[0].text
        finally:
            self.unprime()
        return out

    def _resolve(self, text: str, results: list[Any], doc: Any = None) -> list[Span]:
        from workers.curation.name_recognizer import list_siblings
        from workers.curation.recognizers import (
            extend_addresses,
            extend_phones,
            merge_addresses,
            plausible,
            same_names_again,
        )

        doc = doc if hasattr(doc, "ents") else None  # no_op engine: no Doc
        results = [r for r in results if plausible(text, r, doc)]
        results += [r for r in list_siblings(text, results) if plausible(text, r, doc)]
        results = extend_phones(text, merge_addresses(text, extend_addresses(text, results)))
        results += same_names_again(text, results)
        ordered = sorted(results, key=lambda r: (-(r.end - r.start), -r.score, r.start))
        kept: list[Span] = []
        for r in ordered:
            if all(r.end <= k.start or r.start >= k.end for k in kept):
                kept.append(Span(r.entity_type, r.start, r.end, float(r.score)))
        return sorted(kept, key=lambda s: s.start)

    def screen(self, turns: Sequence[Turn]) -> PiiResult:
        numbering: dict[tuple[str, str], str] = {}
        counters: dict[str, int] = {}
        redacted: list[Turn] = []
        findings: list[Finding] = []
        rejected: set[str] = set()
        found = everywhere([t.text for t in turns], [self.analyze(t.text) for t in turns])
        for index, turn in enumerate(turns):
            out: list[str] = []
            position = 0
            length = 0
            for span in found[index]:
                value = " ".join(turn.text[span.start : span.end].casefold().split())
                key = (span.entity_type, value)
                if key not in numbering:
                    counters[span.entity_type] = counters.get(span.entity_type, 0) + 1
                    numbering[key] = f"<{span.entity_type}_{counters[span.entity_type]}>"
                placeholder = numbering[key]
                before = turn.text[position : span.start]
                out.append(before)
                length += len(before)
                findings.append(
                    Finding(
                        span.entity_type,
                        index,
                        length,
                        length + len(placeholder),
                        placeholder,
                        span.score,
                    )
                )
                out.append(placeholder)
                length += len(placeholder)
                position = span.end
                if self.config.policy.get(span.entity_type) == "reject":
                    rejected.add(span.entity_type)
            out.append(turn.text[position:])
            redacted.append(Turn(turn.role, "".join(out)))
        return PiiResult(tuple(redacted), tuple(findings), tuple(sorted(rejected)))


def _same_name(occurrence: str, forms: set[str]) -> bool:
    """A name reaches only its own spelling or a capitalised one: "Merge" found once must not
    turn "merge" into a person."""
    return " ".join(occurrence.split()) in forms or occurrence[:1].isupper()


# What a lower-case word inside does not count as (a mailbox, a web address, a handle, a home
# folder: each names a person's account, not a program).
_ACCOUNTS = re.compile(
    r"\S+@\S+|\bhttps?://\S+|(?<!\w)@\w+|(?:/home/|/Users/|\\Users\\)[\w.-]+", re.IGNORECASE
)


def used_as_a_word(texts: Sequence[str], spans: Sequence[list[Span]]) -> set[str]:
    """One-word PERSON values that the conversation also writes in lower case, standing alone
    ("Hugo" beside `hugo server`, "Syncthing" beside ~/.config/syncthing): a program, a
    command or a product, not a person. Not for a common English word ("Will" beside "will"
    says nothing) nor in text written without capitals."""
    from workers.curation.name_recognizer import mostly_lower_case
    from workers.curation.recognizers import english_word

    candidates = {
        text[s.start : s.end]
        for text, found in zip(texts, spans, strict=True)
        for s in found
        if s.entity_type == "PERSON" and text[s.start : s.end].isalpha()
        and text[s.start : s.end][:1].isupper() and len(text[s.start : s.end]) >= 3
    }
    candidates = {c for c in candidates if not english_word(c)}
    if not candidates:
        return set()
    plain = [_ACCOUNTS.sub(" ", t) for t in texts if not mostly_lower_case(t)]
    return {
        c.casefold() for c in candidates
        if any(re.search(rf"(?<![\w'\u2019-]){re.escape(c.lower())}(?![\w'\u2019-])", t)
               for t in plain)
    }


def everywhere(texts: Sequence[str], spans: Sequence[list[Span]]) -> list[list[Span]]:
    """A value found in one message is masked wherever else it occurs in the conversation
    (any case, any spacing): a name the recognizers caught in the user's message stays hidden
    when the assistant's reply quotes it in a context they would miss. A one-word name the
    conversation also uses as a lower-case word (`used_as_a_word`) is dropped first."""
    things = used_as_a_word(texts, spans)
    if things:
        spans = [
            [s for s in found if not (
                s.entity_type == "PERSON" and text[s.start : s.end].casefold() in things
            )]
            for text, found in zip(texts, spans, strict=True)
        ]
    kinds: dict[str, str] = {}
    forms: dict[str, set[str]] = {}  # a name's spellings as found
    for text, found in zip(texts, spans, strict=True):
        for s in found:
            value = " ".join(text[s.start : s.end].casefold().split())
            if len(value) >= 3:
                kinds.setdefault(value, s.entity_type)
                forms.setdefault(value, set()).add(" ".join(text[s.start : s.end].split()))
    if not kinds:
        return [list(found) for found in spans]
    alternatives = (r"\s+".join(map(re.escape, v.split())) for v in sorted(kinds, key=len)[::-1])
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    out = []
    for text, found in zip(texts, spans, strict=True):
        extra = []
        for m in pattern.finditer(text):
            value = " ".join(m.group().casefold().split())
            kind = kinds.get(value)
            if kind == "PERSON" and not _same_name(m.group(), forms[value]):
                continue
            if kind and not any(s.start < m.end() and m.start() < s.end for s in found):
                extra.append(Span(kind, m.start(), m.end(), 0.5))
        out.append(sorted([*found, *extra], key=lambda s: s.start))
    return out
