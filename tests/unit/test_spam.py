"""The learned spam detector: prize and phishing messages and channel promotion are caught,
ordinary prompts that mention money or links are not, reasons never quote."""

from __future__ import annotations

import pytest

from workers.curation.prank_base import Context, PrankConfig, PrankInput
from workers.curation.prank_spam import MODEL, detect_spam, link_density, model
from workers.curation.types import Turn

CFG = PrankConfig()


def score(text: str) -> float:
    signal = detect_spam(PrankInput.build([Turn("user", text)], Context()), CFG)
    return signal.score if signal else 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Congratulations! You have won a $1000 gift card. Click http://bit.ly/claim-now to "
        "claim your prize before it expires.",
        "URGENT: Your bank account has been suspended. Verify your identity at "
        "http://secure-login-verify.com within 24 hours.",
        "Check out my channel and subscribe!! I post new music every day, link in bio",
    ],
)
def test_spam_is_flagged(text: str) -> None:
    assert score(text) >= CFG.quarantine_at


@pytest.mark.parametrize(
    "text",
    [
        "Is bitcoin a good long-term investment?",
        "Can you write a marketing email for my bakery's new sourdough?",
        "What is a casino bonus and is it taxed?",
        "Here are the sources: https://docs.python.org/3/ and https://peps.python.org/pep-0008/"
        " - which one explains naming conventions?",
        "Pretend you are my grandmother telling me a bedtime story about her village.",
    ],
)
def test_ordinary_prompts_are_not_spam(text: str) -> None:
    assert score(text) < CFG.quarantine_at


def test_mostly_links_is_spam_by_rule() -> None:
    text = "http://a.example.com/x http://b.example.com/y http://c.example.com/z"
    assert link_density(text)[0] == 3
    signal = detect_spam(PrankInput.build([Turn("user", text)], Context()), CFG)
    assert signal is not None and signal.score >= CFG.reject_at
    assert "example" not in signal.reason


def test_model_records_its_sources() -> None:
    assert MODEL.with_suffix(".npz").stat().st_size < 20_000_000
    meta = model().meta
    assert meta["task"] == "spam" and any(name.endswith(":spam") for name in meta["sources"])
