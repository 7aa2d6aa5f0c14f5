"""A seeded multilingual PII evaluation set: Faker's values for ten locales in hand-written
support-chat templates (workers/curation/data/pii/multilingual_templates.json), with gold
spans in the shape of presidio-research's synthetic set. The templates and locales are not
used by any recognizer; the set measures formats and phrasings, not the shared set's fit.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from importlib.resources import files
from typing import Any

LOCALES = {
    "en_US": "en",
    "en_GB": "en",
    "en_IN": "en",
    "de_DE": "de",
    "fr_FR": "fr",
    "es_ES": "es",
    "it_IT": "it",
    "nl_NL": "nl",
    "pt_BR": "pt",
    "pt_PT": "pt",
}
REGION = {"US": "1", "GB": "44", "IN": "91", "DE": "49", "FR": "33", "ES": "34", "IT": "39"}
REGION |= {"NL": "31", "BR": "55", "PT": "351"}
FIELD = re.compile(r"\{(\w+)\}")
KINDS = {
    "first": "PERSON",
    "name": "PERSON",
    "phone": "PHONE_NUMBER",
    "phone_ext": "PHONE_NUMBER",
    "phone_intl": "PHONE_NUMBER",
    "address": "STREET_ADDRESS",
    "street": "STREET_ADDRESS",
    "email": "EMAIL_ADDRESS",
    "iban": "IBAN_CODE",
}


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    path = files("workers.curation").joinpath("data/pii/multilingual_templates.json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _value(fake: Any, field: str, locale: str, rng: random.Random) -> str:
    lang = LOCALES[locale]
    if field == "first":
        return str(fake.first_name())
    if field == "name":
        return f"{fake.first_name()} {fake.last_name()}"
    if field == "phone":
        return str(fake.phone_number())
    if field == "phone_ext":
        word = rng.choice(templates()["ext"][lang])
        return f"{fake.phone_number()} {word}{rng.randint(1, 9999)}".replace(" -", "-")
    if field == "phone_intl":
        digits = re.sub(r"\D", "", str(fake.msisdn()))[-9:]
        return f"00{REGION[locale[-2:]]} {digits[:3]} {digits[3:6]} {digits[6:]}"
    if field == "address":
        return str(fake.address())
    if field == "street":
        return str(fake.street_address()).replace("\n", ", ")
    if field == "email":
        return str(fake.email())
    if field == "iban":  # India has no IBAN (Faker's en_IN one is a malformed GB one)
        return str(fake.iban() if locale != "en_IN" else _gb(rng).iban())
    raise KeyError(field)


def _gb(rng: random.Random) -> Any:
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(rng.randrange(2**32))
    return fake


def generate(per_template: int = 3, seed: int = 13) -> list[dict[str, Any]]:
    """Records {full_text, spans: [{entity_type, entity_value, start_position,
    end_position}], locale}; the same seed gives the same set."""
    from faker import Faker

    rng = random.Random(seed)
    records = []
    for locale, lang in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**32))
        for template in templates()[lang]:
            for _ in range(per_template):
                records.append(_fill(template, fake, locale, rng))
    return records


def _fill(template: str, fake: Any, locale: str, rng: random.Random) -> dict[str, Any]:
    out: list[str] = []
    spans = []
    position = 0
    length = 0
    for m in FIELD.finditer(template):
        before = template[position : m.start()]
        out.append(before)
        length += len(before)
        value = _value(fake, m.group(1), locale, rng)
        spans.append(
            {
                "entity_type": KINDS[m.group(1)],
                "entity_value": value,
                "start_position": length,
                "end_position": length + len(value),
            }
        )
        out.append(value)
        length += len(value)
        position = m.end()
    out.append(template[position:])
    return {"full_text": "".join(out), "spans": spans, "locale": locale}
