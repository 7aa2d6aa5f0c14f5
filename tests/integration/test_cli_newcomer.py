"""What a newcomer hits first: commands on a data folder never set up, the Label Studio
commands' output, the benchmark's environment, and spellings the docs use."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from app.cli import main
from app.db import make_engine
from app.migrate import alembic_config, head_revision, upgrade
from app.payloads.datasets import Selection
from tests.conftest import PG_URL, need_servers
from tests.helpers import event, run_jobs
from tests.integration.test_cli import clean_env, free_port
from tests.integration.test_labelstudio import (  # noqa: F401 - fixtures
    BAD,
    Served,
    annotations_of,
    items_of,
    ls,
    ls_settings,
    served,
    share,
    start,
    wait_for,
    without_auto_push,
)

ROOT = Path(__file__).resolve().parents[2]

# Every command family that reads the database, each as a newcomer would first type it.
DATABASE_COMMANDS = [
    ["items", "list", "--project", "local"],
    ["items", "show", "share-1", "--project", "local"],
    ["items", "release", "share-1", "--project", "local"],
    ["keys", "create", "--project", "local"],
    ["keys", "list", "--project", "local"],
    ["keys", "revoke", "3f9c0a1b2c4d"],
    ["projects", "create", "shop"],
    ["projects", "list"],
    ["labelstudio", "setup", "--project", "local"],
    ["labelstudio", "push", "--project", "local"],
    ["labelstudio", "sync", "--project", "local"],
    ["labelstudio", "agreement", "--project", "local", "--items"],
    ["datasets", "list", "--project", "local"],
    ["datasets", "show", "support-eval", "--project", "local"],
    ["datasets", "build", "support-eval", "--project", "local", "-m", "first"],
    ["datasets", "versions", "support-eval", "--project", "local"],
    ["datasets", "diff", "support-eval", "1", "2", "--project", "local"],
    ["datasets", "lineage", "support-eval@1", "x", "--project", "local"],
    ["datasets", "define", "{definition}", "--project", "local"],
    ["import", "conversations", "{conversations}", "--project", "local"],
    ["import", "hh-rlhf", "{conversations}", "--project", "local"],
    ["jobs", "failed"],
    ["jobs", "retry", "--all"],
    ["jobs", "reconcile"],
    ["db", "current"],
    ["serve"],
]


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    definition = folder / "support-eval.yaml"
    definition.write_text("name: support-eval\npurpose: eval\n")
    conversations = folder / "logs.jsonl"
    conversations.write_text('{"id": "c1", "consent": true, "messages": []}\n')
    return {"definition": str(definition), "conversations": str(conversations)}


def one_line_error(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output and "sqlalchemy" not in output.lower(), output
    return lines[0]


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_command_on_a_data_folder_never_set_up_says_what_to_run_and_creates_nothing(
    tmp_path: Path, inputs: dict[str, str], args: list[str]
) -> None:
    data = tmp_path / "data"  # not even the folder exists yet
    env = clean_env(data, WINNOW_LABEL_STUDIO_URL="http://127.0.0.1:9",
                    WINNOW_LABEL_STUDIO_TOKEN="unused")
    result = CliRunner(env=env).invoke(main, [a.format(**inputs) for a in args])
    assert result.exit_code == 1, result.output
    line = one_line_error(result.output)
    assert line == (f"Error: no Winnow database at {data / 'winnow.db'}: "
                    "run 'winnow up' or 'winnow db upgrade' first")
    assert not data.exists()


def test_worker_on_a_database_never_set_up_refuses_before_taking_jobs(tmp_path: Path) -> None:
    # A Redis URL nobody answers: the database is checked before the queue is ever used.
    env = clean_env(tmp_path / "data", WINNOW_REDIS_URL="redis://127.0.0.1:9/0")
    result = CliRunner(env=env).invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1
    assert "no Winnow database at" in one_line_error(result.output)
    assert not (tmp_path / "data").exists()


def test_db_upgrade_still_creates_the_database_and_then_commands_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner(env=clean_env(data))
    made = runner.invoke(main, ["db", "upgrade"])
    assert made.exit_code == 0, made.output
    assert (data / "winnow.db").is_file()
    assert runner.invoke(main, ["projects", "create", "local"]).exit_code == 0
    listed = runner.invoke(main, ["items", "list", "--project", "local"])
    assert listed.exit_code == 0 and listed.output == "", listed.output
    current = runner.invoke(main, ["db", "current"])
    assert current.exit_code == 0 and current.output.startswith("current: "), current.output


def test_a_database_behind_the_code_is_named_with_both_revisions(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'winnow.db'}")
    head = head_revision(engine)
    assert head is not None
    previous = ScriptDirectory.from_config(alembic_config(engine)).get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade(engine, previous)
    engine.dispose()
    runner = CliRunner(env=clean_env(data))
    result = runner.invoke(main, ["keys", "list", "--project", "local"])
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert f"at revision {previous}, this Winnow needs {head}" in line
    assert "run 'winnow db upgrade' first" in line
    current = runner.invoke(main, ["db", "current"])  # still says where it stands
    assert current.exit_code == 0 and previous in current.output, current.output


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is an empty schema of the test database: a database
    nobody ran `winnow db upgrade` on."""
    need_servers()
    assert PG_URL is not None
    schema = "newcomer_" + uuid.uuid4().hex[:8]
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_refused_and_left_empty(
    tmp_path: Path, empty_pg_schema: str
) -> None:
    env = clean_env(tmp_path / "data", WINNOW_DATABASE_URL=empty_pg_schema)
    result = CliRunner(env=env).invoke(main, ["items", "list", "--project", "local"])
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert "no Winnow database at postgresql+psycopg://" in line
    assert "run 'winnow up' or 'winnow db upgrade' first" in line
    engine = make_engine(empty_pg_schema)
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )).scalar_one()
    engine.dispose()
    assert tables == 0
    # The URL holds a '%' (URL-encoded option): alembic's config must not choke on it.
    made = CliRunner(env=env).invoke(main, ["db", "upgrade"])
    assert made.exit_code == 0, made.output
    listed = CliRunner(env=env).invoke(main, ["projects", "list"])
    assert listed.exit_code == 0 and listed.output == "", listed.output


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://winnow:s3cret-pw@127.0.0.1:9/winnow?connect_timeout=2"
    result = CliRunner(env=clean_env(tmp_path, WINNOW_DATABASE_URL=url)).invoke(
        main, ["projects", "list"]
    )
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert line.startswith("Error: cannot open the database at postgresql+psycopg://winnow:***@")
    assert "s3cret-pw" not in result.output


# Item 16: the Label Studio commands name items by public id and count the pairwise tasks.


def test_push_counts_the_pairwise_tasks_it_made(
    served: tuple[Flask, Served],  # noqa: F811 - the fixture imported above
) -> None:
    app, client, tenant, _ = start(served)
    with without_auto_push(app):
        share(client, tenant, "c0", "Draft a reply about the broken heater.", "It is broken.")
        share(client, tenant, "c1", "What is two plus two?", "Four.")  # no tweak: no pair
        resp = client.post(
            "/v1/events",
            headers=tenant.headers,
            json=event("c0-tweak", type="tweak", generation="gen-c0",
                       text="Dear landlord, the heater has been broken since Monday."),
        )
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)
        run_jobs(app)
        run_jobs(app)
    runner = app.test_cli_runner()
    pushed = runner.invoke(args=["labelstudio", "push", "--project", tenant.slug])
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.strip() == ("created 2 task(s), recovered 0, 0 item(s) waiting; "
                                     "created 1 pairwise task(s), recovered 0")
    again = runner.invoke(args=["labelstudio", "push", "--project", tenant.slug])
    assert again.output.strip() == ("created 0 task(s), recovered 0, 0 item(s) waiting; "
                                    "created 0 pairwise task(s), recovered 0")


def test_agreement_items_are_listed_by_the_public_ids_other_commands_take(
    served: tuple[Flask, Served],  # noqa: F811 - the fixtures imported above
    ls: Any,  # noqa: F811
) -> None:
    app, client, tenant, _ = start(served)
    share(client, tenant, "c0", "How do I export a report as CSV?", "Use File > Export.")
    share(client, tenant, "c1", "Why does my invoice show VAT twice?", "It is a bug.")
    run_jobs(app)
    run_jobs(app)
    items = items_of(app, tenant.project_id)
    assert all(item.ls_task_id for item in items)
    suffix = uuid.uuid4().hex[:8]
    other = ls.users.create(
        username=f"ann-{suffix}", email=f"ann-{suffix}@winnow.test", password=uuid.uuid4().hex
    )
    me = next(u for u in ls.users.list() if u.email == "admin@winnow.test")
    for item, verdicts in zip(items, [("bad", "bad"), ("good", "bad")], strict=True):
        for user, verdict in zip((me.id, other.id), verdicts, strict=True):
            ls.annotations.create(id=item.ls_task_id, completed_by=user,
                                  result=[BAD[0] | {"value": {"choices": [verdict]}}])
    runner = app.test_cli_runner()
    synced = runner.invoke(args=["labelstudio", "sync", "--project", tenant.slug])
    assert synced.exit_code == 0, synced.output
    def stored_all() -> bool:
        run_jobs(app)  # the webhooks' syncs, if they came
        return len(annotations_of(app, tenant.project_id)) == 4

    assert wait_for(stored_all)
    shown = runner.invoke(args=["labelstudio", "agreement", "--project", tenant.slug, "--items"])
    assert shown.exit_code == 0, shown.output
    listed = [line for line in shown.output.splitlines() if line.startswith("item ")]
    assert sorted(listed) == [
        "item c0: 0 good, 2 bad, agreement 1.000, majority bad",
        "item c1: 1 good, 1 bad, agreement 0.000, majority tie",
    ]
    for line in listed:  # what it prints is what other commands take
        public_id = line.split(":")[0].removeprefix("item ")
        found = runner.invoke(args=["items", "show", public_id, "--project", tenant.slug])
        assert found.exit_code == 0, found.output


# Item 17: what the docs tell a newcomer to run.


def test_datasets_pull_defaults_to_the_port_winnow_up_listens_on(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the error names the URL it tried
    env = clean_env(tmp_path, WINNOW_PORT=str(port), WINNOW_API_KEY="wn_unused_key")
    result = CliRunner(env=env).invoke(main, ["datasets", "pull", "x@1", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert f"http://127.0.0.1:{port}" in one_line_error(result.output)
    named = CliRunner(env=dict(env, WINNOW_URL=f"http://127.0.0.1:{port}/")).invoke(
        main, ["datasets", "pull", "x@1", "-o", str(tmp_path)])
    assert f"http://127.0.0.1:{port}" in named.output


def test_labelstudio_script_prints_the_variables_winnow_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.config import Settings

    script = ROOT / "scripts" / "labelstudio.sh"
    var = Path(os.environ.get("WINNOW_VAR") or ROOT / "var")
    if not (var / "label-studio" / "token").is_file():
        pytest.skip("Label Studio was never initialised here (scripts/labelstudio.sh start)")
    for_winnow = subprocess.run(["bash", str(script), "winnow-env"], capture_output=True,
                                text=True, check=True)
    exported = dict(line.removeprefix("export ").split("=", 1)
                    for line in for_winnow.stdout.splitlines())
    assert set(exported) == {"WINNOW_LABEL_STUDIO_URL", "WINNOW_LABEL_STUDIO_TOKEN"}
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.label_studio_url == exported["WINNOW_LABEL_STUDIO_URL"]
    assert settings.label_studio_token is not None
    assert settings.label_studio_token.get_secret_value() == exported["WINNOW_LABEL_STUDIO_TOKEN"]
    for_tests = subprocess.run(["bash", str(script), "env"], capture_output=True, text=True,
                               check=True).stdout
    assert "WINNOW_TEST_LABEL_STUDIO_URL=" in for_tests  # what scripts/test evals
    assert "export WINNOW_LABEL_STUDIO" not in for_tests  # would configure every test app


# Failure modes as Label Studio shows them or as they are stored.


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("off-topic", "off_topic"),
        ("off_topic", "off_topic"),
        ("Off-Topic", "off_topic"),
        ("wrong or incomplete", "wrong_or_incomplete"),
        ("wrong-or-incomplete", "wrong_or_incomplete"),
        ("hallucination", "hallucination"),
    ],
)
def test_a_selection_takes_either_spelling_of_a_failure_mode(given: str, stored: str) -> None:
    assert Selection.model_validate({"failure_modes": [given]}).failure_modes == [stored]


def test_a_misspelt_failure_mode_is_still_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Selection.model_validate({"failure_modes": ["offtopic"]})


def test_every_failure_mode_in_the_review_config_is_a_selectable_one() -> None:
    config = (ROOT / "label_config" / "conversation_review.xml").read_text()
    block = config.split('name="failure_modes"', 1)[1].split("</Choices>", 1)[0]
    labels = re.findall(r'<Choice value="([^"]+)"', block)
    assert "off-topic" in labels
    Selection.model_validate({"failure_modes": labels})  # raises if any label is not accepted
