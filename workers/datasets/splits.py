"""Split assignment that never leaks the test set (pure: no I/O).

An item's split is a function of its group (the conversation by default, or the user), so
related items never straddle splits: a stable hash of the group under a per-dataset salt, cut
by the split ratios. Assignments are sticky: once a group has a split it keeps it in every
later version, whatever the ratios become, so a test item never moves to train or validation.

A deliberate holdout refresh retires the current test groups (they are never used again, in
any split: a model may have been tuned against them) and draws a new test split from groups
never seen before, under a new salt; the version that does it says so. The recorded splits live
in the database (`dataset_groups`); these functions only decide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.dataset_files import RETIRED


@dataclass(frozen=True)
class Ratios:
    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self) -> None:
        parts = (self.train, self.validation, self.test)
        if any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-9:
            raise ValueError("split ratios must be >= 0 and sum to 1")


def bucket(salt: str, group: str) -> float:
    """A stable number in [0, 1) for this group under this salt (sha256, not Python's hash)."""
    digest = hashlib.sha256(f"{salt}\x00{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(salt: str, group: str, ratios: Ratios) -> str:
    b = bucket(salt, group)
    if b < ratios.test:  # test first: its share of the hash space never depends on the others
        return "test"
    if b < ratios.test + ratios.validation:
        return "validation"
    return "train"


def draw_salt(salt: str, holdouts: int) -> str:
    """The salt new groups are drawn with after `holdouts` refreshes: each refresh draws its new
    test split from a fresh cut of the hash space, not the old one again."""
    return salt if not holdouts else f"{salt}/holdout-{holdouts}"


@dataclass(frozen=True)
class Assignment:
    """The splits of the groups asked about, and which of them are new."""

    groups: dict[str, str]  # group -> split (or RETIRED)
    new_groups: list[str] = field(default_factory=list)


def assign(
    groups: Iterable[str],
    previous: Mapping[str, str],
    salt: str,
    ratios: Ratios,
    *,
    holdouts: int = 0,
) -> Assignment:
    """Splits for `groups` given the recorded `previous` ones (which always win); groups never
    seen are drawn under the salt of the dataset's current holdout. Works a chunk at a time: a
    group's draw depends on nothing but the group, the salt and the ratios."""
    result: dict[str, str] = {}
    new = []
    salted = draw_salt(salt, holdouts)
    for group in groups:
        if group in result:
            continue
        if group in previous:
            result[group] = previous[group]
            continue
        result[group] = split_of(salted, group, ratios)
        new.append(group)
    return Assignment(result, new)


def retire(recorded: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """A holdout refresh: every test group is retired (never used again, in any split: a model
    may have been tuned against it). Returns the new record and the retired groups."""
    result = dict(recorded)
    retired = sorted(g for g, split in recorded.items() if split == "test")
    for group in retired:
        result[group] = RETIRED
    return result, retired
