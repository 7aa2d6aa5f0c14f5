"""The PII stage on text unlike the shared synthetic set (issue 13): words that are not
people, names in greetings and other languages, national phone and address formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workers.curation.pii import PiiConfig, PiiScreener, Span, everywhere
from workers.curation.runtime import spacy_model_name
from workers.curation.types import Turn

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def screener() -> PiiScreener:
    return PiiScreener(PiiConfig(spacy_model=spacy_model_name("auto")))


def redact(screener: PiiScreener, text: str) -> str:
    return screener.screen([Turn("user", text)]).turns[0].text


@pytest.mark.parametrize(
    "text",
    [
        "Refresh the page, then open Settings and click Schedule.",
        "Merge is available to admins. Can I merge reports?",
        "We sign in with Okta and build the image with Docker.",
        "DeprecationWarning: datetime.utcnow() is deprecated; PyCharm shows it too.",
        "Our backup site is near Rotterdam.",
        "Choose Weekly, set the day and click Save.",
        "Open Billing History to see the invoices.",
        "The interface is available in English, German, French and Dutch.",
        "- name: Install packages\n  apt:\n    name: [nginx]",
        "Write to support@example.com or clone git@github.com:acme/app.git.",
        "Das Paket ist angekommen. Vielen Dank!",
        "Hi Team, the build is green.",
    ],
)
def test_words_that_are_not_people_stay(screener: PiiScreener, text: str) -> None:
    assert redact(screener, text) == text


def test_a_name_reaches_only_capitalised_occurrences() -> None:
    texts = ["Ask Merge about it.", "Can I merge reports? Merge said yes."]
    spans = [[Span("PERSON", 4, 9, 0.8)], []]
    found = everywhere(texts, spans)
    assert [texts[1][s.start : s.end] for s in found[1]] == ["Merge"]


@pytest.mark.parametrize(
    "text, name",
    [
        ("Thanks, Sian", "Sian"),
        ("Sorry about that, Jemma. The refund is on its way.", "Jemma"),
        ("Cheers,\nJemma", "Jemma"),
        ("Best,\nJordan Blake", "Blake"),
        ("Hi Sian, your ticket is escalated.", "Sian"),
        ("Mrs. Baker called again.", "Baker"),
        ("Au nom de Marie Dubois, je vous remercie.", "Dubois"),
        ("Hallo, ich bin Jonas und habe eine Frage.", "Jonas"),
        ("Me llamo Ana Sofía Sancho y no puedo entrar.", "Sancho"),
        ("Mi chiamo Giulia Rossi e non riesco ad accedere.", "Rossi"),
        ("Ik ben Daan en ik heb een vraag.", "Daan"),
        ("Meu nome é João dos Santos e preciso de ajuda.", "João"),
        ("Mit freundlichen Grüßen\nHeidelinde Krause", "Krause"),
        ("Hallo Frau Keller, danke.", "Keller"),
    ],
)
def test_names_in_greetings_and_introductions(screener: PiiScreener, text: str, name: str) -> None:
    out = redact(screener, text)
    assert name not in out and "<PERSON_1>" in out, out


@pytest.mark.parametrize(
    "text, number",
    [
        ("call 001-507-843-9150x00806 now", "001-507-843-9150x00806"),
        ("my number is 538.455.9309x72191", "538.455.9309x72191"),
        ("Office: +44 20 7946 0958 ext. 12, mornings.", "+44 20 7946 0958 ext. 12"),
        ("Vous pouvez me joindre au 01 55 66 90 74 poste 12.", "01 55 66 90 74 poste 12"),
        ("Sie erreichen mich unter 030 1234567 Durchwahl 89.", "030 1234567 Durchwahl 89"),
        ("Bel alstublieft 0031 612 345 678.", "0031 612 345 678"),
    ],
)
def test_phone_numbers_are_masked_whole(screener: PiiScreener, text: str, number: str) -> None:
    out = redact(screener, text)
    assert out == text.replace(number, "<PHONE_NUMBER_1>"), out


def test_a_us_phone_number_is_no_nhs_number(screener: PiiScreener) -> None:
    # 4155550199 passes the NHS mod-11 checksum; without NHS context it is a phone number.
    assert [s.entity_type for s in screener.analyze("Call 415-555-0199 today")] == ["PHONE_NUMBER"]
    assert [s.entity_type for s in screener.analyze("My NHS number is 943 476 5919.")] == ["UK_NHS"]


@pytest.mark.parametrize(
    "address",
    [
        "12 Baker Street, London NW1 6XE",
        "250 Jones Ferry",
        "Hauptstraße 5, 10115 Berlin",
        "Willy-Brandt-Ring 59-83, 50667 Köln",
        "Via Roma 10, 00184 Roma",
        "12, rue de la Paix\n75002 Paris",
        "Calle Mayor 5, 28013 Madrid",
        "Kerkstraat 12\n1017 GC\nAmsterdam",
        "Rua das Flores, 123\n01001-000 São Paulo / SP",
        "H.No. 17, Sodhi Chowk\nBhagalpur-706690",
        "Studio 88\nBuckley Bridge\nStewartshire\nRM94 3AN",
    ],
)
def test_street_addresses_are_one_span(screener: PiiScreener, address: str) -> None:
    out = redact(screener, f"Please send it to {address}")
    assert out == "Please send it to <STREET_ADDRESS_1>", out


def test_multilingual_set_is_seeded_and_its_gold_points_at_values() -> None:
    from workers.evaluation.pii_multilingual import LOCALES, generate

    records = generate(per_template=1)
    assert records == generate(per_template=1)
    assert {r["locale"] for r in records} == set(LOCALES)
    for r in records:
        for g in r["spans"]:
            assert r["full_text"][g["start_position"] : g["end_position"]] == g["entity_value"]


def test_generalisation_floor(screener: PiiScreener) -> None:
    """The issue's targets on the multilingual set and the benign corpus without names."""
    from workers.evaluation.pii import benign, score
    from workers.evaluation.pii_multilingual import generate

    if screener.config.spacy_model is None:
        pytest.skip("no spaCy English pipeline installed (the `ner` extra)")
    r = score(generate(per_template=2, seed=7), screener)
    for kind in ("EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER"):
        assert r["per_type"][kind]["recall"] >= 0.97, kind
    assert r["per_type"]["PERSON"]["recall"] >= 0.90
    assert r["street_address_chars"]["char_recall"] >= 0.85
    assert r["street_address_whole"]["whole"] >= 0.70
    sets = benign(DATA, screener)
    clean = sets["benign_no_names"]
    assert clean["with_placeholder"]["share"] <= 0.02
    # Public help docs: 9.55 false placeholders per 1,000 words before `used_as_a_word`, 4.3
    # after; the 0.2 is not met (docs/curation.md). This bound keeps what was gained.
    assert sets["benign_help_docs"]["placeholders_per_1000_words"]["per_1000"] <= 5.0
    assert not re.search(r"\d", str(clean["placeholders_by_type"].get("STREET_ADDRESS", "")))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hello, this is Dr. Kyle Kuefer. Who are you?", True),
        ("HiSian, the report is attached.", True),
        ("Dear Mr.Okafor, thank you for writing.", True),
        ("Thanks,\nJemma", True),
        ("Hallo, ich bin Jonas und komme aus Köln.", True),
        ("Bonjour, je m'appelle Claire Dubois.", True),
        ("Olá, sou João e moro no Porto.", True),
        ("Refresh the page and click Merge.", False),
    ],
)
def test_phrase_prefilter_changes_no_finding(
    text: str, named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Phrases of a language whose first word is absent are skipped: the findings are those of
    every pattern run on the text."""
    from workers.curation import context_recognizers as cr

    rec = cr.IntroductionRecognizer()
    fast = [(r.start, r.end) for r in rec.analyze(text, ["PERSON"])]
    assert bool(fast) == named
    monkeypatch.setattr(cr._Phrases, "may_match", lambda self, words, glued: True)
    assert fast == [(r.start, r.end) for r in rec.analyze(text, ["PERSON"])]


def test_a_name_the_conversation_uses_as_a_command_is_a_program(screener: PiiScreener) -> None:
    turns = [
        Turn("user", "How do I preview drafts in Hugo?"),
        Turn("assistant", "By default, Hugo does not publish drafts. Run hugo server -D."),
    ]
    out = screener.screen(turns)
    assert not out.findings, [t.text for t in out.turns]


@pytest.mark.parametrize(
    "turns",
    [
        # the lower-case spelling is only a mailbox, a handle or a home folder: still a person
        ["Hi, I'm Hugo. Write to hugo@example.org if the upload fails again."],
        ["Hugo Lindqvist asked for the export; his account is @hugo on the forum."],
        ["Hugo Lindqvist keeps the backups in /home/hugo/archive on the old server."],
    ],
)
def test_an_account_spelled_in_lower_case_keeps_the_name_masked(
    screener: PiiScreener, turns: list[str]
) -> None:
    out = screener.screen([Turn("user", t) for t in turns])
    assert "Hugo" not in " ".join(t.text for t in out.turns)
