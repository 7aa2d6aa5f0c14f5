"""schemas/ is generated from the pydantic models; this fails when the two drift apart."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.cli import main
from app.payloads.registry import PUBLIC, write_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_checked_in_schemas_match_the_models() -> None:
    drift = write_schemas(SCHEMAS, check=True)
    assert drift == [], f"run `winnow schemas write`: {drift} differ from the models"
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(PUBLIC)


def test_check_mode_detects_a_changed_file(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["schemas", "write", "--dir", str(tmp_path)]).exit_code == 0
    ok = runner.invoke(main, ["schemas", "write", "--dir", str(tmp_path), "--check"])
    assert ok.exit_code == 0, ok.output
    event = tmp_path / "event.json"
    doc = json.loads(event.read_text())
    doc["title"] = "edited by hand"
    event.write_text(json.dumps(doc))
    drifted = runner.invoke(main, ["schemas", "write", "--dir", str(tmp_path), "--check"])
    assert drifted.exit_code != 0
    assert "event.json" in drifted.output
