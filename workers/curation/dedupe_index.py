"""The dedupe index: exact keys and MinHash LSH per project, in Redis (shared by every worker)
or in memory (the embedded mode).

`find_or_add` is idempotent: an item already indexed is its own canonical and gets None, so a
retried job gives the same answer. With Redis, a short lock per project makes "look up, then
insert" atomic across workers: two copies screened at once cannot both become canonical, and a
copy never links to an item that is itself a copy. Each item's answer is kept, so asking again
for the same item returns it unchanged.
In Redis the LSH bands are sets of item ids (see _RedisBands), so nothing read back is
unpickled; still, use a Redis only trusted services can write to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlparse

from datasketch import MinHash, MinHashLSH
from redis import Redis

from workers.curation.dedupe import DedupeConfig, exact_key, is_copy, normalize, signature


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
    """Where one backend keeps exact keys and normalised texts."""

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int: ...

    def answer(self, project_id: int, item_id: int) -> str | None: ...

    def remember(self, project_id: int, item_id: int, answer: str) -> None: ...

    def text(self, project_id: int, item_id: int) -> str | None: ...

    def set_text(self, project_id: int, item_id: int, text: str) -> None: ...

    def lsh(self, project_id: int) -> Any: ...

    def lock(self, project_id: int) -> Any: ...

    def forget(self, project_id: int, item_ids: set[int], signatures: dict[int, MinHash]) -> None:
        """Drop these items' texts, answers, exact keys and LSH entries."""


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
        norm = normalize(text)
        with self.store.lock(project_id):  # one decision at a time per project
            first = self.store.exact_get_or_set(project_id, exact_key(text), item_id)
            if first != item_id:
                # An exact copy of `first`, or of the item `first` itself copies.
                earlier = _decode(self.store.answer(project_id, first) or "self")
                return Match(earlier.item_id if earlier else first, "exact", 1.0)
            lsh = self.store.lsh(project_id)
            key = str(item_id).encode()
            sig = signature(norm, self.config)
            best: Match | None = None
            for other in lsh.query(sig):
                other_id = int(other)
                if other_id == item_id:
                    return None  # indexed by an earlier run of this job: it is canonical
                other_text = self.store.text(project_id, other_id)
                if other_text is None:
                    continue
                same, score = is_copy(norm, other_text, self.config)
                if same and (best is None or (score, -other_id) > (best.similarity, -best.item_id)):
                    best = Match(other_id, "near", score)
            if best is not None:
                return best
            self.store.set_text(project_id, item_id, norm)
            lsh.insert(key, sig, check_duplication=False)
        return None

    def forget(self, project_id: int, item_ids: Iterable[int]) -> None:
        """Erasure: nothing of these items stays in the index (an exact copy shared later is
        then a new canonical item)."""
        ids = set(item_ids)
        with self.store.lock(project_id):
            signatures = {}
            for item_id in ids:
                text = self.store.text(project_id, item_id)
                if text is not None:
                    signatures[item_id] = signature(text, self.config)
            self.store.forget(project_id, ids, signatures)

    def add(self, project_id: int, item_id: int, text: str) -> None:
        """Index without asking (rebuilding from the database)."""
        norm = normalize(text)
        self.store.exact_get_or_set(project_id, exact_key(text), item_id)
        with self.store.lock(project_id):
            lsh = self.store.lsh(project_id)
            key = str(item_id).encode()
            if self.store.text(project_id, item_id) is None:
                self.store.set_text(project_id, item_id, norm)
                lsh.insert(key, signature(norm, self.config), check_duplication=False)
            self.store.remember(project_id, item_id, "self")


def _encode(match: Match | None) -> str:
    return "self" if match is None else f"{match.item_id}:{match.kind}:{match.similarity!r}"


def _decode(answer: str) -> Match | None:
    if answer == "self":
        return None
    item_id, kind, similarity = answer.split(":")
    return Match(int(item_id), "exact" if kind == "exact" else "near", float(similarity))


class _MemoryStore:
    def __init__(self, config: DedupeConfig) -> None:
        self.config = config
        self.exact: dict[tuple[int, str], int] = {}
        self.texts: dict[tuple[int, int], str] = {}
        self.answers: dict[tuple[int, int], str] = {}
        self.lshs: dict[int, MinHashLSH] = {}
        self.guard = threading.RLock()

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int:
        with self.guard:
            return self.exact.setdefault((project_id, key), item_id)

    def answer(self, project_id: int, item_id: int) -> str | None:
        return self.answers.get((project_id, item_id))

    def remember(self, project_id: int, item_id: int, answer: str) -> None:
        self.answers[(project_id, item_id)] = answer

    def text(self, project_id: int, item_id: int) -> str | None:
        return self.texts.get((project_id, item_id))

    def set_text(self, project_id: int, item_id: int, text: str) -> None:
        self.texts[(project_id, item_id)] = text

    def lsh(self, project_id: int) -> MinHashLSH:
        with self.guard:
            if project_id not in self.lshs:
                self.lshs[project_id] = MinHashLSH(
                    threshold=self.config.candidate_threshold,
                    num_perm=self.config.num_perm,
                    params=band_layout(self.config.candidate_threshold, self.config.num_perm),
                )
            return self.lshs[project_id]

    def lock(self, project_id: int) -> Any:
        return self.guard

    def forget(self, project_id: int, item_ids: set[int], signatures: dict[int, MinHash]) -> None:
        with self.guard:
            for key in [k for k, v in self.exact.items() if k[0] == project_id and v in item_ids]:
                del self.exact[key]
            lsh = self.lsh(project_id)
            for item_id in item_ids:
                self.texts.pop((project_id, item_id), None)
                self.answers.pop((project_id, item_id), None)
                if str(item_id).encode() in lsh:
                    lsh.remove(str(item_id).encode())


@lru_cache(maxsize=32)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH chooses for this threshold; it integrates
    numerically to find them (tens of ms), so once per setting, not once per index."""
    probe = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(probe.b), int(probe.r)


class MemoryDedupeIndex(_Index):
    def __init__(self, config: DedupeConfig | None = None) -> None:
        super().__init__(_MemoryStore(config or DedupeConfig()), config or DedupeConfig())
        self.loaded: set[int] = set()

    def is_loaded(self, project_id: int) -> bool:
        return project_id in self.loaded

    def mark_loaded(self, project_id: int) -> None:
        self.loaded.add(project_id)


class _RedisBands:
    """MinHash LSH bands as Redis sets, one pipeline per query or insert (datasketch's own
    Redis storage makes a round trip per band, ~14 ms an item here). Members are item ids as
    text: nothing is unpickled."""

    def __init__(self, redis: Redis, prefix: str, bands: int, rows: int) -> None:
        self.redis, self.prefix, self.bands, self.rows = redis, prefix, bands, rows

    def _keys(self, sig: MinHash) -> list[str]:
        values = sig.hashvalues
        return [
            f"{self.prefix}:{b}:{values[b * self.rows : (b + 1) * self.rows].tobytes().hex()}"
            for b in range(self.bands)
        ]

    def query(self, sig: MinHash) -> set[bytes]:
        pipe = self.redis.pipeline(transaction=False)
        for key in self._keys(sig):
            pipe.smembers(key)
        found: set[bytes] = set()
        for members in pipe.execute():
            found.update(members)
        return found

    def insert(self, key: bytes, sig: MinHash, check_duplication: bool = False) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for band in self._keys(sig):
            pipe.sadd(band, key)
        pipe.execute()

    def remove(self, key: bytes, sig: MinHash) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for band in self._keys(sig):
            pipe.srem(band, key)
        pipe.execute()


class _RedisStore:
    def __init__(self, url: str, config: DedupeConfig, prefix: str) -> None:
        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        parsed = urlparse(url)
        self.redis_params = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 6379,
            "db": int((parsed.path or "/0").lstrip("/") or 0),
            "password": parsed.password,
        }
        self.config = config
        self.prefix = prefix
        # The band layout datasketch's MinHashLSH would choose for this threshold.
        self.bands, self.rows = band_layout(config.candidate_threshold, config.num_perm)

    def _key(self, project_id: int, what: str) -> str:
        return f"{self.prefix}:{project_id}:{what}"

    def exact_get_or_set(self, project_id: int, key: str, item_id: int) -> int:
        name = self._key(project_id, "exact")
        self.redis.hsetnx(name, key, str(item_id))
        stored = cast(bytes | None, self.redis.hget(name, key))
        return int(stored) if stored else item_id

    def answer(self, project_id: int, item_id: int) -> str | None:
        value = self.redis.hget(self._key(project_id, "answer"), str(item_id))
        return value.decode() if isinstance(value, bytes) else None

    def remember(self, project_id: int, item_id: int, answer: str) -> None:
        self.redis.hset(self._key(project_id, "answer"), str(item_id), answer)

    def text(self, project_id: int, item_id: int) -> str | None:
        value = self.redis.hget(self._key(project_id, "text"), str(item_id))
        return value.decode() if isinstance(value, bytes) else None

    def set_text(self, project_id: int, item_id: int, text: str) -> None:
        self.redis.hset(self._key(project_id, "text"), str(item_id), text)

    def lsh(self, project_id: int) -> _RedisBands:
        return _RedisBands(self.redis, self._key(project_id, "band"), self.bands, self.rows)

    @contextmanager
    def lock(self, project_id: int) -> Iterator[None]:
        with self.redis.lock(self._key(project_id, "lock"), timeout=30, blocking_timeout=60):
            yield

    def forget(self, project_id: int, item_ids: set[int], signatures: dict[int, MinHash]) -> None:
        exact = self._key(project_id, "exact")
        wanted = {str(i).encode() for i in item_ids}
        stale = [k for k, v in self.redis.hscan_iter(exact) if v in wanted]
        if stale:
            self.redis.hdel(exact, *stale)
        names = [str(i) for i in item_ids]
        if names:
            self.redis.hdel(self._key(project_id, "text"), *names)
            self.redis.hdel(self._key(project_id, "answer"), *names)
        bands = self.lsh(project_id)
        for item_id, sig in signatures.items():
            bands.remove(str(item_id).encode(), sig)


class RedisDedupeIndex(_Index):
    def __init__(
        self, url: str, config: DedupeConfig | None = None, prefix: str = "winnow:dedupe"
    ) -> None:
        self.redis_store = _RedisStore(url, config or DedupeConfig(), prefix)
        super().__init__(self.redis_store, config or DedupeConfig())

    def is_loaded(self, project_id: int) -> bool:
        """False after Redis lost its data: the index is then rebuilt from the database."""
        return bool(self.redis_store.redis.exists(self.redis_store._key(project_id, "ready")))

    def mark_loaded(self, project_id: int) -> None:
        self.redis_store.redis.set(self.redis_store._key(project_id, "ready"), "1")
