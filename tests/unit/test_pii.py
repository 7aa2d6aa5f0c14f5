"""The PII stage on hand-written chat text: what must be masked, what must be left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.curation.pii import PiiConfig, PiiScreener
from workers.curation.runtime import spacy_model_name
from workers.curation.types import Turn

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def screener() -> PiiScreener:
    return PiiScreener(PiiConfig(spacy_model=spacy_model_name("auto")))


@pytest.fixture(scope="module")
def patterns_only() -> PiiScreener:
    return PiiScreener(PiiConfig(spacy_model=None, policy={"US_SSN": "reject"}))


def redact(screener: PiiScreener, text: str) -> str:
    return screener.screen([Turn("user", text)]).turns[0].text


@pytest.mark.parametrize(
    "text, secret, kind",
    [
        ("my card is 4111 1111 1111 1111, expiring soon", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("call me at (212) 555-0143 ext. 12 after six", "555-0143", "PHONE_NUMBER"),
        ("Phone:\n467 3395", "467 3395", "PHONE_NUMBER"),
        ("write to olivia.hart@example.org", "olivia.hart@example.org", "EMAIL_ADDRESS"),
        ("my SSN is 536-22-8726", "536-22-8726", "US_SSN"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00", "IBAN_CODE"),
        ("the server is at 10.20.30.40", "10.20.30.40", "IP_ADDRESS"),
        ("I live at 42 Baker Street, London NW1 6XE", "42 Baker Street", "STREET_ADDRESS"),
        ("ship it to\n20789 Allika 46\nSuite 501\nRiisa", "Allika 46", "STREET_ADDRESS"),
        ("My name is Tomomi Nishiyama and I need help", "Nishiyama", "PERSON"),
        ("The film was directed by Faina D. Yefremova in 1998", "Yefremova", "PERSON"),
        ("Megan moved out last week and took the cat.", "Megan", "PERSON"),
        ("i'm so jealous! said Vsevolod to his brother", "Vsevolod", "PERSON"),
        (
            "we met at the corner of Dalbraut 99 and Frederikke Coves",
            "Dalbraut 99",
            "STREET_ADDRESS",
        ),
        ("they had three: Morrison, Rogers and Torres", "Torres", "PERSON"),
        ("Leverett: What a wife.\nDanielle: Remember me?", "Leverett", "PERSON"),
        ("my name is borna jerkovic but everyone calls me borna, ok", "borna", "PERSON"),
        (
            "It is 50475 216 Karaiskaki Sq Suite 199\nBEZIERS\n, LN\n France 79248",
            "79248",
            "STREET_ADDRESS",
        ),
    ],
)
def test_masks_pii_in_chat_text(screener: PiiScreener, text: str, secret: str, kind: str) -> None:
    out = redact(screener, text)
    assert secret not in out, out
    assert f"<{kind}_1>" in out, out


@pytest.mark.parametrize(
    "text",
    [
        "def main():\n    path = '/usr/lib/x86_64-linux-gnu'\n    version = '3.8.0'\n",
        "print(4111 + 1111 * 2)",
        "The meeting is on March 3, 2024 at 10:30.",
        "Order 5521 shipped; tracking id 550e8400-e29b-41d4-a716-446655440000.",
        'Traceback (most recent call last):\n  File "/home/app/main.py", line 12, in <module>',
        "How do I kill a Python process on Linux?",
        "Version 2.10.3 fixed the bug in line 204 of utils.py.",
        "Will you grant me access? May I ask why it is slower than Crystal?",
        "I moved to San Diego in June and work on Sparkle, our design system.",
        "Squats: 3 sets of 8\nDeadlifts: 3 sets of 5\nRows: 3 sets of 10",
        "Chorus:\nWe sing along\nBridge:\nWe fade away",
        "Click the icon in the corner of the screen and then press Save.",
    ],
)
def test_leaves_code_dates_and_paths_alone(screener: PiiScreener, text: str) -> None:
    assert redact(screener, text) == text


def test_placeholders_are_consistent_across_turns(screener: PiiScreener) -> None:
    result = screener.screen(
        [
            Turn("user", "I'm Maria Gonzalez, mail maria.g@example.com or anna@example.com"),
            Turn("assistant", "Thanks Maria Gonzalez, I wrote to maria.g@example.com."),
        ]
    )
    first, second = (t.text for t in result.turns)
    assert "<PERSON_1>" in first and "<PERSON_1>" in second
    assert "<EMAIL_ADDRESS_1>" in first and "<EMAIL_ADDRESS_1>" in second
    assert "<EMAIL_ADDRESS_2>" in first and "<EMAIL_ADDRESS_2>" not in second
    for f in result.findings:
        text = result.turns[f.turn].text
        assert text[f.start : f.end] == f.placeholder
    assert "maria" not in repr(result.findings).casefold()


def test_reject_policy_and_pattern_only_mode(patterns_only: PiiScreener) -> None:
    result = patterns_only.screen([Turn("user", "SSN 536-22-8726, mail a@example.com")])
    assert result.rejected_types == ("US_SSN",)
    assert "536-22-8726" not in result.turns[0].text
    clean = patterns_only.screen([Turn("user", "mail a@example.com")])
    assert clean.rejected_types == () and "<EMAIL_ADDRESS_1>" in clean.turns[0].text


def test_hostile_input_finishes(patterns_only: PiiScreener) -> None:
    hostile = "1 " * 20_000 + "a" * 30_000 + " Street" + "\n," * 5_000
    assert redact(patterns_only, hostile)  # linear-time patterns: this returns


def test_corpus_regression_floor(screener: PiiScreener) -> None:
    """The issue's targets, on the half of the corpus no rule was tuned on (see
    docs/curation.md for the figures on both halves)."""
    from workers.evaluation.pii import evaluate

    if not (DATA / "pii-presidio-synth").is_dir():
        pytest.skip("../shared/data/pii-presidio-synth is absent")
    if screener.config.spacy_model is None:
        pytest.skip("no spaCy English pipeline installed (the `ner` extra)")
    r = evaluate(DATA, screener, subset="holdout")
    for kind in ("EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "US_SSN"):
        assert r["per_type"][kind]["recall"] >= 0.95
    assert r["per_type"]["PHONE_NUMBER"]["recall"] >= 0.95
    assert r["per_type"]["CREDIT_CARD"]["recall"] >= 0.95
    assert r["per_type"]["PERSON"]["recall"] >= 0.85
    assert r["street_address_chars"]["char_recall"] >= 0.80
    assert r["precision"]["precision"] >= 0.90


def test_a_value_found_once_is_masked_in_every_message(screener: PiiScreener) -> None:
    # Lower-case names count only in text written without capitals; the assistant's reply
    # (with capitals) quotes the name where the recognizers would not see it alone.
    result = screener.screen(
        [
            Turn("user", "follow up with patricia desrosiers in a couple of months."),
            Turn("assistant", "Thanks, noted: follow up with patricia desrosiers soon."),
        ]
    )
    for turn in result.turns:
        assert "desrosiers" not in turn.text, turn.text
        assert "<PERSON_1>" in turn.text
