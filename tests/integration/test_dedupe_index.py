"""The Redis dedupe index: shared by processes, safe under concurrent workers (real Redis)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis

from tests.conftest import REDIS_URL
from workers.curation.dedupe_index import RedisDedupeIndex

TEXT = "user: What is the tallest mountain in Africa, and how long does it take to climb it?"


def _index_in_child(url: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    index = RedisDedupeIndex(url)
    queue.put(index.find_or_add(7, 100, TEXT))


@pytest.mark.redis
def test_an_item_indexed_by_one_process_is_found_by_another(redis_client: Redis) -> None:
    assert REDIS_URL
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    child = ctx.Process(target=_index_in_child, args=(REDIS_URL, queue))
    child.start()
    child.join(60)
    assert queue.get(timeout=5) is None  # canonical in the child
    match = RedisDedupeIndex(REDIS_URL).find_or_add(7, 101, TEXT.replace("tallest", "talest"))
    assert match is not None and match.item_id == 100 and match.kind == "near"


@pytest.mark.redis
def test_concurrent_copies_make_exactly_one_canonical(redis_client: Redis) -> None:
    assert REDIS_URL
    copies = [TEXT.replace("Africa", "Africa" + "!" * i) for i in range(8)]  # near and exact

    def add(i: int) -> object:
        return RedisDedupeIndex(REDIS_URL).find_or_add(3, i, copies[i])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(add, range(8)))
    canonical = [i for i, a in enumerate(answers) if a is None]
    assert len(canonical) == 1
    assert all(a.item_id == canonical[0] for a in answers if a is not None)  # type: ignore[attr-defined]


@pytest.mark.redis
def test_lost_index_is_noticed(redis_client: Redis) -> None:
    assert REDIS_URL
    index = RedisDedupeIndex(REDIS_URL)
    assert not index.is_loaded(5)
    index.mark_loaded(5)
    assert index.is_loaded(5)
    redis_client.flushdb()  # Redis restarted without its data
    assert not index.is_loaded(5)


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_forgotten_items_leave_nothing_in_the_index(backend: str,
                                                    request: pytest.FixtureRequest) -> None:
    """Erasure: an erased item's text is gone, and a copy shared later is canonical again."""
    from workers.curation.dedupe_index import DedupeIndex, MemoryDedupeIndex

    index: DedupeIndex
    if backend == "redis":
        redis_client: Redis = request.getfixturevalue("redis_client")
        index = RedisDedupeIndex(REDIS_URL or "")
    else:
        index = MemoryDedupeIndex()
    assert index.find_or_add(9, 1, TEXT) is None
    near = index.find_or_add(9, 2, TEXT.replace("tallest", "talest"))
    assert near is not None and near.item_id == 1
    index.forget(9, [1, 2])
    if backend == "redis":
        for key in redis_client.scan_iter("winnow:dedupe:9:*"):
            kind = redis_client.type(key)
            if kind == b"hash":
                values = redis_client.hgetall(key)
                assert not {b"1", b"2"} & set(values), key
                assert not any(b"mountain" in v for v in values.values()), key
            elif kind == b"set":
                assert not {b"1", b"2"} & redis_client.smembers(key), key
    assert index.find_or_add(9, 3, TEXT) is None  # exact copy: canonical now
    assert index.find_or_add(9, 4, TEXT.replace("tallest", "talest")) is not None


def _conv(user: str, answer: str) -> str:
    from workers.curation.dedupe import conversation_text
    from workers.curation.types import Turn

    return conversation_text([Turn("user", user), Turn("assistant", answer)])


@pytest.mark.redis
def test_short_distinct_conversations_stay_apart_and_typos_merge_in_redis(
    redis_client: Redis,
) -> None:
    """The one-deletion keys work through Redis: a short typo'd copy is found, a short
    distinct message with the same canned answer is not a copy."""
    assert REDIS_URL
    index = RedisDedupeIndex(REDIS_URL)
    assert index.find_or_add(4, 1, _conv("asdfasdf", "Okay.")) is None
    for i, text in enumerate(["test", "lol", "hi", "What is 2+2?"], start=2):
        assert index.find_or_add(4, i, _conv(text, "Okay.")) is None, text
    assert index.find_or_add(4, 9, _conv("What is 3+1?", "Okay.")) is None
    typo = index.find_or_add(4, 10, _conv("what is 2 + 2", "okay"))
    assert typo is not None and typo.item_id == 5
    assert index.find_or_add(4, 11, _conv("hello there", "Hi!")) is None
    near = index.find_or_add(4, 12, _conv("helo there", "Hi!"))
    assert near is not None and (near.item_id, near.kind) == (11, "near")


@pytest.mark.redis
def test_an_index_in_the_old_format_is_dropped_and_rebuilt(redis_client: Redis) -> None:
    """Format 1 (bands over the whole conversation text) cannot answer format 2's queries:
    is_loaded says no and drops it, so the job rebuilds it from the database."""
    assert REDIS_URL
    old = "winnow:dedupe:6"
    redis_client.set(f"{old}:ready", "1")
    redis_client.hset(f"{old}:text", "1", "user asdfasdf assistant <final_answer_turn> okay")
    redis_client.hset(f"{old}:answer", "1", "self")
    redis_client.hset(f"{old}:exact", "abc", "1")
    redis_client.sadd(f"{old}:band:0:00ff", "1")
    redis_client.set("winnow:dedupe:61:ready", "1")  # another project: untouched
    index = RedisDedupeIndex(REDIS_URL)
    assert not index.is_loaded(6)
    assert list(redis_client.scan_iter(f"{old}:*")) == []
    assert redis_client.get("winnow:dedupe:61:ready") == b"1"
    index.add(6, 1, _conv("asdfasdf", "Okay."))
    index.mark_loaded(6)
    assert index.is_loaded(6)
    assert index.find_or_add(6, 2, _conv("test", "Okay.")) is None
    copy = index.find_or_add(6, 3, _conv("asdfasdf!", "Okay"))
    assert copy is not None and copy.item_id == 1


@pytest.mark.redis
def test_candidates_come_with_fingerprints_and_an_item_without_one_is_not_ruled_out(
    redis_client: Redis,
) -> None:
    from workers.curation.dedupe import UNKNOWN, fingerprint, sides

    assert REDIS_URL
    index = RedisDedupeIndex(REDIS_URL)
    store = index.redis_store
    first = _conv("My order number 5521 is late and I would like a refund, please.", "Sorry!")
    second = _conv("My order number 5521 is late and I would like a refnud, please.", "Sorry!")
    assert index.find_or_add(8, 1, first) is None
    keys = store.redis.keys("winnow:dedupe:8:c:*")
    assert keys and all(redis_client.smembers(k) == {b"1"} for k in keys)
    found, prints = store.candidates(8, [k.decode().split(":c:", 1)[1] for k in keys])
    assert (found, prints) == ([1], fingerprint(sides(first).user))
    # An item indexed before fingerprints existed (the same format 2): the index is kept, the
    # item's fingerprint is UNKNOWN, so its text is still read.
    index.mark_loaded(8)
    redis_client.hdel("winnow:dedupe:8:print", "1")
    assert index.is_loaded(8)
    assert store.candidates(8, [k.decode().split(":c:", 1)[1] for k in keys]) == ([1], UNKNOWN)
    match = index.find_or_add(8, 2, second)
    assert match is not None and (match.item_id, match.kind) == (1, "near")
    index.forget(8, [1, 2])
    assert redis_client.hlen("winnow:dedupe:8:print") == 0


@pytest.mark.redis
def test_forget_finds_exact_keys_without_walking_the_index_and_walks_for_older_items(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert REDIS_URL
    index = RedisDedupeIndex(REDIS_URL)
    store = index.redis_store
    texts = [_conv(f"Question {n}: how do I renew passport number {n * 7919}?", "Like so.")
             for n in range(6)]
    for item_id, text in enumerate(texts, start=1):
        assert index.find_or_add(12, item_id, text) is None
    assert index.find_or_add(12, 7, texts[0]) is not None  # an exact copy of item 1

    def no_walk(*args: object, **kwargs: object) -> object:
        raise AssertionError("forget walked the exact-key hash")

    real_walk = store.redis.hscan_iter
    monkeypatch.setattr(store.redis, "hscan_iter", no_walk)
    index.forget(12, [7])  # the copy: item 1 keeps its exact key
    assert set(redis_client.hvals("winnow:dedupe:12:exact")) == {b"1", b"2", b"3", b"4", b"5",
                                                                  b"6"}
    index.forget(12, [1, 2])
    held = set(redis_client.hvals("winnow:dedupe:12:exact"))
    assert held == {b"3", b"4", b"5", b"6"}
    assert not {b"1", b"2", b"7"} & set(redis_client.hkeys("winnow:dedupe:12:key"))
    # An item indexed before exact keys were kept with their items: the walk finds it.
    redis_client.hdel("winnow:dedupe:12:key", "3")
    monkeypatch.setattr(store.redis, "hscan_iter", real_walk)
    index.forget(12, [3])
    assert set(redis_client.hvals("winnow:dedupe:12:exact")) == {b"4", b"5", b"6"}
    assert index.find_or_add(12, 8, texts[0]) is None  # canonical again, its copy forgotten
