"""app.services.skew: conversations from small seeded templates (written here), production shifted
on purpose (code, longer messages, French) or not at all, and PSI against a hand computation."""

from __future__ import annotations

import math
import random
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from app.services import skew

Turn = dict[str, str]
Conversation = tuple[str, list[Turn]]

SUPPORT_EN = [
    "How do I reset my password?",
    "My order has not arrived yet, can you check where it is?",
    "I was charged twice for the same subscription this month.",
    "Can I change the delivery address on my order?",
    "What is your refund policy for damaged items?",
    "The app keeps logging me out every few minutes.",
    "How do I cancel my plan before the next billing date?",
    "Please update the email on my account to <EMAIL_ADDRESS_1>.",
    "My name is <PERSON_1> and I cannot sign in to my account.",
    "Could you call me back at <PHONE_NUMBER_1> about my invoice?",
    "Why is the invoice amount different from the price on the website?",
    "Is there a discount for students or small charities?",
]
KNOWLEDGE_EN = [
    "Why is the sky blue during the day?",
    "What is the difference between weather and climate?",
    "Who wrote the novel about a white whale?",
    "How far is the moon from the earth?",
    "What causes the seasons to change through the year?",
    "Explain how vaccines train the immune system.",
]
FILLER_EN = [
    "Thanks in advance for your help.",
    "I have tried this a few times already.",
    "This is quite urgent for me.",
    "I looked in the help centre but found nothing.",
    "It worked fine last week.",
]
ANSWERS_EN = [
    "I am sorry about the trouble. I have checked your account and everything looks fine now.",
    "You can do that from the settings page under billing.",
    "I have sent a confirmation email to <EMAIL_ADDRESS_1> with the details.",
    "The refund should appear on your statement within five working days.",
    "That is a good question. The short answer is that it depends on the season.",
    "Light from the sun is scattered by the air, and blue light is scattered the most.",
]
STEPS_EN = "Here is what to do:\n1. Open the settings page.\n2. Choose your account.\n3. Save."
ORDER_JSON = 'Your order: {"order_id": "A1234", "status": "shipped", "items": 2}'
SUPPORT_ES = [
    "¿Cómo puedo cambiar la contraseña de mi cuenta?",
    "Mi pedido no ha llegado todavía, ¿pueden revisar dónde está?",
    "Me han cobrado dos veces la misma suscripción este mes.",
]
ANSWERS_ES = ["Lo siento mucho. He revisado su cuenta y ahora todo está en orden."]
SUPPORT_FR = [
    "Comment puis-je changer le mot de passe de mon compte ?",
    "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier où elle se trouve ?",
    "On m'a facturé deux fois le même abonnement ce mois-ci.",
    "Est-ce que je peux modifier l'adresse de livraison de ma commande ?",
    "Quelle est votre politique de remboursement pour les articles abîmés ?",
]
ANSWERS_FR = [
    "Je suis désolé pour ce problème. J'ai vérifié votre compte et tout est en ordre.",
    "Vous pouvez le faire depuis la page des paramètres, rubrique facturation.",
]
CODE_QUESTIONS = [
    "Why does this Python function return None?\n```python\ndef total(xs):\n"
    "    for x in xs:\n        s = s + x\n```",
    "How do I read a CSV file with pandas and drop empty rows?",
    "My JavaScript fetch call never resolves:\n```js\nconst r = fetch(url);\n"
    "console.log(r.json());\n```",
    "How can I sort a list of dictionaries by a key in Python?",
    "What does this SQL query do?\n```sql\nSELECT name, count(*) FROM users GROUP BY name;\n```",
]
CODE_ANSWERS = [
    "Initialise the accumulator first:\n```python\ndef total(xs):\n    s = 0\n"
    "    for x in xs:\n        s += x\n    return s\n```",
    "Use `sorted` with a key function:\n```python\n"
    "rows = sorted(rows, key=lambda r: r['age'])\n```",
    "Await the promise:\n```js\nconst r = await fetch(url);\nconst data = await r.json();\n```",
]


def support(rng: random.Random, long_user: bool = False, lang: str = "en") -> list[Turn]:
    """A support or general-knowledge conversation of 2 to 6 turns."""
    turns: list[Turn] = []
    if rng.random() < 0.2:
        turns.append({"role": "system", "text": "You are a helpful support assistant."})
    for _ in range(rng.choice([1, 1, 2, 3])):
        if lang == "fr":
            user = rng.choice(SUPPORT_FR)
            answer = rng.choice(ANSWERS_FR)
        elif lang == "es" or (lang == "en" and rng.random() < 0.03):
            user, answer = rng.choice(SUPPORT_ES), rng.choice(ANSWERS_ES)
        else:
            user = rng.choice(SUPPORT_EN if rng.random() < 0.7 else KNOWLEDGE_EN)
            extra = rng.randint(8, 14) if long_user else rng.randint(0, 2)
            user = " ".join([user, *rng.choices(FILLER_EN, k=extra)])
            answer = " ".join(rng.sample(ANSWERS_EN, rng.randint(1, 3)))
            roll = rng.random()
            if roll < 0.25:
                answer += "\n" + STEPS_EN
            elif roll < 0.35:
                answer += "\n" + ORDER_JSON
        turns += [{"role": "user", "text": user}, {"role": "assistant", "text": answer}]
    return turns


def coding(rng: random.Random) -> list[Turn]:
    return [
        {"role": "user", "text": rng.choice(CODE_QUESTIONS)},
        {"role": "assistant", "text": rng.choice(CODE_ANSWERS)},
    ]


def sample(n: int, seed: int, prefix: str = "c", **kwargs: Any) -> list[Conversation]:
    rng = random.Random(seed)
    return [(f"{prefix}-{seed}-{i}", support(rng, **kwargs)) for i in range(n)]


def by_name(report: skew.SkewReport) -> dict[str, skew.FeatureSkew]:
    return {f.name: f for f in report.features}


# --- whole comparisons --------------------------------------------------------------------------


def test_production_like_the_reference_is_ok_everywhere() -> None:
    report = skew.compare(sample(300, seed=1), sample(300, seed=2))
    statuses = {f.name: f.status for f in report.features}
    assert statuses == dict.fromkeys(statuses, "ok")
    assert report.status == "ok"
    assert not any(c.under_covered for c in report.clusters)
    assert (report.reference_count, report.production_count) == (300, 300)
    # Every feature is compared, plus content.
    names = {f.name for f in fields(skew.Features)} | {"content"}
    assert {f.name for f in report.features} == names


def test_production_turned_to_code_is_content_and_code_drift() -> None:
    rng = random.Random(5)
    production: list[Conversation] = []
    for i in range(300):
        if rng.random() < 0.7:
            production.append((f"code-{i}", coding(rng)))
        else:
            production.append((f"support-{i}", support(rng)))
    report = skew.compare(sample(300, seed=1), production)
    features = by_name(report)
    assert features["code_share"].status == "drift"
    assert features["code_share"].reference["mean"] == 0
    assert features["content"].status == "drift"
    assert features["content"].value is not None and features["content"].value > 0.5
    assert report.status == "drift"
    under = [c for c in report.clusters if c.under_covered]
    assert under and all(c.examples for c in under)
    assert all(e.startswith("code-") for c in under for e in c.examples)
    # The clusters are listed under-covered first, and their shares add up on each side.
    assert report.clusters[: len(under)] == under
    assert sum(c.production_share for c in report.clusters) == pytest.approx(1)
    assert sum(c.reference_share for c in report.clusters) == pytest.approx(1)


def test_much_longer_user_messages_drift_in_user_length() -> None:
    report = skew.compare(sample(300, seed=1), sample(300, seed=2, long_user=True))
    user_chars = by_name(report)["user_chars"]
    assert user_chars.status == "drift"
    assert user_chars.ks_p is not None and user_chars.ks_p < 1e-6
    assert user_chars.ks is not None and user_chars.ks > 0.5
    assert user_chars.production["median"] > 2 * user_chars.reference["median"]


def test_half_of_production_in_french_moves_the_language() -> None:
    rng = random.Random(9)
    production = [(f"p-{i}", support(rng, lang="fr" if i % 2 else "en")) for i in range(300)]
    language = by_name(skew.compare(sample(300, seed=1), production))["language"]
    assert language.status != "ok"
    assert language.production["fr"] > 0.4 > language.reference.get("fr", 0)
    assert language.reference["en"] > 0.8


def test_too_few_conversations_says_how_many() -> None:
    with pytest.raises(skew.NotEnoughData, match=r"at least 20 .* has 5 and production 300"):
        skew.compare(sample(5, seed=1), sample(300, seed=2))
    with pytest.raises(skew.NotEnoughData):
        skew.compare(sample(300, seed=1), [])
    assert issubclass(skew.NotEnoughData, ValueError)


def test_the_same_seed_gives_the_same_report() -> None:
    ref, prod = sample(100, seed=1), sample(100, seed=2, long_user=True)
    first = skew.compare(ref, prod, seed=3).as_dict()
    assert first == skew.compare(ref, prod, seed=3).as_dict()
    assert first["status"] == "drift"
    assert skew.cluster_count(200) == len(first["clusters"]) == 10  # sqrt(200 / 2)
    # Plain, rounded data: lists, not tuples; four decimals.
    assert all(f["psi"] == round(f["psi"], 4) for f in first["features"])
    assert isinstance(first["clusters"][0]["top_terms"], list)


def test_texts_without_words_do_not_crash() -> None:
    blank = [(f"b-{i}", [{"role": "user", "text": "?!"}]) for i in range(25)]
    report = skew.compare(blank, blank)
    content = by_name(report)["content"]
    assert content.status == "ok" and content.value == 0 and content.note
    assert report.clusters == []
    assert by_name(report)["language"].reference == {"und": 1.0}


def test_an_explicit_cluster_count_is_used() -> None:
    report = skew.compare(sample(100, seed=1), sample(100, seed=2), clusters=4)
    assert len(report.clusters) == 4
    assert all(len(c.top_terms) == 5 and len(c.examples) <= 5 for c in report.clusters)


# --- features of one conversation ---------------------------------------------------------------


def test_placeholders_are_counted_and_are_not_typos() -> None:
    f = skew.features(
        [
            {"role": "user", "text": "Hello <PERSON_1>, please email <EMAIL_ADDRESS_12> today"},
            {"role": "assistant", "text": "Sure, I will write to <PERSON_1> now."},
        ]
    )
    assert f.placeholder_density == pytest.approx(100 * 3 / 13)  # 6 + 7 words
    assert f.typo_rate == 0
    assert (f.turns, f.user_chars) == (2, 55)
    # Were the placeholder's type read as a word, "qzxw" would be a typo.
    assert skew.typo_rate("Please send it to <QZXW_1> today", "en") == 0
    assert skew.typo_rate("Please send it to QZXW today", "en") == 1 / 4  # it, to: too short


def test_a_fenced_code_block_is_code_and_prose_is_not() -> None:
    code = "Try this:\n```\nx = compute()\n```"
    f = skew.features([{"role": "user", "text": "Help?"}, {"role": "assistant", "text": code}])
    assert f.code_share == 0.5
    assert skew.has_code("import os\nprint(os.getcwd())")
    assert not skew.has_code("Import your contacts first; then sync them.")
    assert not skew.has_code("Open the settings page and choose billing.")


def test_json_is_detected_and_a_citation_is_not() -> None:
    assert skew.has_json('The result was {"ok": true, "n": 3} as expected.')
    assert skew.has_json("[1, 2, 3]")
    assert not skew.has_json("As shown in [1], the moon is far away {roughly}.")
    assert skew.features([{"role": "assistant", "text": ORDER_JSON}]).has_json


def test_lists_are_detected() -> None:
    assert skew.has_list(STEPS_EN)
    assert skew.has_list("Options:\n- red\n- blue")
    assert not skew.has_list("1. is my only point")
    assert skew.features([{"role": "assistant", "text": STEPS_EN}]).has_lists


def test_typo_rate() -> None:
    typos = skew.typo_rate("teh quikc brwon fox", "en")
    assert typos >= 0.5  # quikc and brwon are unknown; "teh" is common enough online
    assert skew.typo_rate("The quick brown fox jumps over the lazy dog.", "en") == 0
    assert skew.typo_rate("Je voudrais changer mon mot de passe", "fr") == 0
    # An unknown language falls back to English.
    assert skew.typo_rate("the quick brown fox", "xx") == 0
    assert skew.typo_rate("teh quikc brwon fox", "und") == typos
    # Japanese needs MeCab for wordfreq: without it the rate is not measured, not an error.
    assert 0 <= skew.typo_rate("東京に行きたいです", "ja") <= 1


def test_language_detection() -> None:
    assert skew.detect_language("How do I reset my password for my account?") == "en"
    assert skew.detect_language(SUPPORT_FR[1]) == "fr"
    assert skew.detect_language("ok <PERSON_1>") == "und"
    assert skew.detect_language("12345 !!!") == "und"


# --- PSI ----------------------------------------------------------------------------------------


def test_psi_of_identical_samples_is_zero() -> None:
    assert skew.psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0, abs=1e-12)
    assert skew.psi([1, 2, 3], [100, 200, 300]) == pytest.approx(0, abs=1e-12)


def test_psi_matches_a_hand_computation() -> None:
    # Shares 0.5/0.3/0.2 against 0.3/0.3/0.4:
    # (0.3-0.5)ln(0.3/0.5) + 0 + (0.4-0.2)ln(0.4/0.2) = 0.2 ln(5/3) + 0.2 ln 2.
    by_hand = 0.2 * math.log(5 / 3) + 0.2 * math.log(2)
    assert skew.psi([50, 30, 20], [30, 30, 40]) == pytest.approx(by_hand)
    assert round(by_hand, 4) == 0.2408
    # An empty bin counts as EPSILON: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5).
    empty = (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (0.5 - 1) * math.log(0.5)
    assert skew.psi([0, 10], [5, 5]) == pytest.approx(empty)


def test_psi_needs_matching_non_empty_histograms() -> None:
    with pytest.raises(ValueError):
        skew.psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        skew.psi([0, 0], [1, 2])


def test_thresholds() -> None:
    assert (skew.WATCH, skew.DRIFT) == (0.1, 0.25)
    assert [skew.status_of(v) for v in (0.0, 0.0999, 0.1, 0.2499, 0.25, 3)] == [
        "ok",
        "ok",
        "watch",
        "watch",
        "drift",
        "drift",
    ]


def test_a_point_mass_at_the_minimum_gets_its_own_bin() -> None:
    # The reference never has code; production sometimes does, or has fewer turns than ever.
    none = np.zeros(100)
    assert skew.numeric_skew("x", none, np.r_[np.zeros(50), np.ones(50)]).status == "drift"
    twos = np.full(100, 2.0)
    assert skew.numeric_skew("x", twos, np.r_[np.full(50, 2.0), np.ones(50)]).status == "drift"
    assert skew.numeric_skew("x", twos, np.r_[np.full(50, 2.0), np.full(50, 3.0)]).status == (
        "drift"
    )
    assert skew.numeric_skew("x", twos, twos).psi == pytest.approx(0, abs=1e-12)


def test_noise_on_identical_distributions_stays_under_watch() -> None:
    rng = np.random.default_rng(0)
    values = [
        skew.numeric_skew("x", rng.lognormal(size=1000), rng.lognormal(size=1000)).psi
        for _ in range(20)
    ]
    assert max(values) < skew.WATCH
    assert 0.005 < float(np.mean(values)) < 0.04  # about 9 * (2 / 1000) = 0.018


def test_small_samples_carry_a_note() -> None:
    rng = np.random.default_rng(0)
    small = skew.numeric_skew("x", rng.normal(size=30), rng.normal(size=30))
    assert small.note and "chance" in small.note
    assert skew.numeric_skew("x", rng.normal(size=3000), rng.normal(size=3000)).note is None
