"""`winnow datasets`: define from YAML, build, diff, and the eval job's side: pull over real HTTP
with checksums verified, resume, and a corrupted file detected."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from werkzeug.serving import make_server

from app.cli import main, make_app
from app.config import Settings
from tests.api.test_datasets import SCOPES, add_conversations
from tests.conftest import MakeTenant
from tests.helpers import Tenant, run_jobs

DEFINITION = """\
name: help-eval
purpose: eval
description: Answers users liked, for regression evals
selection:
  signals: [positive, strong_positive]
  features: [help]
splits: {train: 0.3, validation: 0.2, test: 0.5}  # 20 items: an empty test split is ~1e-6
"""


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def winnow(settings: Settings, *args: str, **env: str) -> Result:
    """The CLI against the same database and dataset store as the app under test."""
    environ = {
        "WINNOW_DATA_DIR": str(settings.data_dir),
        "WINNOW_DATABASE_URL": settings.database_url or "",
        "WINNOW_REDIS_URL": settings.redis_url or "",
        "WINNOW_ENCRYPTION_KEY": settings.encryption_key.get_secret_value()
        if settings.encryption_key else "",
        "WINNOW_DEDUPE_THRESHOLD": "1.0",
        **env,
    }
    return CliRunner().invoke(main, list(args), env={k: v or None for k, v in environ.items()},
                              catch_exceptions=False)


def test_define_build_pull_verify_and_detect_corruption(
    app: Flask, served: str, settings: Settings, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    owner: Tenant = make_tenant(scopes=SCOPES)
    client = app.test_client()
    add_conversations(client, owner, range(0, 20))
    run_jobs(app)
    spec = tmp_path / "help-eval.yaml"
    spec.write_text(DEFINITION)
    done = winnow(settings, "datasets", "define", str(spec), "--project", owner.slug)
    assert done.exit_code == 0 and "created dataset help-eval" in done.output, done.output

    def build(message: str) -> None:
        args = ["datasets", "build", "help-eval", "--project", owner.slug, "-m", message]
        if settings.redis_url:  # production: the build is a job for a worker
            out = winnow(settings, *args, "--no-wait")
            assert out.exit_code == 0, out.output
            run_jobs(app)
        else:
            out = winnow(settings, *args)
            assert out.exit_code == 0, out.output
            # The summary names every split with its item count, and holds some items.
            ready = re.search(r": ready \((.*)\)$", out.output.strip())
            assert ready is not None, out.output
            counts = dict(part.rsplit(" ", 1) for part in ready.group(1).split(", "))
            assert set(counts) == {"train", "validation", "test"}, out.output
            assert sum(int(n) for n in counts.values()) > 0, out.output

    build("first")
    add_conversations(client, owner, range(20, 30))
    run_jobs(app)
    build("ten more")
    listed = winnow(settings, "datasets", "versions", "help-eval", "--project", owner.slug)
    assert listed.output.count("\tready\t") == 2 and "ten more" in listed.output
    diff = winnow(settings, "datasets", "diff", "help-eval", "1", "2", "--project", owner.slug)
    added = sum(int(part.split("=")[1]) for line in diff.output.splitlines()
                for part in line.split() if part.startswith("added="))
    assert diff.exit_code == 0 and added == 10, diff.output

    # The eval job: pull version 1's test split over HTTP with a read-only key.
    reader = make_tenant(owner.slug, scopes=("datasets:read",))
    out_dir = tmp_path / "pulled"
    env = {"WINNOW_URL": served, "WINNOW_API_KEY": reader.token}
    pulled = winnow(settings, "datasets", "pull", "help-eval@1", "--split", "test", "-o",
                    str(out_dir), **env)
    assert pulled.exit_code == 0 and "checksums verified" in pulled.output, pulled.output
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["version"] == 1
    test_eval = out_dir / "test" / "eval.jsonl"
    data = test_eval.read_bytes()
    entry = manifest["splits"]["test"]["files"]["eval"]
    assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    assert {json.loads(line)["id"] for line in data.splitlines()} == {
        e[0] for e in manifest["items"]["test"]}
    assert not (out_dir / "train").exists()
    assert winnow(settings, "datasets", "verify", str(out_dir)).exit_code == 0

    # Pulling again downloads nothing; a half-downloaded file resumes with Range.
    again = winnow(settings, "datasets", "pull", "help-eval@1", "--split", "test", "-o",
                   str(out_dir), **env)
    assert again.output.count("up to date") == 3, again.output
    test_eval.unlink()
    (out_dir / "test" / "eval.jsonl.part").write_bytes(data[: len(data) // 2])
    resumed = winnow(settings, "datasets", "pull", "help-eval@1", "--split", "test",
                     "--format", "eval", "-o", str(out_dir), **env)
    assert resumed.exit_code == 0 and test_eval.read_bytes() == data, resumed.output
    assert f"resumed at byte {len(data) // 2}" in resumed.output
    latest = winnow(settings, "datasets", "pull", "help-eval", "-o", str(tmp_path / "latest"),
                    **env)
    assert latest.exit_code == 0 and "pulled help-eval@2" in latest.output, latest.output

    # A corrupted local copy is caught by verify.
    test_eval.write_bytes(data.replace(b"For ticket", b"For tickek", 1))
    checked = winnow(settings, "datasets", "verify", str(out_dir))
    assert checked.exit_code == 1 and "test/eval.jsonl: CORRUPTED" in checked.output

    # A file corrupted in the store is caught by pull: nothing bad is left behind.
    stored = settings.data_dir / "datasets" / owner.slug / "help-eval" / "1" / "test" / (
        "eval.jsonl")
    stored.write_bytes(stored.read_bytes().replace(b"For ticket", b"For tickex", 1))
    fresh = tmp_path / "fresh"
    bad = winnow(settings, "datasets", "pull", "help-eval@1", "--split", "test", "-o",
                 str(fresh), **env)
    assert bad.exit_code == 1, bad.output
    assert "CHECKSUM MISMATCH" in bad.output and "test/eval.jsonl" in bad.output
    assert not (fresh / "test" / "eval.jsonl").exists()
    assert not (fresh / "test" / "eval.jsonl.part").exists()


def test_cli_errors_are_clear(app: Flask, served: str, settings: Settings,
                              make_tenant: MakeTenant, tmp_path: Path) -> None:
    owner = make_tenant(scopes=SCOPES)
    bad = tmp_path / "bad.yaml"
    for text, words in (
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "a YAML mapping"),
        ("name: ../up\npurpose: eval\n", "name:"),
        ("name: ok\npurpose: vibes\n", "purpose:"),
    ):
        bad.write_text(text)
        out = winnow(settings, "datasets", "define", str(bad), "--project", owner.slug)
        assert out.exit_code == 1 and words in out.output, (text, out.output)
    out = winnow(settings, "datasets", "build", "nope", "--project", owner.slug, "-m", "x")
    assert out.exit_code == 1 and "no dataset 'nope'" in out.output
    env = {"WINNOW_URL": served, "WINNOW_API_KEY": owner.token}
    for ref, words in (("nope@1", "404"), ("@1", "expected NAME")):
        out = winnow(settings, "datasets", "pull", ref, "-o", str(tmp_path / "x"), **env)
        assert out.exit_code == 1 and words in out.output, out.output
    out = winnow(settings, "datasets", "pull", "x@1", "-o", str(tmp_path / "x"),
                 WINNOW_URL="http://127.0.0.1:9", WINNOW_API_KEY="k")
    assert out.exit_code == 1 and "cannot reach" in out.output
    # A manifest naming files outside the directory, or no manifest at all, is refused.
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "manifest.json").write_text(json.dumps(
        {"splits": {"train": {"files": {"eval": {"path": "../../etc/passwd"}}}}}))
    out = winnow(settings, "datasets", "verify", str(hostile))
    assert out.exit_code == 1 and "not a Winnow dataset manifest" in out.output
    (hostile / "manifest.json").write_text("{")
    out = winnow(settings, "datasets", "verify", str(hostile))
    assert out.exit_code == 1 and "cannot read it" in out.output
