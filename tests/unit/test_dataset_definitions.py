"""Dataset definitions: the YAML form, and what is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.payloads.datasets import DatasetDefinition, from_yaml

GOOD = """
name: support-eval.v1
purpose: eval
description: Bad answers of the support bot, for regression evals
selection:
  verdicts: [bad]
  failure_modes: [hallucination, wrong_or_incomplete]
  min_agreement: 0.75
  models: [gpt-4o@2024-08-06]
  since: 2026-01-01T00:00:00Z
splits: {train: 0.7, validation: 0.1, test: 0.2}
group_by: user
"""


def test_the_yaml_form() -> None:
    d = from_yaml(GOOD)
    assert (d.name, d.purpose, d.group_by) == ("support-eval.v1", "eval", "user")
    assert d.selection.verdicts == ["bad"] and d.selection.min_agreement == 0.75
    assert (d.splits.train, d.splits.test) == (0.7, 0.2)
    plain = from_yaml("name: ft\npurpose: finetune\n")
    assert plain.splits.train == 0.8 and plain.group_by == "conversation"


@pytest.mark.parametrize(
    "name", ["../etc", "a/b", "UPPER", "", "-lead", "x" * 65, "spa ce", "dot/../dot", "é"]
)
def test_path_like_or_odd_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        DatasetDefinition(name=name, purpose="eval")


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\npurpose: eval\nsplits: {train: 0.5, validation: 0.5, test: 0.5}", "must be 1"),
        ("name: x\npurpose: training", "purpose"),
        ("name: x\npurpose: eval\nselection: {verdicts: []}", "verdicts"),
        (
            "name: x\npurpose: eval\nselection: {since: 2026-02-01T00:00:00Z, "
            "until: 2026-01-01T00:00:00Z}",
            "before",
        ),
        ("name: x\npurpose: eval\nselection: {since: 2026-02-01T00:00:00}", "time zone"),
        ("name: x\npurpose: eval\nsurprise: 1", "surprise"),
        ("name: x\npurpose: eval\nselection: {min_agreement: 1.5}", "min_agreement"),
    ],
)
def test_bad_definitions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        from_yaml(text)
    assert message in str(err.value)


def test_not_yaml_or_not_a_mapping() -> None:
    with pytest.raises(ValueError, match="not valid YAML"):
        from_yaml("name: [unclosed")
    with pytest.raises(ValueError, match="mapping"):
        from_yaml("- a\n- b")
