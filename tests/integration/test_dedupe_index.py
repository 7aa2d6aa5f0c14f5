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
