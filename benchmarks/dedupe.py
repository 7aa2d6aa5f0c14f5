"""Dedupe index scaling benchmark: the near-duplicate lookup's time per item, and the index's
memory per item, in Redis, as one project's index grows from 10,000 to 1,000,000 items.

- lookup: what the curation job's dedupe stage does for a new item, `RedisDedupeIndex.
  find_or_add` on an item not yet indexed (its earlier answer, the lock, the exact key, the LSH
  and deletion candidate keys, the candidates with their fingerprints, the texts of those a
  fingerprint allows and the copy check; a fresh item is then inserted and its answer kept),
  timed per call. Each round looks up `--lookups` items, 90% fresh conversations and 10% near
  copies (two typos in the user turn) of items indexed at every size, and counts the copies
  found as near copies of their own original. The same lookups at every size; after a round
  its items are taken out again with the index's own `forget`, so each round sees exactly the
  size it is quoted at. Median of `--rounds` rounds, microseconds per item; also the CPU time
  per lookup (this process plus the Redis server), steadier than wall time on a shared machine.
  Before
  the rounds, every lookup's candidates are counted (the items its candidate keys hold, and
  the texts its fingerprint lets it read), and the time a candidate adds is fitted over the
  first round's fresh long-text lookups. Each size is its own project, all filled before the
  timed rounds, which take the sizes in turn (a machine holding a large index runs every
  process slower: on the 2-core VM these figures come from, a 3.5 GB process doubled the CPU
  of every Redis call, whichever process held the memory); the smallest is also timed alone,
  before the others are filled, to show that effect.
- memory: Redis `used_memory` after the fill less before it, per indexed item; and a breakdown
  from `MEMORY USAGE` (the three hashes with sampled fields, the candidate sets sampled), with
  the keys per item.

The index is filled in bulk, not through `add` (eight round trips per item besides its
signature: ~450 items/s, 40 minutes for a million, the project's lock serialising processes):
worker processes (`--workers`, one per core) compute each item's exact key, Sides and
candidate keys with the index's own functions (`exact_key`, `sides`, `candidate_keys`) and call
`_RedisStore`'s own methods (`exact_get_or_set`, `set_text`, `insert`, `remember`) on a recorder
in place of its Redis client, so every key and field is named by the store itself; the recorded
HSETNX, HSET and SADD commands are replayed by a Lua script, a thousand to a call (redis-py
costs ~10 us of CPU per pipelined command, and an item takes 27). That is what `add` writes,
less the lock and the "already indexed?" read (every item is new). Before the fill, 300 items
are written both ways, through `add` and in bulk, and the two projects' entries compared: the
benchmark stops if they differ. The fill's processes give datasketch's MinHash the seed's
permutations drawn once (datasketch draws the same 128 pairs again for every signature) and the
same SHA-1 hash without a slice: the same hash values, checked before they start and by
that comparison; the lookups run datasketch unchanged.

Conversations: a user turn and an assistant reply composed deterministically from `--seed`
(templates and word lists: support, code, cooking, travel, money, health and writing questions
with names, products, numbers, places and less common English words from wordfreq), so near
copies among them are rare; about one user turn in ten is short (40 characters or fewer, which
also get deletion keys). Unrelated conversations still share a candidate key now and then (an
LSH false positive, mostly from phrasing they have in common): that rate, measured on the fresh
lookups at each size, sets how many candidates a lookup gets, which grows with the index.

Redis: `WINNOW_BENCH_REDIS_URL`, a benchmark database, flushed at the start and at the end
(`--keep` keeps the fills; 1,000,000 items take about 3.5 GB). Run with
`bash benchmarks/run-dedupe` (starts Redis; about 5 minutes on 2 cores, 4 of them filling);
`--sizes 1000,10000 --rounds 1` for a look. Results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import multiprocessing
import os
import platform
import random
import statistics
import struct
import sys
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash  # noqa: E402
from redis import Redis  # noqa: E402

from workers.curation import dedupe  # noqa: E402
from workers.curation.dedupe import (  # noqa: E402
    DedupeConfig,
    candidate_keys,
    conversation_text,
    could_copy,
    exact_key,
    fingerprint,
    normalize,
    sides,
    turns_of,
)
from workers.curation.dedupe_index import RedisDedupeIndex, _RedisStore  # noqa: E402
from workers.curation.types import Turn  # noqa: E402

PROJECT = 1
CHECK_ITEMS = 300  # written through `add` and in bulk, compared
LOOKUP_BASE = 1_000_000_000  # looked-up items' ids, above every indexed one
CHUNK = 2_000  # items per worker task and pipeline
TOLERANCE = 0.20  # the issue's +-20%
NEAR_SHARE = 0.10

# ---------------------------------------------------------------------------------------------
# Conversations

NAMES = ["Anna", "Ben", "Carla", "Dmitri", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas",
         "Keiko", "Lars", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma",
         "Viktor", "Wen", "Xavier", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Diego", "Emeka",
         "Freya", "Gustav", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nora", "Oskar",
         "Paula", "Rahul", "Sofia", "Theo", "Valentina", "Wojtek", "Yara", "Ahmed", "Beatriz",
         "Cyril", "Dana", "Elena", "Fatima", "Giulia", "Henrik", "Ingrid", "Jamal", "Kasia", "Luca",
         "Mei", "Nikos", "Olga", "Pedro", "Rania", "Stefan", "Tara", "Ulrich", "Vera", "Will",
         "Ximena", "Yuki", "Zeynep", "Aiko", "Bashir", "Camille", "Dario", "Esther", "Felix"]
CITIES = ["Lisbon", "Oslo", "Kraków", "Nairobi", "Osaka", "Lyon", "Porto", "Tallinn", "Bilbao",
          "Leeds", "Graz", "Ghent", "Turin", "Austin", "Denver", "Quebec", "Hobart", "Cusco",
          "Hanoi", "Busan", "Izmir", "Seville", "Bergen", "Gdańsk", "Utrecht", "Malmö", "Zagreb",
          "Riga", "Valencia", "Bologna", "Accra", "Kigali", "Perth", "Dublin", "Cork", "Galway",
          "Salzburg", "Bruges", "Antwerp", "Toulouse", "Nantes", "Bremen", "Leipzig", "Dresden",
          "Aarhus", "Tampere", "Vilnius", "Ljubljana", "Split", "Brno"]
PRODUCTS = ["Jira", "Notion", "Slack", "Excel", "Postgres", "Docker", "Kubernetes", "Terraform",
            "Figma", "Shopify", "Stripe", "Zendesk", "Salesforce", "HubSpot", "Airtable", "Trello",
            "Asana", "Webflow", "WordPress", "Django", "Flask", "React", "Vue", "Svelte", "Pandas",
            "NumPy", "Spark", "Kafka", "Redis", "Nginx", "Grafana", "Prometheus", "Ansible",
            "Jenkins", "GitLab", "Bitbucket", "Xero", "QuickBooks", "Outlook", "Thunderbird",
            "Lightroom", "Blender", "Unity", "Godot", "Arduino", "RaspberryPi", "Zapier"]
FEATURES = ["export", "import", "login", "signup", "search", "checkout", "billing", "invoices",
            "reports", "dashboards", "notifications", "webhooks", "permissions", "backups",
            "migrations", "sync", "uploads", "downloads", "filters", "templates", "calendar",
            "reminders", "comments", "tags", "labels", "sharing", "roles", "tokens", "scheduler",
            "queue", "cache", "logs", "alerts", "metrics", "themes", "plugins", "shortcuts",
            "autosave", "history", "versions", "archive", "trash", "settings", "profile", "avatar",
            "password", "two-factor", "onboarding", "analytics", "pagination", "sorting",
            "tooltips"]
OBJECTS = ["spreadsheet", "database", "table", "column", "index", "query", "script", "function",
           "class", "module", "package", "container", "image", "volume", "cluster", "node",
           "service", "endpoint", "form", "button", "page", "layout", "chart", "graph", "invoice",
           "receipt", "order", "refund", "subscription", "account", "workspace", "folder", "file",
           "archive", "photo", "video", "playlist", "recipe", "dough", "sauce", "marinade",
           "budget", "mortgage", "loan", "pension", "ticket", "itinerary", "visa", "passport",
           "essay", "cover-letter", "resume", "poem", "speech", "email", "newsletter", "blog-post",
           "headline", "slogan"]
VERBS = ["export", "rename", "delete", "restore", "merge", "split", "rotate", "compress", "encrypt",
         "decrypt", "schedule", "automate", "migrate", "upgrade", "downgrade", "configure",
         "install", "uninstall", "debug", "profile", "optimise", "cache", "validate", "format",
         "convert", "translate", "summarise", "rewrite", "shorten", "translate", "proofread",
         "print", "share", "embed", "sort", "filter", "group", "count", "sum", "average", "plot",
         "publish", "archive", "duplicate", "sync", "reset", "cancel", "refund", "transfer",
         "track", "freeze", "thaw", "marinate", "bake", "roast", "ferment"]
ADJECTIVES = ["slow", "empty", "broken", "duplicated", "missing", "corrupted", "outdated", "huge",
              "tiny", "blurry", "misaligned", "truncated", "garbled", "frozen", "flaky", "noisy",
              "stale", "invisible", "greyed-out", "oversized", "undersized", "crooked", "soggy",
              "burnt", "salty", "bland", "lumpy", "overdue", "expensive", "confusing"]
TOPICS = ["sourdough", "kimchi", "risotto", "ramen", "paella", "tiramisu", "hummus", "gnocchi",
          "curry", "pho", "dumplings", "bagels", "croissants", "kombucha", "granola", "lasagne",
          "falafel", "chowder", "goulash", "borscht", "taxes", "savings", "index-funds", "bonds",
          "crypto", "rent", "insurance", "retirement", "payroll", "invoices", "marathon",
          "training", "stretching", "sleep", "hydration", "posture", "meditation", "allergies",
          "vitamins", "jet-lag", "migraines", "gardening", "composting", "tomatoes", "orchids",
          "succulents", "bonsai", "beekeeping", "woodworking", "knitting", "pottery", "watercolour",
          "calligraphy", "photography", "astronomy", "birdwatching", "chess", "guitar", "piano",
          "ukulele", "salsa", "tango"]
LANGS = ["Python", "JavaScript", "TypeScript", "Rust", "Go", "Java", "Kotlin", "Swift", "Ruby",
         "PHP", "Haskell", "Elixir", "Scala", "Lua", "Perl", "Julia", "C#", "C++", "Bash",
         "PowerShell", "SQL", "R", "Dart", "Zig", "OCaml"]
ERRORS = ["timeout", "permission-denied", "out-of-memory", "segfault", "deadlock", "404", "500",
          "502", "403", "401", "connection-refused", "disk-full", "checksum-mismatch",
          "null-pointer", "stack-overflow", "rate-limited", "certificate-expired", "encoding-error",
          "syntax-error", "import-error"]
WHEN = ["yesterday", "this-morning", "last-week", "since-the-update", "after-the-migration",
        "every-monday", "on-weekends", "at-night", "during-peak-hours", "since-march",
        "after-reinstalling", "sometimes-randomly", "only-on-mobile", "only-in-firefox",
        "on-the-staging-server"]
PEOPLE = ["my-boss", "my-landlord", "my-sister", "my-neighbour", "our-accountant", "the-client",
          "my-teacher", "my-partner", "my-team", "my-grandmother", "the-support-agent",
          "my-flatmate", "a-colleague", "my-doctor"]

GREETINGS = ["Hi!", "Hello,", "Hey there.", "Good morning.", "Quick question:", "Hi, {name} here.",
             "Hello again.", "Hey,", "Sorry to bother you,", "Greetings from {city}.",
             "Evening!", "Hi all,", "Morning, {name} again.", "Yo.", "Hello from {city},", "", "",
             "", "", "", "", "", "", ""]
SUBJECTS = ["my team", "{people}", "{name}", "our office in {city}", "the {object}",
            "our {product} setup", "my {device}", "the {topic} club", "my colleague {name}"]
SITUATIONS = [
    "{subject} keeps getting a {adj} {object} from the {feature} in {product}",
    "{subject} moved the {object}s from {product} to {product2} {when}",
    "{subject} has to {verb} {number} {object}s before {weekday}",
    "{subject} started {topic} {when} and it is going {pace}",
    "{subject} wrote a {lang} script to {verb} the {object} and it fails with {error}",
    "{subject} spent {number}0 euros on {topic} in {month}",
    "{subject} got a {object} about {word} from {name} {when}",
    "{subject} tried to {verb} the {feature} on a {device} but it looked {adj}",
    "{subject} is planning {number} days in {city} around {topic} and {word}",
    "{subject} made {topic} for {people} and it came out {adj}",
    "{subject} reads a lot about {word} and {word2} lately",
    "{subject} noticed the {object} is {number} MB bigger since version {number2}.{digit}",
]
CONNECTORS = [". ", ", and ", ", but ", ". Also, ", "; ", ". Meanwhile ", ". Then ", " because "]
ASKS = ["How do I", "How can I", "What's the easiest way to", "Is it possible to",
        "Can you help me", "Could you show me how to", "Any tips to", "Tell me how to",
        "What is the best way to", "Is there a quick way to", "Please explain how to",
        "Should I", "Where do I go to", "Why can't I", "Is it a bad idea to", "When should I",
        "Who can", "Do I need {product} to", "Would it be faster to", "Help me"]
TASKS = ["{verb} the {object}", "{verb} my {object}s", "{verb} {number} {object}s at once",
         "{verb} a {adj} {object}", "{verb} the {feature} of {product}",
         "{verb} {topic} for {people}", "{verb} the {object} about {word}",
         "get better at {topic}", "explain {word} to {people}", "plan a trip to {city}",
         "stop the {feature} from being so {adj}", "write a {object} about {word} and {topic}",
         "fix the {error} in my {lang} code", "cook {topic} without an oven",
         "save {number}0 euros a month for {word}", "choose between {product} and {product2}"]
TAILS = [" in {product}", " with {lang}", " without breaking the {feature}", " before {weekday}",
         " for {people}", " on my {device}", " when the {feature} is {adj}", " in {month}",
         " while {name} is away", " from {city}", " using only {word}", "", "", "", ""]
DETAILS = [
    "I already tried restarting {product} twice.", "It worked fine in version {number}.{digit}.",
    "The {object} is about {number} MB.", "I'd rather not pay for {product2}.",
    "{people} thinks it is the {feature}, I'm not so sure.",
    "I only have {number} minutes before the meeting with {name}.",
    "We're on the free plan if that matters.", "Please keep it under {number} words.",
    "I'm on a {device} with the latest update.", "Bonus points if it also works for {topic}.",
    "It has something to do with {word}, I think.", "{name} says the {object} was {adj} too.",
    "This is for {people} in {city}.", "No rush, {weekday} is fine.", "", "", "", "", "",
]
CLOSINGS = ["Thanks!", "Thanks in advance.", "Cheers, {name}", "Any help appreciated.",
            "Thank you so much!", "Much appreciated, {name}.", "Ta.", "", "", "", "", "", ""]
SHORT = [
    "{verb} {object} in {product}?", "how to {verb} a {object}", "{error} in {product} again",
    "{topic} tips for {city}?", "best {lang} lib for {feature}?", "why is my {topic} {adj}",
    "{name} says hi, {verb} the {object}", "{topic} at {number} degrees?",
    "{product} {feature} {adj}?", "{verb} {number} {object}s fast", "{word} or {word2}?",
    "what is {word}", "{word} in {lang}?",
]
OPENERS = ["Sure!", "Good question.", "Happy to help.", "Here is what I would do.",
           "There are a few things to check.", "That usually comes down to one thing.",
           "Of course, {name}.", "Let's go through it step by step.", "Short answer: yes.",
           "It depends a little on your setup.", "Great, {topic} is fun.", "Short answer: no.",
           "Yes, and it is easier than it looks.", "Let me break it down.", ""]
STEPS = [
    "First, open {product} and go to {feature} settings.",
    "Make a copy of the {object} before you {verb} anything.",
    "The {error} error usually means the {feature} service cannot reach the {object}.",
    "In {lang} you can {verb} each {object} in a loop and write the result to a new file.",
    "Try lowering the temperature to {number} degrees and give it {number2} more minutes.",
    "Check whether the {adj} {object}s were created before version {number}.{digit}.",
    "If you are in {city} in {month}, bring layers: it can change fast.",
    "Set aside {number} percent of what you earn before you spend anything on {topic}.",
    "Spend {number} minutes a day on {topic}, and rest on {weekday}.",
    "Ask {people} which {object} they need first, then {verb} that one.",
    "{product2} can do the same with its {feature} feature, but it costs more.",
    "Turn off the {feature} for a moment and see if the {object} still looks {adj}.",
    "A simpler version would be: \"{name} will {verb} the {object} on {weekday}.\"",
    "Most people find {topic} easier after the first {number} weeks.",
    "If nothing helps, export the logs and send them to the {product} support team.",
    "Keep the {object} under {number} MB so it syncs on a {device} too.",
    "{word} matters here more than {word2}, so start with that.",
    "A good book on {word} is a fine start, or ask {name} in {city}.",
    "Your {object} probably has a {adj} {feature} hidden under {word}.",
    "Write down what {people} expect from the {object}, then compare it with {word}.",
]
CLOSERS = ["Let me know how it goes!", "Hope that helps.", "Want me to write the full {object}?",
           "Good luck with the {object}!", "Tell me if the {error} comes back.",
           "Enjoy {city}!", "Happy {topic}!", "", "", "", ""]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DEVICES = ["Pixel", "iPhone", "iPad", "Chromebook", "ThinkPad", "MacBook", "Surface", "Kindle",
           "Galaxy"]
PACE = ["well", "badly", "slowly", "better than expected", "nowhere", "fine so far"]
SLOTS = {"name": NAMES, "city": CITIES, "product": PRODUCTS, "feature": FEATURES,
         "object": OBJECTS, "verb": VERBS, "adj": ADJECTIVES, "topic": TOPICS, "lang": LANGS,
         "error": ERRORS, "when": WHEN, "people": PEOPLE, "month": MONTHS, "weekday": WEEKDAYS,
         "device": DEVICES, "pace": PACE}
FRESH = {"number", "number2", "digit"}  # drawn anew at every use; other slots kept per item


@lru_cache(maxsize=1)
def _words() -> list[str]:
    """Less common English words (wordfreq's ranks 800 to 30,000) for free-form slots."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 30_000)[800:] if w.isalpha() and len(w) >= 4]


class _Slots(dict[str, str]):
    """One conversation's slot values, drawn when first used (names, products, ... stay the
    same through the user turn and the reply; numbers are drawn at every use)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        pick = self.rng.choice
        if key in FRESH:
            return str(self.rng.randint(*{"number": (2, 95), "number2": (2, 30),
                                          "digit": (0, 9)}[key]))
        if key == "subject":
            value = pick(SUBJECTS).format_map(self)
        elif key in ("word", "word2"):
            value = pick(_words())
        else:
            value = pick(SLOTS[key.rstrip("2")]).replace("-", " ")
        self[key] = value
        return value


def _say(template: str, slots: _Slots) -> str:
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


def conversation(seed: int, item: int) -> str:
    """Item `item`'s conversation (the same for the same seed), as `conversation_text`."""
    rng = random.Random(seed * 10_000_000_000 + item)
    slots = _Slots(rng)
    pick = rng.choice
    if rng.random() < 0.1:
        user = pick(SHORT).format_map(slots).lower()
    else:
        said = [_say(pick(GREETINGS), slots)]
        situations = rng.sample(SITUATIONS, rng.randint(0, 2))
        if situations:
            said.append(_say(pick(CONNECTORS).join(situations) + ".", slots))
        said.append(_say(f"{pick(ASKS)} {pick(TASKS)}{pick(TAILS)}?", slots))
        said += [_say(pick(DETAILS), slots), _say(pick(CLOSINGS), slots)]
        user = " ".join(s for s in said if s)
    reply = [_say(pick(OPENERS), slots)]
    reply += [_say(t, slots) for t in rng.sample(STEPS, rng.randint(2, 5))]
    reply.append(_say(pick(CLOSERS), slots))
    return conversation_text([Turn("user", user),
                              Turn("assistant", " ".join(s for s in reply if s))])


def near_copy(text: str, rng: random.Random) -> str:
    """The same conversation shared again with two typos in the user turn (letters swapped,
    dropped or doubled inside words, never digits; two that undo each other are drawn again)."""
    turns = turns_of(text)
    original = turns[0].text
    while True:
        user = original
        for _ in range(2):
            spots = [i for i in range(1, len(user) - 2) if user[i - 1 : i + 2].isalpha()]
            i = rng.choice(spots)
            edit = rng.choice(("swap", "drop", "double"))
            if edit == "swap":
                user = user[:i] + user[i + 1] + user[i] + user[i + 2 :]
            elif edit == "drop":
                user = user[:i] + user[i + 1 :]
            else:
                user = user[:i] + user[i] + user[i:]
        if normalize(user) != normalize(original):
            return conversation_text([Turn("user", user), *turns[1:]])


def lookups(seed: int, round_: int, n: int, originals_below: int) -> list[tuple[int, str, int]]:
    """Round `round_`'s items to look up: (item id, conversation, original or -1 if fresh).
    Near copies are of long user turns (a short one's typo may make another real word, which
    is then rightly not a copy) among the first `originals_below` items."""
    rng = random.Random(f"lookups-{seed}-{round_}")
    out: list[tuple[int, str, int]] = []
    base = LOOKUP_BASE + round_ * n
    for j in range(n):
        if rng.random() < NEAR_SHARE:
            while True:
                original = rng.randrange(originals_below)
                text = conversation(seed, original)
                if len(sides(text).user) > 60:
                    break
            out.append((base + j, near_copy(text, rng), original))
        else:
            out.append((base + j, conversation(seed, base + j), -1))
    return out


# ---------------------------------------------------------------------------------------------
# The fill


# Replays recorded commands, given as one string: per command its argument count, its name,
# its key and its arguments, each followed by a NUL (which no key, field or Sides holds).
_REPLAY = """
local fields = {}
for field in string.gmatch(ARGV[1], "([^%z]*)%z") do
  fields[#fields + 1] = field
end
local j, done = 1, 0
while j < #fields do
  local n = tonumber(fields[j])
  redis.call(fields[j + 1], fields[j + 2], unpack(fields, j + 3, j + 2 + n))
  j = j + 3 + n
  done = done + 1
end
return done
"""
REPLAY_BATCH = 1_000  # commands per script call: a few milliseconds of Redis at a time


class _Batch:
    """`_RedisStore.redis` during a bulk fill: the store's writes are recorded and replayed by
    a script, a thousand commands to a call (redis-py spends ~10 us of CPU on each command of a
    pipeline, and an item takes 28). The store's pipelines are this batch; `exact_get_or_set`
    reads its key back, which a recorded write cannot answer: None, as for a key this item has
    just set (every item is new). Any other command the store would use fails here."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.pending = 0  # replies a pipeline's `execute` owes

    def _record(self, command: str, key: str, *args: str) -> None:
        fields = (str(len(args)), command, key, *args)
        if any("\0" in f for f in fields):
            raise ValueError(f"a NUL in {command} {key}")
        self.commands.append("\0".join(fields) + "\0")
        self.pending += 1

    def hsetnx(self, name: str, key: str, value: str) -> None:
        self._record("HSETNX", name, key, value)

    def hset(self, name: str, key: str, value: str) -> None:
        self._record("HSET", name, key, value)

    def sadd(self, name: str, *values: str) -> None:
        self._record("SADD", name, *values)

    def hget(self, name: str, key: str) -> None:
        self.pending += 1
        return None

    def pipeline(self, transaction: bool = True) -> _Batch:
        self.pending = 0
        return self

    def execute(self) -> list[Any]:
        replies, self.pending = [None] * self.pending, 0
        return replies

    def send(self, redis: Redis) -> None:
        replay = redis.register_script(_REPLAY)
        pipe = redis.pipeline(transaction=False)
        for start in range(0, len(self.commands), REPLAY_BATCH):
            replay(args=["".join(self.commands[start : start + REPLAY_BATCH])], client=pipe)
        done = sum(cast(list[int], pipe.execute()))
        if done != len(self.commands):
            raise RuntimeError(f"{done} of {len(self.commands)} commands replayed")


@lru_cache(maxsize=4)
def _permutations(seed: int, num_perm: int) -> tuple[Any, str]:
    default = MinHash(num_perm=num_perm, seed=seed)
    return default.permutations, default.scheme


_UINT32 = struct.Struct("<I").unpack_from


def _sha1_hash32(data: bytes) -> int:
    """datasketch's sha1_hash32 (the first 4 bytes of SHA-1, little-endian), a third faster."""
    return int(_UINT32(hashlib.sha1(data).digest())[0])


class _KeptMinHash(MinHash):  # type: ignore[misc]
    """datasketch's MinHash with its hash function without the slicing (the same hash values,
    faster), and the seed's permutations drawn once where the caller gives none (the index's
    `signature` gives its own kept ones)."""

    def __init__(self, num_perm: int = 128, seed: int = 1, **kwargs: Any) -> None:
        if kwargs.get("permutations") is None:
            kwargs["permutations"], kwargs["scheme"] = _permutations(seed, num_perm)
        super().__init__(num_perm=num_perm, seed=seed, hashfunc=_sha1_hash32, **kwargs)


_worker: dict[str, Any] = {}


def check_kept_minhash(seed: int, config: DedupeConfig) -> None:
    """The fill's MinHash gives datasketch's hash values (checked here, in the main process,
    before the pool starts: a pool whose initializer fails restarts its workers forever)."""
    probe = [conversation(seed, i) for i in range(20)]
    before = [candidate_keys(sides(t), config) for t in probe]
    saved = dedupe.MinHash  # type: ignore[attr-defined]
    dedupe.MinHash = _KeptMinHash  # type: ignore[attr-defined]
    try:
        if [candidate_keys(sides(t), config) for t in probe] != before:
            raise RuntimeError("the fill's MinHash does not give datasketch's hash values")
    finally:
        dedupe.MinHash = saved  # type: ignore[attr-defined]


def _start_worker(url: str, seed: int, config: DedupeConfig) -> None:
    dedupe.MinHash = _KeptMinHash  # type: ignore[attr-defined]  # this fill process only
    store = RedisDedupeIndex(url, config=config).redis_store
    _worker.update(store=store, seed=seed, config=config)


def _fill_chunk(task: tuple[int, int, int]) -> int:
    """Index items [start, stop) of the project as `RedisDedupeIndex.add` would."""
    project_id, start, stop = task
    store: _RedisStore = _worker["store"]
    config: DedupeConfig = _worker["config"]
    bulk = copy.copy(store)
    batch = _Batch()
    bulk.redis = cast(Redis, batch)
    for item_id in range(start, stop):
        text = conversation(_worker["seed"], item_id)
        mine = sides(text)
        bulk.exact_get_or_set(project_id, exact_key(text), item_id)
        bulk.set_text(project_id, item_id, mine.encode())
        bulk.insert(project_id, item_id, candidate_keys(mine, config), fingerprint(mine.user))
        bulk.remember(project_id, item_id, "self")
    batch.send(store.redis)
    return stop - start


def fill(pool: Any, project_id: int, start: int, stop: int) -> None:
    tasks = [(project_id, a, min(stop, a + CHUNK)) for a in range(start, stop, CHUNK)]
    done = start
    for n in pool.imap_unordered(_fill_chunk, tasks):
        done += n
        if done % 50_000 < CHUNK or done == stop:
            print(f"  indexed {done:,}/{stop:,}", end="\r", flush=True)
    print()


def _entries(r: Redis, prefix: str) -> dict[str, Any]:
    """Every entry under prefix, by its name after the prefix."""
    out: dict[str, Any] = {}
    for raw in r.scan_iter(match=f"{prefix}*", count=1000):
        name = raw.decode()
        kind = cast(bytes, r.type(name)).decode()
        value: Any = {"hash": r.hgetall, "set": r.smembers, "string": r.get}[kind](name)
        out[name[len(prefix):]] = (kind, value)
    return out


def check_fill(pool: Any, index: RedisDedupeIndex, seed: int) -> None:
    """The bulk fill writes what `add` writes: project 2 through add, 3 in bulk, compared."""
    texts = [conversation(seed, item_id) for item_id in range(CHECK_ITEMS)]
    start = time.perf_counter()
    for item_id, text in enumerate(texts):
        index.add(2, item_id, text)
    by_add_s = time.perf_counter() - start
    index.mark_loaded(2)
    start = time.perf_counter()
    fill(pool, 3, 0, CHECK_ITEMS)
    in_bulk_s = time.perf_counter() - start
    index.mark_loaded(3)
    store = index.redis_store
    by_add = _entries(store.redis, store._key(2, ""))
    in_bulk = _entries(store.redis, store._key(3, ""))
    if by_add != in_bulk:
        differ = sorted(set(by_add) ^ set(in_bulk)) or [
            k for k in by_add if by_add[k] != in_bulk[k]]
        sys.exit(f"the bulk fill does not write what add writes: {differ[:5]}")
    print(f"bulk fill checked against add: {len(by_add)} identical entries for {CHECK_ITEMS} "
          f"items; add {CHECK_ITEMS / by_add_s:,.0f} items/s, bulk {CHECK_ITEMS / in_bulk_s:,.0f}"
          " items/s (in one process)")


# ---------------------------------------------------------------------------------------------
# Measurements


def flush(r: Redis) -> None:
    r.flushdb(asynchronous=True)  # not blocking the other databases' clients
    while int(cast(dict[str, Any], r.info("memory"))["lazyfree_pending_objects"]):
        time.sleep(0.2)


def used_memory(r: Redis) -> int:
    return int(cast(dict[str, Any], r.info("memory"))["used_memory"])


def memory_breakdown(store: _RedisStore, project: int, items: int, keys: int) -> dict[str, Any]:
    """MEMORY USAGE per item of one project's index (`keys` entries): the hashes whole
    (sampled fields), its candidate sets sampled."""
    r = store.redis
    hashes = {what: int(cast(int, r.memory_usage(store._key(project, what), samples=1000)))
              for what in ("exact", "key", "text", "answer", "print")}
    sets = keys - len(hashes) - 1  # and `ready`
    sampled: list[int] = []
    members: list[int] = []
    for name in r.scan_iter(match=store._key(project, "c:*"), count=1000):
        sampled.append(int(cast(int, r.memory_usage(name))))
        members.append(int(cast(int, r.scard(name))))
        if len(sampled) >= 2000:
            break
    per_set = statistics.fmean(sampled) if sampled else 0.0
    out: dict[str, Any] = {f"{k}_hash": round(v / items, 1) for k, v in hashes.items()}
    out["candidate_sets"] = round(per_set * sets / items, 1)
    out["total"] = round(sum(out.values()), 1)
    out["keys_per_item"] = round(keys / items, 2)
    out["members_per_candidate_set"] = round(statistics.fmean(members), 3) if members else 0
    return out


def candidates_seen(index: RedisDedupeIndex, project: int,
                    batch: list[tuple[int, str, int]]) -> tuple[list[int], list[int]]:
    """How many indexed items each lookup's candidate keys hold, and how many of them its
    fingerprint allows (whose texts it reads), found before the round."""
    store, config = index.redis_store, index.config
    held, read = [], []
    for _, text, _ in batch:
        mine = sides(text)
        found, prints = store.candidates(project, candidate_keys(mine, config))
        held.append(len(found))
        read.append(sum(could_copy(mine.user, prints, config)))
    return held, read


def _redis_counters(r: Redis) -> dict[str, float]:
    """Redis's CPU seconds and per-command calls and microseconds (cumulative)."""
    cpu = cast(dict[str, Any], r.info("cpu"))
    out = {"cpu": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])}
    for name, v in cast(dict[str, dict[str, Any]], r.info("commandstats")).items():
        out[f"calls:{name.removeprefix('cmdstat_')}"] = float(v["calls"])
        out[f"usec:{name.removeprefix('cmdstat_')}"] = float(v["usec"])
    return out


def timed_round(index: RedisDedupeIndex, project: int, batch: list[tuple[int, str, int]],
                seen: list[int | None] | None = None) -> dict[str, Any]:
    """find_or_add for every item of the batch, each timed; then the items forgotten. With the
    candidates each item was seen to have (None: not fitted), also the time a candidate adds
    (least squares)."""
    r = index.redis_store.redis
    before = _redis_counters(r)
    cpu = time.process_time()
    times: list[float] = []
    found = wrong = false_merges = 0
    clock = time.perf_counter
    for item_id, text, original in batch:
        start = clock()
        match = index.find_or_add(project, item_id, text)
        times.append(clock() - start)
        if original >= 0:
            if match is not None and match.kind == "near" and match.item_id == original:
                found += 1
            else:
                wrong += 1
        elif match is not None:
            false_merges += 1
    cpu = time.process_time() - cpu
    delta = {k: v - before.get(k, 0.0) for k, v in _redis_counters(r).items()}
    index.forget(project, [item_id for item_id, _, _ in batch])  # back to the quoted size
    n = len(batch)
    commands = {k[6:]: delta[k] for k in delta if k.startswith("calls:") and delta[k] > 0}
    ordered = sorted(times)
    slope = None
    fit = [(c, t) for c, t in zip(seen or [], times, strict=False) if c is not None]
    if fit and statistics.fmean(c for c, _ in fit) >= 5:  # too few candidates to fit
        xs, ys = zip(*fit, strict=True)
        slope = round(statistics.linear_regression(xs, ys).slope * 1e6, 2)
    return {
        "us_per_candidate": slope,
        "us_per_item": round(sum(times) / n * 1e6, 1),
        "p50_us": round(ordered[n // 2] * 1e6, 1),
        "p99_us": round(ordered[int(n * 0.99)] * 1e6, 1),
        "client_cpu_us_per_item": round(cpu / n * 1e6, 1),
        "redis_cpu_us_per_item": round(delta["cpu"] / n * 1e6, 1),
        "near_expected": found + wrong, "near_found": found, "false_merges": false_merges,
        "redis_calls_per_item": {k: round(v / n, 2) for k, v in sorted(commands.items())},
        "redis_usec_per_call": {k: round(delta[f"usec:{k}"] / v, 2)
                                for k, v in sorted(commands.items())},
    }


def warm_texts(seed: int) -> list[str]:
    return [conversation(seed, LOOKUP_BASE * 3 + i) for i in range(50)]


def _sizes(value: str) -> list[int]:
    sizes = sorted({int(v.replace("_", "")) for v in value.split(",") if v.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _report(results: list[dict[str, Any]], flat: bool) -> None:
    print()
    print(f"{'items':>10} | {'lookup us/item':>14} | {'ratio':>6} | {'p99 us':>7} | "
          f"{'CPU us (client+Redis)':>21} | {'bytes/item':>10} | {'MEMORY USAGE':>12} | "
          f"{'keys/item':>9} | {'candidates':>10} | {'read':>6} | {'us/cand.':>8} | near found")
    for row in results:
        p99 = statistics.median(x["p99_us"] for x in row["rounds"])
        per_candidate = "-" if row["us_per_candidate"] is None else row["us_per_candidate"]
        print(f"{row['items']:>10,} | {row['us_per_item']:>14.1f} | {row['ratio']:>6.3f} | "
              f"{p99:>7.0f} | {row['cpu_us_per_item']:>21.1f} | "
              f"{row['bytes_per_item']:>10,.0f} | {row['memory_usage']['total']:>12,.0f} | "
              f"{row['memory_usage']['keys_per_item']:>9} | "
              f"{row['candidates_per_lookup']:>10} | {row['texts_read_per_lookup']:>6} | "
              f"{per_candidate:>8} | "
              f"{row['near_found']}/{row['near_expected']}")
    alone = results[0]["alone_us_per_item"]
    print(f"{results[0]['items']:,} items timed alone, before the larger indexes were filled: "
          f"{alone:.1f} us/lookup (the largest, timed beside the others, is "
          f"{results[-1]['us_per_item'] / alone:.2f}x that: the index's growth and the "
          "machine's slowdown under the memory it holds, together)")
    span = f"{results[0]['items']:,} to {results[-1]['items']:,}"
    worst = max(results, key=lambda row: abs(row["ratio"] - 1))
    cpu = results[-1]["cpu_us_per_item"] / results[0]["cpu_us_per_item"]
    print(f"verdict: the lookup time {'stays' if flat else 'does NOT stay'} within "
          f"+-{TOLERANCE:.0%} from {span} items (largest deviation {worst['ratio'] - 1:+.1%} "
          f"at {worst['items']:,}; CPU per lookup {cpu - 1:+.1%} from first to last size)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000],
                        help="indexed items, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--lookups", type=int, default=2_000, help="items looked up per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="processes filling the index")
    parser.add_argument("--keep", action="store_true", help="leave the last fill in Redis")
    args = parser.parse_args()
    if args.lookups < 10 or args.rounds < 1:
        parser.error("--lookups must be at least 10 and --rounds at least 1")
    url = os.environ.get("WINNOW_BENCH_REDIS_URL")
    if not url:
        sys.exit("WINNOW_BENCH_REDIS_URL is not set (bash benchmarks/run-dedupe sets it)")
    began = time.perf_counter()
    config = DedupeConfig(threshold=0.8)  # the worker's (WINNOW_DEDUPE_THRESHOLD's default)
    index = RedisDedupeIndex(url, config=config)
    r = index.redis_store.redis
    flush(r)
    check_kept_minhash(args.seed, config)
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(args.workers, initializer=_start_worker, initargs=(url, args.seed, config))
    check_fill(pool, index, args.seed)
    # Warm-up in another project: the first calls load the band layout and, for a short text
    # one letter from another, wordfreq's tables (over a second).
    for item_id, text in enumerate(["how cold is it", "how old is it", *warm_texts(args.seed)]):
        index.find_or_add(PROJECT + 1, item_id, text)
    flush(r)

    rounds = [lookups(args.seed, k, args.lookups, args.sizes[0]) for k in range(args.rounds)]
    users = [sides(t).user for _, t, o in rounds[0] if o < 0]
    corpus = {
        "user_chars_median": statistics.median(map(len, users)),
        "user_short_share": round(sum(len(u) <= config.short for u in users) / len(users), 3),
        "conversation_chars_median": statistics.median(len(t) for _, t, _ in rounds[0]),
    }
    fresh = [o < 0 for _, _, o in rounds[0]]
    fit = [o < 0 and len(sides(t).user) > config.short for _, t, o in rounds[0]]
    # One project per size, all filled before any timed round: a machine holding a large
    # index runs everything slower (on this VM a 3.5 GB process doubles the CPU of every
    # Redis call, whoever holds the memory), so the sizes are compared in the same state,
    # rounds interleaved. The smallest is also timed alone, before the others are filled,
    # which shows that effect.
    results: list[dict[str, Any]] = []
    for number, size in enumerate(args.sizes):
        project = PROJECT + 10 + number
        before, keys_before = used_memory(r), int(cast(int, r.dbsize()))
        t0 = time.perf_counter()
        fill(pool, project, 0, size)
        index.mark_loaded(project)
        fill_s = time.perf_counter() - t0
        breakdown = memory_breakdown(index.redis_store, project, size,
                                     int(cast(int, r.dbsize())) - keys_before)
        seen, read = candidates_seen(index, project, rounds[0])
        results.append({
            "items": size, "project": project, "fill_s": round(fill_s, 1),
            "fill_items_per_s": round(size / fill_s),
            "bytes_per_item": round((used_memory(r) - before) / size, 1),
            "memory_usage": breakdown, "seen": seen,
            "candidates_per_lookup": round(statistics.fmean(seen), 2),
            "candidates_per_fresh_lookup": round(statistics.fmean(
                c for c, f in zip(seen, fresh, strict=True) if f), 2),
            "candidates_max": max(seen),
            "texts_read_per_lookup": round(statistics.fmean(read), 2),
            "runs": [],
        })
        print(f"{size:>9,} items filled at {size / fill_s:,.0f} items/s: "
              f"{results[-1]['bytes_per_item']:,.0f} B/item, "
              f"{results[-1]['candidates_per_lookup']} candidates/lookup "
              f"({results[-1]['texts_read_per_lookup']} texts read)", flush=True)
        if number == 0:
            timed_round(index, project, rounds[0])  # warm-up: wordfreq's tables and the like
            alone = [timed_round(index, project, batch) for batch in rounds]
            results[0]["alone_us_per_item"] = statistics.median(x["us_per_item"] for x in alone)
            results[0]["alone_rounds"] = alone
            print(f"{size:>9,} items alone: {results[0]['alone_us_per_item']:8.1f} us/lookup",
                  flush=True)
    keys = r.dbsize()
    for k, batch in enumerate(rounds):
        order = results[k % len(results):] + results[:k % len(results)]
        for row in order:
            # The fit: fresh lookups with a long user turn (a short one also has deletion
            # keys, more commands and more candidates at once).
            fitted = [c if f else None for c, f in zip(row["seen"], fit, strict=True)]
            row["runs"].append(timed_round(index, row["project"], batch,
                                           fitted if k == 0 else None))
        print(f"  round {k + 1}: " + ", ".join(
            f"{row['items']:,} {row['runs'][-1]['us_per_item']}" for row in results), flush=True)
    if r.dbsize() != keys:
        sys.exit(f"forget left {r.dbsize()} keys where the indexes had {keys}")
    for row in results:
        runs = row.pop("runs")
        seen = row.pop("seen")
        fresh_seen = [c for c, f in zip(seen, fresh, strict=True) if f]
        row.update({
            "us_per_item": statistics.median(x["us_per_item"] for x in runs),
            "cpu_us_per_item": statistics.median(
                x["client_cpu_us_per_item"] + x["redis_cpu_us_per_item"] for x in runs),
            "us_per_candidate": runs[0]["us_per_candidate"],
            "collision_rate_per_pair": statistics.fmean(fresh_seen) / row["items"],
            "near_found": sum(x["near_found"] for x in runs),
            "near_expected": sum(x["near_expected"] for x in runs),
            "false_merges": sum(x["false_merges"] for x in runs),
            "rounds": runs,
        })
    pool.close()
    pool.join()
    if not args.keep:
        r.flushdb(asynchronous=True)

    first = results[0]["us_per_item"]
    for row in results:
        row["ratio"] = round(row["us_per_item"] / first, 3)
    flat = all(abs(row["ratio"] - 1) <= TOLERANCE for row in results)
    _report(results, flat)
    seconds = time.perf_counter() - began
    print(f"wall time {seconds:.0f} s")

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "redis": cast(dict[str, Any], r.info("server")).get("redis_version"),
        "sizes": args.sizes, "lookups": args.lookups, "rounds": args.rounds, "seed": args.seed,
        "near_share": NEAR_SHARE,
        "config": {"threshold": config.threshold,
                   "candidate_threshold": config.candidate_threshold,
                   "num_perm": config.num_perm, "short": config.short},
        "corpus": corpus, "results": results, "tolerance": TOLERANCE, "flat": flat,
        "wall_s": round(seconds),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"dedupe-{result['when'].replace(':', '')}.json").write_text(
        json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
