"""The dedupe index: exact keys and MinHash LSH per project, in Redis (shared by every worker)
or in memory (the embedded mode).

`find_or_add` is idempotent: an item already indexed is its own canonical and gets None, so a
retried job gives the same answer. With Redis, a short lock per project makes "look up, then
insert" atomic across workers: two copies screened at once cannot both become canonical, and a
copy never links to an item that is itself a copy. Each item's answer is kept, so asking again
for the same item returns it unchanged.
In Redis the candidate keys are sets of item ids and everything else plain strings (see
_RedisStore), so nothing read back is unpickled; still, use a Redis only trusted services can
write to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from redis import Redis

from workers.curation.dedupe import (
    FINGERPRINT,
    UNKNOWN,
    DedupeConfig,
    Sides,
    candidate_keys,
    could_copy,
    exact_key,
    fingerprint,
    is_copy,
    sides,
)

# The Redis entries' format. 1: LSH bands over the whole conversation text, normalised texts.
# 2: candidate keys over the user text only, texts as encoded Sides. An index in another
# format is dropped and rebuilt from the database (see RedisDedupeIndex.is_loaded). The
# fingerprints (the `print` hash) came later within format 2, so an index written before them
# is kept: its items have none and are never ruled out (UNKNOWN), new items get one.
FORMAT = "2"


@dataclass(frozen=True)
class Match:
    item_id: int
    kind: Literal["exact", "near"]
    similarity: float


class DedupeIndex(Protocol):
    def find_or_add(self, project_id: int, item_id: int, text: str) -> Match | None: ...

    def add(self, project_id: int, item_id: int, text: str) -> None: ...

    def is_loaded(self, project_id: int) -> bool: ...

    def mark_loaded(self, project_id: int) -> None: ...

    def forget(self, project_id: int, item_ids: Iterable[int]) -> None: ...


class _Store(Protocol):
    """Where one backend keeps exact keys, each item's sides and answer, and candidate keys."""

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int: ...

    def answer(self, project_id: int, item_id: int) -> str | None: ...

    def remember(self, project_id: int, item_id: int, answer: str) -> None: ...

    def texts(self, project_id: int, item_ids: list[int]) -> list[str | None]: ...

    def set_text(self, project_id: int, item_id: int, text: str) -> None: ...

    def candidates(self, project_id: int, keys: list[str]) -> tuple[list[int], bytes]:
        """The items indexed under any of these keys, and their fingerprints (FINGERPRINT
        bytes each, in the same order; UNKNOWN for an item that has none)."""

    def insert(self, project_id: int, item_id: int, keys: list[str], print_: bytes) -> None: ...

    def lock(self, project_id: int) -> Any: ...

    def forget(self, project_id: int, item_ids: set[int], keys: dict[int, list[str]]) -> None:
        """Drop these items' sides, answers, exact keys, fingerprints and candidate keys."""


class _Index:
    def __init__(self, store: _Store, config: DedupeConfig) -> None:
        self.store = store
        self.config = config

    def find_or_add(self, project_id: int, item_id: int, text: str) -> Match | None:
        prior = self.store.answer(project_id, item_id)
        if prior is not None:  # a retried or repeated job: the same answer as the first time
            return _decode(prior)
        match = self._find_or_add(project_id, item_id, text)
        self.store.remember(project_id, item_id, _encode(match))
        return match

    def _find_or_add(self, project_id: int, item_id: int, text: str) -> Match | None:
        mine = sides(text)
        with self.store.lock(project_id):  # one decision at a time per project
            first = self.store.exact_get_or_set(project_id, exact_key(text), item_id)
            if first != item_id:
                # An exact copy of `first`, or of the item `first` itself copies.
                earlier = _decode(self.store.answer(project_id, first) or "self")
                return Match(earlier.item_id if earlier else first, "exact", 1.0)
            keys = candidate_keys(mine, self.config)
            found, prints = self.store.candidates(project_id, keys)
            if item_id in found:
                return None  # indexed by an earlier run of this job: it is canonical
            # Only the candidates whose fingerprint allows a copy are read and compared.
            possible = could_copy(mine.user, prints, self.config)
            others = sorted(i for i, ok in zip(found, possible, strict=True) if ok)
            best: Match | None = None
            for other_id, stored in zip(others, self.store.texts(project_id, others), strict=True):
                other = Sides.decode(stored) if stored is not None else None
                if other is None:
                    continue
                same, score = is_copy(mine, other, self.config)
                if same and (best is None or score > best.similarity):
                    best = Match(other_id, "near", score)
            if best is not None:
                return best
            self.store.set_text(project_id, item_id, mine.encode())
            self.store.insert(project_id, item_id, keys, fingerprint(mine.user))
        return None

    def forget(self, project_id: int, item_ids: Iterable[int]) -> None:
        """Erasure: nothing of these items stays in the index (an exact copy shared later is
        then a new canonical item)."""
        ids = sorted(set(item_ids))
        with self.store.lock(project_id):
            keys = {}
            for item_id, stored in zip(ids, self.store.texts(project_id, ids), strict=True):
                other = Sides.decode(stored) if stored is not None else None
                if other is not None:
                    keys[item_id] = candidate_keys(other, self.config)
            self.store.forget(project_id, set(ids), keys)

    def add(self, project_id: int, item_id: int, text: str) -> None:
        """Index without asking (rebuilding from the database)."""
        mine = sides(text)
        self.store.exact_get_or_set(project_id, exact_key(text), item_id)
        with self.store.lock(project_id):
            if self.store.texts(project_id, [item_id]) == [None]:
                self.store.set_text(project_id, item_id, mine.encode())
                self.store.insert(project_id, item_id, candidate_keys(mine, self.config),
                                  fingerprint(mine.user))
            self.store.remember(project_id, item_id, "self")


def _encode(match: Match | None) -> str:
    return "self" if match is None else f"{match.item_id}:{match.kind}:{match.similarity!r}"


def _decode(answer: str) -> Match | None:
    if answer == "self":
        return None
    item_id, kind, similarity = answer.split(":")
    return Match(int(item_id), "exact" if kind == "exact" else "near", float(similarity))


class _MemoryStore:
    def __init__(self) -> None:
        self.exact: dict[tuple[int, str], int] = {}
        self.sides: dict[tuple[int, int], str] = {}
        self.answers: dict[tuple[int, int], str] = {}
        self.prints: dict[tuple[int, int], bytes] = {}
        self.keys: dict[tuple[int, int], str] = {}  # each item's exact key
        self.buckets: dict[tuple[int, str], set[int]] = {}
        self.guard = threading.RLock()

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int:
        with self.guard:
            self.keys[(project_id, item_id)] = key
            return self.exact.setdefault((project_id, key), item_id)

    def answer(self, project_id: int, item_id: int) -> str | None:
        return self.answers.get((project_id, item_id))

    def remember(self, project_id: int, item_id: int, answer: str) -> None:
        self.answers[(project_id, item_id)] = answer

    def texts(self, project_id: int, item_ids: list[int]) -> list[str | None]:
        return [self.sides.get((project_id, i)) for i in item_ids]

    def set_text(self, project_id: int, item_id: int, text: str) -> None:
        self.sides[(project_id, item_id)] = text

    def candidates(self, project_id: int, keys: list[str]) -> tuple[list[int], bytes]:
        found: set[int] = set()
        for key in keys:
            found |= self.buckets.get((project_id, key), set())
        ids = list(found)
        return ids, b"".join(self.prints.get((project_id, i), UNKNOWN) for i in ids)

    def insert(self, project_id: int, item_id: int, keys: list[str], print_: bytes) -> None:
        with self.guard:
            self.prints[(project_id, item_id)] = print_
            for key in keys:
                self.buckets.setdefault((project_id, key), set()).add(item_id)

    def lock(self, project_id: int) -> Any:
        return self.guard

    def forget(self, project_id: int, item_ids: set[int], keys: dict[int, list[str]]) -> None:
        with self.guard:
            for item_id in item_ids:
                exact_key = self.keys.pop((project_id, item_id), None)
                if exact_key is not None and self.exact.get((project_id, exact_key)) == item_id:
                    del self.exact[(project_id, exact_key)]
                self.sides.pop((project_id, item_id), None)
                self.answers.pop((project_id, item_id), None)
                self.prints.pop((project_id, item_id), None)
                for key in keys.get(item_id, []):
                    bucket = self.buckets.get((project_id, key))
                    if bucket is not None:
                        bucket.discard(item_id)
                        if not bucket:
                            del self.buckets[(project_id, key)]


class MemoryDedupeIndex(_Index):
    def __init__(self, config: DedupeConfig | None = None) -> None:
        super().__init__(_MemoryStore(), config or DedupeConfig())
        self.loaded: set[int] = set()

    def is_loaded(self, project_id: int) -> bool:
        return project_id in self.loaded

    def mark_loaded(self, project_id: int) -> None:
        self.loaded.add(project_id)


class _RedisStore:
    """Per project: hashes `exact` (key -> item), `key` (item -> its exact key), `text` (item ->
    encoded Sides), `answer` (item -> its answer), `print` (item -> its fingerprint in hex), a
    set `c:<key>` of item ids per candidate key, and `ready`, which holds the FORMAT the entries
    were written in."""

    def __init__(self, url: str, prefix: str) -> None:
        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        self.prefix = prefix
        self._candidates = self.redis.register_script(_CANDIDATES)

    def _key(self, project_id: int, what: str) -> str:
        return f"{self.prefix}:{project_id}:{what}"

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int:
        name = self._key(project_id, "exact")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hsetnx(name, key, str(item_id))
        pipe.hget(name, key)
        pipe.hset(self._key(project_id, "key"), str(item_id), key)  # for `forget`
        stored = cast(bytes | None, pipe.execute()[1])
        return int(stored) if stored else item_id

    def answer(self, project_id: int, item_id: int) -> str | None:
        value = self.redis.hget(self._key(project_id, "answer"), str(item_id))
        return value.decode() if isinstance(value, bytes) else None

    def remember(self, project_id: int, item_id: int, answer: str) -> None:
        self.redis.hset(self._key(project_id, "answer"), str(item_id), answer)

    def texts(self, project_id: int, item_ids: list[int]) -> list[str | None]:
        if not item_ids:
            return []
        name = self._key(project_id, "text")
        values = cast(list[bytes | None], self.redis.hmget(name, [str(i) for i in item_ids]))
        return [v.decode() if isinstance(v, bytes) else None for v in values]

    def set_text(self, project_id: int, item_id: int, text: str) -> None:
        self.redis.hset(self._key(project_id, "text"), str(item_id), text)

    def candidates(self, project_id: int, keys: list[str]) -> tuple[list[int], bytes]:
        """One script call: the union of the keys' sets and the members' fingerprints, as two
        strings (a reply element per candidate would cost redis-py a parse each)."""
        if not keys:
            return [], b""
        names = [self._key(project_id, f"c:{key}") for key in keys]
        ids, prints = cast(list[bytes], self._candidates(
            keys=[*names, self._key(project_id, "print")], args=[UNKNOWN.hex()]))
        if not ids:
            return [], b""
        found = [int(i) for i in ids.split(b",")]
        try:
            data = bytes.fromhex(prints.decode())
        except ValueError:
            data = b""
        if len(data) != FINGERPRINT * len(found):  # not this format's: nothing ruled out
            data = UNKNOWN * len(found)
        return found, data

    def insert(self, project_id: int, item_id: int, keys: list[str], print_: bytes) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self._key(project_id, "print"), str(item_id), print_.hex())
        for key in keys:
            pipe.sadd(self._key(project_id, f"c:{key}"), str(item_id))
        pipe.execute()

    @contextmanager
    def lock(self, project_id: int) -> Iterator[None]:
        with self.redis.lock(self._key(project_id, "lock"), timeout=30, blocking_timeout=60):
            yield

    def forget(self, project_id: int, item_ids: set[int], keys: dict[int, list[str]]) -> None:
        exact = self._key(project_id, "exact")
        names = sorted(str(i) for i in item_ids)
        if not names:
            return
        own = cast(list[bytes | None], self.redis.hmget(self._key(project_id, "key"), names))
        known: dict[bytes, bytes] = {
            name.encode(): key for name, key in zip(names, own, strict=True) if key}
        stale: list[bytes] = []
        if known:  # an item's exact key goes if it still names the item (a copy's does not)
            exact_keys = list(known.values())
            holders = cast(list[bytes | None], self.redis.hmget(exact, exact_keys))
            stale = [k for k, holder in zip(exact_keys, holders, strict=True)
                     if holder is not None and known.get(holder) == k]
        unknown = {name.encode() for name, key in zip(names, own, strict=True) if not key}
        if unknown:
            # Items indexed before their exact key was kept with them: a walk over the whole
            # hash, a thousand entries a round trip (100,000 entries: 0.4 s).
            stale += [k for k, v in self.redis.hscan_iter(exact, count=1000) if v in unknown]
        pipe = self.redis.pipeline(transaction=False)  # the deletions in one round trip
        if stale:
            pipe.hdel(exact, *[k.decode() for k in stale])
        for what in ("text", "answer", "print", "key"):
            pipe.hdel(self._key(project_id, what), *names)
        for item_id, item_keys in keys.items():
            for key in item_keys:
                pipe.srem(self._key(project_id, f"c:{key}"), str(item_id))
        pipe.execute()

    def drop(self, project_id: int) -> None:
        """Every entry of the project but its lock (an index written in an older format)."""
        lock = self._key(project_id, "lock").encode()
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=self._key(project_id, "*"), count=1000):
            if key != lock:
                batch.append(key)
            if len(batch) >= 1000:
                self.redis.unlink(*batch)
                batch = []
        if batch:
            self.redis.unlink(*batch)


# KEYS: the candidate sets, then the fingerprint hash; ARGV[1]: UNKNOWN in hex. The members
# comma-joined, and their fingerprints concatenated in the same order (HMGET a thousand at a
# time: Lua's unpack has a limit).
_CANDIDATES = """
local sets = {}
for i = 1, #KEYS - 1 do sets[i] = KEYS[i] end
local ids = redis.call('SUNION', unpack(sets))
local prints = {}
for start = 1, #ids, 1000 do
  local stop = math.min(start + 999, #ids)
  local got = redis.call('HMGET', KEYS[#KEYS], unpack(ids, start, stop))
  for j = 1, #got do
    prints[#prints + 1] = got[j] or ARGV[1]
  end
end
return {table.concat(ids, ','), table.concat(prints)}
"""


class RedisDedupeIndex(_Index):
    def __init__(
        self, url: str, config: DedupeConfig | None = None, prefix: str = "winnow:dedupe"
    ) -> None:
        self.redis_store = _RedisStore(url, prefix)
        super().__init__(self.redis_store, config or DedupeConfig())

    def is_loaded(self, project_id: int) -> bool:
        """False after Redis lost its data, or when the entries are in an older format (they
        are then dropped): the index is rebuilt from the database."""
        store = self.redis_store
        ready = store._key(project_id, "ready")
        value = store.redis.get(ready)
        if value is None or value == FORMAT.encode():
            return value is not None
        with store.lock(project_id):  # another worker may be migrating it too
            if store.redis.get(ready) not in (None, FORMAT.encode()):
                store.drop(project_id)
        return False

    def mark_loaded(self, project_id: int) -> None:
        self.redis_store.redis.set(self.redis_store._key(project_id, "ready"), FORMAT)
