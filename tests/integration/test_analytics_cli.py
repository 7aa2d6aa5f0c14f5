"""`winnow analytics`: the tables a person reads in a terminal, and one-line errors."""

from __future__ import annotations

import json
import random

from flask import Flask
from flask.testing import FlaskClient

from app.config import Settings
from tests.api.test_analytics import post, versions
from tests.api.test_samples import DAY, population
from tests.api.test_skew_api import NOW, eval_set, store_items
from tests.conftest import MakeTenant
from tests.helpers import Tenant
from tests.integration.test_datasets_cli import winnow
from tests.unit.test_skew import coding, support


def test_feedback_and_compare_print_tables_after_refreshing(
    settings: Settings, client: FlaskClient, tenant: Tenant
) -> None:
    gens, events = versions(300, {"v1": 0.1, "v2": 0.35})
    post(client, tenant, gens, events)
    # No refresh here: the command brings the rollups up to date itself.
    result = winnow(settings, "analytics", "feedback", "--project", tenant.slug,
                    "--group-by", "model_version", "--since", "7d")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:3] == ["model_version", "generations", "users"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["v1"][1] == rows["v2"][1] == "300"
    result = winnow(settings, "analytics", "compare", "model_version:v1", "model_version:v2",
                    "--project", tenant.slug)
    assert result.exit_code == 0, result.output
    regenerate = next(line for line in result.output.splitlines()
                      if line.startswith("regenerate"))
    assert regenerate.split()[-3] == "worse"
    assert "verdict: B is worse" in result.output
    result = winnow(settings, "analytics", "feedback", "--project", tenant.slug,
                    "--group-by", "model_version", "--format", "json", "--no-refresh")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert sorted(g["group"]["model_version"] for g in body["groups"]) == ["v1", "v2"]


def test_bad_arguments_are_one_line_errors(settings: Settings, tenant: Tenant) -> None:
    for args, message in [
        (["feedback", "--group-by", "colour"], "unknown --group-by field(s): colour"),
        (["feedback", "--since", "last week"], "since must be YYYY-MM-DD or Nd"),
        (["feedback", "--since", "2026-02-01", "--until", "2026-01-01"], "window is empty"),
        (["feedback", "--where", "feature=x"], "--where must be FIELD:VALUE"),
        (["compare", "model_version:v1", "v2"], "B must be FIELD:VALUE"),
    ]:
        result = winnow(settings, "analytics", *args, "--project", tenant.slug)
        assert result.exit_code != 0
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and message in errors[0], result.output
    result = winnow(settings, "analytics", "feedback", "--project", "nope")
    assert result.exit_code != 0 and "nope" in result.output


def test_samples_show_and_verdict(settings: Settings, app: Flask, client: FlaskClient,
                                  make_tenant: MakeTenant) -> None:
    owner = make_tenant(scopes=("events:write", "events:read", "items:read"))
    population(app, client, owner, {"v1": 4, "v2": 2}, {"v2": 1})
    day = DAY.isoformat()
    result = winnow(settings, "samples", "show", "--project", owner.slug, "--date", day,
                    "--size", "3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{day}: 3 of 6 accepted items (m@v1 2/4, m@v2 1/2)")
    first = result.output.split("\n\n")[1].splitlines()
    assert first[0].startswith("item-i-v2-0  m@v2") and "[regenerate:1]" in first[0]
    assert first[1].startswith("  user: question 0 for v2")
    result = winnow(settings, "samples", "verdict", "item-i-v2-0", "bad", "--mode", "format",
                    "--note", "a wall of text", "--project", owner.slug, "--date", day)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"item-i-v2-0: bad (format) on the sample of {day}"
    shown = winnow(settings, "samples", "show", "--project", owner.slug, "--date", day,
                   "--size", "3", "--json")
    sampled = json.loads(shown.output)["items"][0]
    assert sampled["verdict"]["verdict"] == "bad" and sampled["verdict"]["by"].startswith("cli:")
    for args, message in [
        (["verdict", "item-i-v2-0", "bad", "--date", "someday"], "expected YYYY-MM-DD"),
        (["verdict", "nope", "good", "--date", day], "no item with that id"),
        (["verdict", "item-i-v2-0", "good", "--date", "2020-01-01"], "was received on"),
        (["verdict", "item-i-v2-0", "good", "--date", day, "--mode", ""], "failure_modes"),
        (["show", "--date", "2026-13-01"], "expected YYYY-MM-DD"),
    ]:
        result = winnow(settings, "samples", *args, "--project", owner.slug)
        assert result.exit_code != 0
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and message in errors[0], result.output


def test_skew_prints_each_feature_and_the_topics_production_lacks(
    settings: Settings, app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    owner = make_tenant(scopes=("events:read", "items:read", "datasets:read", "datasets:write"))
    eval_set(app, client, owner)
    rng = random.Random(5)
    store_items(app, owner, "prod", [coding(rng) if i % 10 < 7 else support(rng)
                                     for i in range(200)], NOW)
    result = winnow(settings, "analytics", "skew", "--project", owner.slug, "--dataset",
                    "support-eval@1", "--since", "7d")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("support-eval@1 test (200 conversations) against production")
    assert lines[0].endswith("(200): drift")
    rows = {line.split()[0]: line.split()[1] for line in lines[2:] if line and
            not line.startswith("under-covered")}
    assert rows["content"] == rows["code_share"] == "drift"
    assert set(rows) >= {"turns", "user_chars", "language", "typo_rate", "has_json"}
    assert any(line.startswith("under-covered topic") for line in lines)
    for args, message in [
        (["--dataset", "nope"], "no dataset"),
        (["--dataset", "support-eval", "--since", "2020-01-01", "--until", "2020-01-05"],
         "production"),
    ]:
        result = winnow(settings, "analytics", "skew", "--project", owner.slug, *args)
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert result.exit_code != 0 and len(errors) == 1 and message in errors[0], result.output
