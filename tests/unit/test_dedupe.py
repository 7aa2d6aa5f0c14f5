"""Dedupe, the pure part and the in-memory index: copies merge, reorderings do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.curation.dedupe import DedupeConfig, exact_key, is_copy, normalize
from workers.curation.dedupe_index import MemoryDedupeIndex

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CONFIG = DedupeConfig()
TEXT = (
    "user: My laptop fan is very loud when I play games, and the case gets hot. Is it "
    "safe to keep playing, or should I clean the vents first?"
)


def test_normalize_keeps_placeholders_and_drops_noise() -> None:
    assert normalize("Hello,   <PERSON_1>!!\nHOW are you?") == "hello <person_1> how are you"
    assert exact_key("Hi  there!") == exact_key("hi there")


@pytest.mark.parametrize(
    "copy",
    [
        TEXT.upper(),
        TEXT.replace(" ", "  ").replace(",", ""),
        TEXT.replace("laptop", "lpatop").replace("games", "gmaes"),
        TEXT.replace("vents", "air vents"),
    ],
)
def test_copies_merge(copy: str) -> None:
    assert is_copy(normalize(TEXT), normalize(copy), CONFIG)[0]


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "Flights from Oslo to Rome leave every Monday at nine in the morning.",
            "Flights from Rome to Oslo leave every Monday at nine in the morning.",
        ),
        (
            "The 2010 season was won by Ferrari, ahead of the Red Bull team and McLaren.",
            "The 2010 season was won by McLaren, ahead of the Red Bull team and Ferrari.",
        ),
        (TEXT, "user: How do I make sourdough bread rise more in a cold kitchen in winter?"),
    ],
)
def test_reorderings_and_other_texts_do_not(a: str, b: str) -> None:
    assert not is_copy(normalize(a), normalize(b), CONFIG)[0]


def test_index_is_idempotent_and_per_project() -> None:
    index = MemoryDedupeIndex()
    assert index.find_or_add(1, 10, TEXT) is None
    assert index.find_or_add(1, 10, TEXT) is None  # a retried job: still canonical
    exact = index.find_or_add(1, 11, TEXT)
    assert exact is not None and (exact.item_id, exact.kind) == (10, "exact")
    near = index.find_or_add(1, 12, TEXT.replace("loud", "lowd"))
    assert near is not None and (near.item_id, near.kind) == (10, "near")
    assert index.find_or_add(1, 12, TEXT.replace("loud", "lowd")) == near
    assert index.find_or_add(2, 20, TEXT) is None  # another project


def test_corpus_targets() -> None:
    from workers.evaluation.dedupe import evaluate

    if not (DATA / "paws-wiki-test").is_dir() or not (DATA / "oasst-en100-trees").is_dir():
        pytest.skip("../shared/data/paws-wiki-test or oasst-en100-trees is absent")
    r = evaluate(DATA)
    assert r["near_copies"]["merged"] >= 0.98
    assert r["paws_label0"]["merged"] <= 0.05
