"""Gibberish as novelty against natural text: the generated kinds score high, ordinary text of
many kinds and languages scores low, the model loads offline without pickles, and it stays
fast."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workers.curation.gibberish import (
    MEASURES,
    MODEL_DIR,
    fold_word,
    gibberish_score,
    judged_words,
    measure,
    model,
    prose_pairs,
    scores,
)
from workers.curation.training.gibberish import gibberish_sources, measure_all, score_matrix

GIBBERISH = [
    "sdkjfhskdjfh aksjdhaksjdh",
    "sdfkj wqpeori zxmcnvb qwpoe",
    "qwertyuiop asdfghjkl",
    "florp zindle quarbex mintrow blastich pemmer",  # English-like pseudo-words
    "#$%^&*@!~ ^%$#@! &*(^%$ @#$%^",
    "жщзх фывап ролдж ячсми",
]
BENIGN = [
    "hi",
    "thanks!",
    "ok",
    "How do I kill a child process in Linux?",
    "Wie kann ich in Python eine Liste sortieren, ohne die Originalliste zu verändern?",
    "Привет, как дела? Я хочу научиться программировать на Python.",
    "今天天气很好\uff0c我们去公园散步吧。",
    "東京は日本の首都です。人口は約千四百万人です。",
    "안녕하세요, 오늘 날씨가 정말 좋네요.",
    "مرحبا، كيف حالك اليوم؟ أريد أن أتعلم البرمجة.",
    "नमस्ते, आप कैसे हैं? मैं हिंदी सीख रहा हूँ।",
    "def f(x):\n    return {'a': [1, 2, 3], 'b': x ** 2}\n",
    'Traceback (most recent call last):\n  File "main.py", line 3, in <module>\n'
    "ModuleNotFoundError: No module named 'numpy'",
    "https://docs.python.org/3/library/re.html#re.sub",
    pytest.param(
        "Notion, Figma, Slack, Jira, Asana, Trello, Miro",
        marks=pytest.mark.xfail(
            reason="lists of Capitalised names count as unknown words: a known weakness",
            strict=True,
        ),
    ),
    "Solve 3x^2 + 2x - 5 = 0 for x",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "kubectl get pods -n kube-system --field-selector=status.phase!=Running",
    "Was bedeutet Angstschweiss und Geschichtsschreibung?",
]


@pytest.mark.parametrize("text", GIBBERISH)
def test_gibberish_scores_high(text: str) -> None:
    score, reason = gibberish_score(text)
    assert score >= 0.5, reason  # quarantined at least
    assert reason and text not in reason  # a reason, never a quote of the text


@pytest.mark.parametrize("text", BENIGN)
def test_benign_scores_low(text: str) -> None:
    score, reason = gibberish_score(text)
    assert score < 0.5, reason


def test_generated_kinds_are_mostly_caught() -> None:
    # Leave-one-out figures live in workers.evaluation.gibberish; this is a floor per kind.
    sources = gibberish_sources(n=40, seed=7)
    floors = {"random-letters": 0.9, "symbol-noise": 0.9, "pseudo-words": 0.8}
    floors["keyboard-mash"] = 0.75  # the shortest mashes stay a weakness (0.85 held out)
    for kind, floor in floors.items():
        caught = np.mean([gibberish_score(t)[0] >= 0.5 for t in sources[kind]])
        assert caught >= floor, (kind, caught)


def test_model_is_small_and_pickle_free() -> None:
    path = MODEL_DIR / "gibberish.npz"
    assert path.stat().st_size < 5_000_000
    with np.load(path, allow_pickle=False) as npz:
        assert {"k3", "v3", "wk", "wf", "pairs"} <= set(npz.files)
    assert (MODEL_DIR / "gibberish.json").is_file()


def test_quantiles_come_from_natural_text_only() -> None:
    meta = json.loads((MODEL_DIR / "gibberish.json").read_text(encoding="utf-8"))
    assert "combiner" not in meta  # nothing is fit on gibberish
    q = meta["quantiles"]
    assert set(q["table"]) == set(MEASURES) and 0.99 < q["gate"] < 1.0
    sources = set(meta["calibration"]["texts (with their prefixes)"])
    assert sources and not any("gibberish" in s or "salad" in s for s in sources)


def test_vectorised_scores_match_the_runtime() -> None:
    m = model()
    meta = json.loads((MODEL_DIR / "gibberish.json").read_text(encoding="utf-8"))
    texts = [t for kind in gibberish_sources(n=5, seed=3).values() for t in kind]
    texts += [t for t in BENIGN if isinstance(t, str)]
    batch = score_matrix(measure_all(texts, m), meta["quantiles"])
    single = np.array([scores(measure(t, m), m) for t in texts])
    assert np.allclose(batch, single, atol=1e-6)


def test_short_text_abstains() -> None:
    x = measure("qzx", model()).values
    assert np.isnan(x[MEASURES.index("letters")]) and np.isnan(x[MEASURES.index("symbols")])
    assert gibberish_score("qzx")[0] < 0.5


def test_judged_words_skip_acronyms_code_and_urls() -> None:
    text = "Hello NASA, myVar x_1 https://a.io fooBar Zorblat don't"
    words = judged_words(text.split())
    assert words == ["hello", "zorblat", "don"]


@pytest.mark.parametrize(
    ("text", "gibberish"),
    [
        ("zccxdfvx", True),
        ("sdfghjk", True),
        ("Rotterdam", False),
        ("Szczecin", False),
        ("merci beaucoup", False),
        ("yes please", False),
    ],
)
def test_short_texts_of_six_letters_or_more_are_judged(text: str, gibberish: bool) -> None:
    """The character model reads texts from six letters (a keyboard mash is often one word)."""
    assert (gibberish_score(text)[0] >= 0.5) == gibberish


def test_training_writes_a_model(tmp_path: Path) -> None:
    from workers.curation.training import gibberish as training

    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    meta = training.train(tmp_path, shared if shared.is_dir() else None)
    assert (tmp_path / "gibberish.npz").is_file()
    assert meta["seed"] == training.SEED and "LATIN" in meta["quantiles"]["table"]["letters"]


def test_table_cells_and_names_are_not_prose_pairs() -> None:
    assert prose_pairs("| Club | Town |\n| Ajax | Amsterdam |") == []
    assert prose_pairs("Thanks, New York Rangers fans") == []
    pairs = [("we", "went"), ("went", "home"), ("home", "early")]
    assert prose_pairs("we went home early") == pairs


def test_fold_word_drops_combining_marks() -> None:
    assert fold_word("ἔχει") == fold_word("έχει") == "εχει"
    assert fold_word("plain") == "plain"


def test_symbols_only_text_scores_high() -> None:
    assert gibberish_score("#$%^&*@!~ ^%$#@! &*(^%$ @#$%^")[0] >= 0.5
    assert gibberish_score("==> ok")[0] < 0.5
