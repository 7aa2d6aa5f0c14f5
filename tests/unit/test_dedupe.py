"""Dedupe, the pure part and the in-memory index: copies merge; reorderings, other answers and
short distinct conversations with one canned answer do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wordfreq import zipf_frequency

from workers.curation.dedupe import (
    DedupeConfig,
    Sides,
    candidate_keys,
    conversation_text,
    exact_key,
    is_copy,
    normalize,
    sides,
    turns_of,
)
from workers.curation.dedupe_index import MemoryDedupeIndex
from workers.curation.types import Turn

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CONFIG = DedupeConfig()
TEXT = (
    "My laptop fan is very loud when I play games, and the case gets hot. Is it "
    "safe to keep playing, or should I clean the vents first?"
)
SYSTEM = "You are a helpful assistant for Acme Corp. Answer briefly and politely. " * 3

# Short messages that differ from each other beyond typos (none is a typo of another).
GREETINGS = ["hi", "hello", "hey", "hey you", "hi all", "hello all", "good morning",
             "good evening", "morning all", "yo", "hiya", "howdy", "hi bot", "hello friend",
             "how are you", "who are you", "are you there", "anybody home", "bonjour", "hola"]
TEST_STRINGS = ["test", "testing", "tst", "lol", "asdf", "asdfasdf", "asdfgh", "qwerty",
                "zxcv", "abc", "abcd", "foo", "bar", "baz", "ping", "hmm", "ok", "okay",
                "blah", "test message", "testing testing", "mic test", "xyz", "aaaa"]
ONE_WORD = ["why", "how", "what", "when", "where", "who", "which", "really", "seriously",
            "huh", "source", "example", "more", "again", "next", "price", "ready", "done"]
SHORT_QUESTIONS = ["how cold is it", "how old is it", "what is java", "what is rust",
                   "is it safe", "is it free", "who made you", "what can you do",
                   "tell me a joke", "tell me a fact", "what time is it", "what day is it"]
CANNED = ["Okay.", "4", "Sure!", "Hello! How can I help you today?", "Yes.", "I don't know."]
OPS = ["+", "-", "*", "/"]


def conv(user: str, answer: str | None = None, system: str | None = None) -> str:
    turns = [Turn("system", system)] if system else []
    turns.append(Turn("user", user))
    if answer is not None:
        turns.append(Turn("assistant", answer))
    return conversation_text(turns)


def merges(a: str, b: str) -> bool:
    index = MemoryDedupeIndex()
    assert index.find_or_add(1, 1, a) is None
    return index.find_or_add(1, 2, b) is not None


def test_normalize_keeps_placeholders_and_numbers_and_drops_noise() -> None:
    assert normalize("Hello,   <PERSON_1>!!\nHOW are you?") == "hello <person_1> how are you"
    assert normalize("What is 2+2? And 2.5*3") == "what is 2 + 2 and 2.5 * 3"
    assert exact_key("Hi  there!") == exact_key("hi there")
    assert exact_key(conv("What is 2+2?", "4")) != exact_key(conv("What is 2*2?", "4"))


def test_conversation_text_is_taken_apart_again() -> None:
    turns = [Turn("system", "Be brief."), Turn("user", "a\x1eb\x1fc\nuser: x"),
             Turn("assistant", "first"), Turn("user", "more"), Turn("assistant", "last")]
    back = turns_of(conversation_text(turns))
    assert [t.role for t in back] == ["system", "user", "assistant", "user", "assistant"]
    assert back[1].text == "a b c\nuser: x"
    s = sides(conversation_text(turns))
    assert s == Sides(user="a b c user x more", answer="last", earlier="first")
    assert Sides.decode(s.encode()) == s


def test_role_labels_and_system_prompt_are_not_in_the_candidate_keys() -> None:
    plain = candidate_keys(sides(conv("hi", "Okay.")), CONFIG)
    assert candidate_keys(sides(conv("hi", "Okay.", SYSTEM)), CONFIG) == plain
    assert candidate_keys(sides(conv("hi", "Something else entirely.")), CONFIG) == plain


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
    assert is_copy(sides(conv(TEXT, "Yes.")), sides(conv(copy, "yes")), CONFIG)[0]
    assert merges(conv(TEXT, "Clean the vents first."), conv(copy, "Clean the vnets first."))


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
        (TEXT, "How do I make sourdough bread rise more in a cold kitchen in winter?"),
    ],
)
def test_reorderings_and_other_texts_do_not(a: str, b: str) -> None:
    assert not is_copy(sides(a), sides(b), CONFIG)[0]


@pytest.mark.parametrize(
    "a, b",
    [("asdfasdf", "test"), ("asdfasdf", "lol"), ("asdfasdf", "hi"), ("test", "lol")],
)
def test_the_issues_short_conversations_answered_okay_do_not_merge(a: str, b: str) -> None:
    assert not merges(conv(a, "Okay."), conv(b, "Okay."))


def test_the_issues_arithmetic_questions_answered_4_do_not_merge() -> None:
    assert not merges(conv("What is 2+2?", "4"), conv("What is 3+1?", "4"))
    assert not merges(conv("What is 2+2?", "4"), conv("What is 2*2?", "4"))


def test_another_answer_to_the_same_prompt_is_not_a_copy() -> None:
    assert not merges(conv(TEXT, "Yes, it is safe."), conv(TEXT, "No, clean the vents first."))
    assert not merges(conv("What is 2+2?", "4"), conv("What is 2+2?", "5"))
    assert merges(conv("What is 2+2?", "4"), conv("what is 2 + 2", "4."))


@settings(max_examples=300, deadline=None)
@given(
    group=st.sampled_from([GREETINGS, TEST_STRINGS, ONE_WORD, SHORT_QUESTIONS,
                           GREETINGS + TEST_STRINGS + ONE_WORD + SHORT_QUESTIONS]),
    picks=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    answer=st.sampled_from(CANNED),
    punctuation=st.sampled_from(["", "?", "!", "."]),
    system=st.sampled_from([None, SYSTEM]),
)
def test_short_distinct_messages_with_one_canned_answer_never_merge(
    group: list[str], picks: tuple[int, int], answer: str, punctuation: str, system: str | None
) -> None:
    a, b = group[picks[0] % len(group)], group[picks[1] % len(group)]
    assume(a != b)
    assert not merges(conv(a, answer, system), conv(b.capitalize() + punctuation, answer, system))


@settings(max_examples=300, deadline=None)
@given(
    x=st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99)),
    y=st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99)),
    template=st.sampled_from(["What is {a}{op}{b}?", "{a} {op} {b} = ?", "calc {a}{op}{b}"]),
    answer=st.sampled_from(CANNED),
)
def test_different_arithmetic_questions_with_one_canned_answer_never_merge(
    x: tuple[str, int, int], y: tuple[str, int, int], template: str, answer: str
) -> None:
    assume(x != y)
    a = template.format(op=x[0], a=x[1], b=x[2])
    b = template.format(op=y[0], a=y[1], b=y[2])
    assert not merges(conv(a, answer), conv(b, answer))


MESSAGES = ["hello there", "thanks a lot", "please explain", "good morning everyone",
            "what is the weather tomorrow", "translate this sentence", "can you summarise it",
            "recommend a restaurant", "write a limerick", "tell me about volcanoes",
            "why is the sky blue", "how do magnets work"]


def _is_word(token: str) -> bool:
    return any(zipf_frequency(token, lang) >= 3.0 for lang in CONFIG.languages)


@settings(max_examples=300, deadline=None)
@given(
    message=st.sampled_from(MESSAGES),
    pick=st.integers(0, 10**6),
    kind=st.sampled_from(["swap", "double", "drop", "replace"]),
    letter=st.sampled_from("qwertyuiopasdfghjklzxcvbnm"),
    answer=st.sampled_from(CANNED),
)
def test_short_messages_with_one_typo_still_merge(
    message: str, pick: int, kind: str, letter: str, answer: str
) -> None:
    words = message.split()
    w = pick % len(words)
    word = words[w]
    assume(len(word) >= 4)
    j = 1 + pick % (len(word) - 2)  # people rarely miss the first or the last letter
    typo = {
        "swap": word[:j] + word[j + 1] + word[j] + word[j + 2 :],
        "double": word[:j] + word[j] + word[j:],
        "drop": word[:j] + word[j + 1 :],
        "replace": word[:j] + letter + word[j + 1 :],
    }[kind]
    assume(typo != word and not _is_word(typo))  # a typo that makes a real word is another word
    copy = " ".join([*words[:w], typo, *words[w + 1 :]])
    assert merges(conv(message, answer), conv(copy.capitalize() + "?", answer))


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


def test_forgotten_short_items_leave_no_candidate_keys() -> None:
    index = MemoryDedupeIndex()
    assert index.find_or_add(3, 1, conv("hello there", "Hi!")) is None
    index.forget(3, [1])
    store = index.store
    assert not any(1 in ids for ids in store.buckets.values())  # type: ignore[attr-defined]
    assert index.find_or_add(3, 2, conv("helo there", "Hi!")) is None


def test_corpus_targets() -> None:
    from workers.evaluation.dedupe import evaluate

    if not (DATA / "paws-wiki-test").is_dir() or not (DATA / "oasst-en100-trees").is_dir():
        pytest.skip("../shared/data/paws-wiki-test or oasst-en100-trees is absent")
    r = evaluate(DATA)
    assert r["near_copies"]["merged"] >= 0.98
    assert r["paws_label0"]["merged"] <= 0.05
    assert r["short_distinct_canned"]["merged"] == 0


def test_short_distinct_figure_needs_no_shared_data() -> None:
    from workers.evaluation.dedupe import short_distinct

    r = short_distinct(CONFIG, pairs=500)
    assert r["n"] >= 400 and r["merged"] == 0, r["examples"]


def test_signatures_reusing_the_permutations_are_datasketchs_own() -> None:
    from datasketch import MinHash

    from workers.curation.dedupe import SEED, DedupeConfig, shingles, signature

    config = DedupeConfig()
    for text in ["", "a", "how do i reset my password", "the invoice shows vat twice " * 40]:
        fresh = MinHash(num_perm=config.num_perm, seed=SEED)
        fresh.update_batch(list(shingles(text, config.shingle)))
        got = signature(text, config)
        assert (got.hashvalues == fresh.hashvalues).all()
        assert got.jaccard(fresh) == 1.0  # the same scheme: comparable with datasketch's


# --- fingerprints: the candidates a lookup does not read -------------------------------------

_ALPHABET = "abcdefghijklmnopqrstuvwxyz      0123456789<>_éüßøçñ中文字"


def _edited(text: str, edits: list[tuple[int, int, str]]) -> str:
    """text with each (kind, position, character) edit applied: insert, delete, substitute,
    swap neighbours."""
    chars = list(text)
    for kind, position, char in edits:
        i = position % (len(chars) + 1)
        if kind == 0 or not chars:
            chars.insert(i, char)
        elif kind == 1:
            del chars[min(i, len(chars) - 1)]
        elif kind == 2:
            chars[min(i, len(chars) - 1)] = char
        elif len(chars) > 1:
            j = min(i, len(chars) - 2)
            chars[j], chars[j + 1] = chars[j + 1], chars[j]
    return "".join(chars)


@settings(max_examples=600, deadline=None)
@given(
    st.text(alphabet=_ALPHABET, min_size=0, max_size=300),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400), st.sampled_from(_ALPHABET)),
             max_size=40),
    st.sampled_from([0.8, 0.9, 0.6, 0.95]),
)
def test_a_fingerprint_never_rules_out_a_copy(
    text: str, edits: list[tuple[int, int, str]], threshold: float
) -> None:
    from workers.curation.dedupe import could_copy, fingerprint, same_user_text

    config = DedupeConfig(threshold=threshold)
    other = _edited(text, edits)
    if same_user_text(text, other, config)[0]:
        assert could_copy(text, fingerprint(other), config) == [True]
        assert could_copy(other, fingerprint(text), config) == [True]


def test_fingerprints_rule_out_unrelated_texts_and_keep_their_order() -> None:
    from workers.curation.dedupe import UNKNOWN, could_copy, fingerprint

    user = normalize("How long should I bake sourdough bread at 230 degrees?")
    others = [
        normalize("What is the capital of France, and how many people live there?"),
        normalize("How long should I bake sourdogh bread at 230 degrees?"),  # a copy
        normalize("how long"),
        "x" * 70_000,  # longer than a fingerprint's length field: never ruled out
    ]
    prints = b"".join(fingerprint(o) for o in others) + UNKNOWN
    assert could_copy(user, prints, CONFIG) == [False, True, False, True, True]
    assert could_copy(user, b"", CONFIG) == []


@pytest.mark.parametrize("threshold", [0.8, 0.9, 0.5, 1.0])
def test_typo_budgets_are_typo_budget_for_every_length(threshold: float) -> None:
    import numpy as np

    from workers.curation.dedupe import typo_budget, typo_budgets

    config = DedupeConfig(threshold=threshold)
    lengths = np.arange(0, 5000)
    assert typo_budgets(lengths, config).tolist() == [typo_budget(n, config) for n in lengths]


def test_the_index_reads_only_the_texts_a_fingerprint_allows() -> None:
    from workers.curation.dedupe import fingerprint

    index = MemoryDedupeIndex(CONFIG)
    read: list[int] = []
    texts = index.store.texts

    def spy(project_id: int, item_ids: list[int]) -> list[str | None]:
        read.extend(item_ids)
        return texts(project_id, item_ids)

    index.store.texts = spy  # type: ignore[method-assign]
    first = "My order number 5521 is late and I would like a refund, please."
    assert index.find_or_add(1, 1, conversation_text([Turn("user", first)])) is None
    # An unrelated text that happens to share the first one's candidate keys (an LSH
    # collision, made here by indexing it under them): its fingerprint rules it out.
    other = normalize("Could you write a short poem about autumn leaves for my daughter?")
    index.store.set_text(1, 2, Sides(other).encode())
    index.store.insert(1, 2, candidate_keys(sides(first), CONFIG), fingerprint(other))
    copy = first.replace("refund", "refnud").replace("late", "lat")
    match = index.find_or_add(1, 3, conversation_text([Turn("user", copy)]))
    assert match is not None and match.item_id == 1
    assert read == [1]
