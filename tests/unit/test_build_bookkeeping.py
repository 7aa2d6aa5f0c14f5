"""What the dataset build counts and frames as it goes gives the same answers as the plain
functions it stands in for (the manifest's label tallies and item lists, the users' scores),
and the collector's deferral during a build always ends."""

from __future__ import annotations

import gc
import io
import random
import threading
from collections import Counter

import orjson

from app import manifest
from app.feedback import EVENT_TYPES, SignalMap
from workers.collector import full_collections_deferred
from workers.datasets.formats import Sink
from workers.datasets.select import FeedbackScores, feedback_score


def _entries(n: int, seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    modes = ["factual_error", "off_topic", "unsafe", "tone"]
    return [
        [f"i-{i}", f"{rng.getrandbits(64):016x}", rng.choice(["", "e", "ef"]),
         rng.choice([None, "good", "bad"]), rng.choice([None, "positive", "strong_negative"]),
         rng.sample(modes, rng.randint(0, 2)), rng.random() < 0.3]
        for i in range(n)
    ]


def test_the_running_tally_is_the_tally_of_the_entries() -> None:
    entries = _entries(500, 1)
    running = manifest.Tally()
    for e in entries:
        running.add(e[3], e[4], e[5], e[6])  # type: ignore[arg-type]
    origins = Counter({"tweak": 3, "ranking": 1})
    assert running.result(origins) == manifest.tally(entries, origins)
    assert manifest.tally([], Counter()) == manifest.Tally().result({})


def test_framed_item_lists_give_the_bytes_of_the_plain_writer() -> None:
    head = {"format": manifest.FORMAT, "dataset": "d", "version": 1}
    for sizes in [(0, 0, 0), (1, 0, 2), (300, 40, 0), (5000, 1, 1)]:
        lists = {split: _entries(n, n) for split, n in zip(("train", "validation", "test"), sizes,
                                                           strict=True)}
        plain, framed = io.BytesIO(), io.BytesIO()
        manifest.write(Sink(plain), head, {s: (orjson.dumps(e) for e in es)
                                           for s, es in lists.items()})
        files = {}
        for split, es in lists.items():
            files[split] = io.BytesIO(b"".join(manifest.ENTRY + orjson.dumps(e) for e in es))
            files[split].seek(0, io.SEEK_END)  # where a build leaves them
        manifest.write_framed(Sink(framed), head, files)  # type: ignore[arg-type]
        assert framed.getvalue() == plain.getvalue(), sizes
        assert orjson.loads(framed.getvalue())["items"]["train"] == lists["train"]


def test_kept_scores_are_the_scores() -> None:
    signals = SignalMap.from_overrides({"types": {"copy": "neutral"}, "ratings": {"3": "positive"}})
    scores = FeedbackScores(signals)
    scores.LIMIT = 50  # the memo starts again many times below
    rng = random.Random(7)
    types = list(EVENT_TYPES)
    for _ in range(2000):
        by_type = {t: rng.randint(1, 4) for t in rng.sample(types, rng.randint(0, 4))}
        ratings = {v: rng.randint(1, 3) for v in rng.sample(range(1, 6), rng.randint(0, 2))}
        expected = feedback_score(by_type, ratings, signals)
        assert scores(by_type, ratings) == expected
        assert scores(by_type, ratings) == expected  # and again, from the memo
    assert len(scores.memo) <= scores.LIMIT
    # The same counts under a rating and under a type are different mixes.
    assert scores({"rating": 1}, {}) != scores({"rating": 1}, {1: 1})


def test_full_collections_wait_during_builds_and_resume_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    with full_collections_deferred():
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] > 10**6
        with full_collections_deferred():  # two jobs at once in one process
            pass
        assert gc.get_threshold()[2] > 10**6  # the first to end does not resume them
    assert gc.get_threshold() == before

    # Jobs in threads, ending in any order; one of them failing.
    entered, release = threading.Barrier(4), threading.Event()

    def job(n: int) -> None:
        try:
            with full_collections_deferred():
                entered.wait()
                release.wait()
                if n == 2:
                    raise RuntimeError("the build failed")
        except RuntimeError:
            pass

    threads = [threading.Thread(target=job, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    entered.wait()
    assert gc.get_threshold()[2] > 10**6
    release.set()
    for t in threads:
        t.join()
    assert gc.get_threshold() == before
