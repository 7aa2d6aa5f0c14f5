"""Splits never leak the test set, whatever the data does between versions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dataset_files import RETIRED
from workers.datasets.splits import Ratios, assign, bucket, retire, split_of


def test_bucket_is_stable_and_salted() -> None:
    assert bucket("s", "conv-1") == bucket("s", "conv-1")
    assert bucket("s", "conv-1") != bucket("t", "conv-1")
    assert 0.0 <= bucket("s", "x") < 1.0
    # Pinned: the function must never change (recorded splits and new ones must agree).
    assert bucket("winnow", "conv-1") == 0.6274792586830549


def test_ratios_roughly_hold_and_bad_ratios_are_refused() -> None:
    ratios = Ratios(0.7, 0.2, 0.1)
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(20_000):
        counts[split_of("salt", f"g{i}", ratios)] += 1
    assert counts["test"] / 20_000 == pytest.approx(0.1, abs=0.01)
    assert counts["validation"] / 20_000 == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError):
        Ratios(0.5, 0.5, 0.5)
    with pytest.raises(ValueError):
        Ratios(1.1, -0.1, 0.0)


versions = st.lists(
    st.tuples(
        st.lists(st.text(min_size=1, max_size=6), max_size=40),  # groups seen in this version
        st.sampled_from([Ratios(), Ratios(0.5, 0.25, 0.25), Ratios(0.9, 0.1, 0.0)]),
        st.booleans(),  # refresh the holdout in this version?
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(versions)
def test_no_test_group_ever_reaches_train_or_validation(plan: list) -> None:
    """Replays what builds do: optionally retire, then assign each version's groups in chunks
    against the record, and record the new ones."""
    recorded: dict[str, str] = {}
    ever_test: set[str] = set()
    holdouts = 0
    for groups, ratios, refresh in plan:
        if refresh:
            holdouts += 1
            testing = {g for g, split in recorded.items() if split == "test"}
            recorded, retired = retire(recorded)
            assert set(retired) == testing
        before = dict(recorded)
        for start in range(0, len(groups), 7):
            out = assign(groups[start : start + 7], recorded, "salt", ratios, holdouts=holdouts)
            for group in out.new_groups:
                recorded[group] = out.groups[group]
            if refresh:
                assert not set(out.new_groups) & ever_test
        for group, split in recorded.items():
            if group in ever_test:
                assert split in ("test", RETIRED), (group, split)
            if group in before:
                assert split == before[group]  # sticky
        ever_test |= {g for g, s in recorded.items() if s == "test"}
        assert set(groups) <= set(recorded)


def test_a_refresh_retires_the_old_test_groups_and_draws_new_ones() -> None:
    first = assign([f"g{i}" for i in range(200)], {}, "salt", Ratios())
    old_test = {g for g, s in first.groups.items() if s == "test"}
    assert old_test
    recorded, retired = retire(first.groups)
    assert set(retired) == old_test
    second = assign([f"g{i}" for i in range(400)], recorded, "salt", Ratios(), holdouts=1)
    assert all(second.groups[g] == RETIRED for g in old_test)
    new_test = {g for g, s in second.groups.items() if s == "test"}
    assert new_test and not new_test & old_test
    assert all(g in second.new_groups for g in new_test)
    # The draw after a refresh is a different cut: not simply the old test cut again.
    assert {g for g in second.new_groups if split_of("salt", g, Ratios()) == "test"} != new_test
