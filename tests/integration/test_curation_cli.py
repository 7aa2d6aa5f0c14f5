"""`winnow import conversations`, `winnow items`, `winnow jobs`, embedded (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.cli import main
from tests.integration.test_cli import clean_env

SECRET = "zelda.quartermaine@example.org"


def line(cid: str, *texts: str, consent: object = True) -> str:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)
    ]
    return json.dumps({"id": cid, "user_id": "u", "consent": consent, "messages": messages})


def test_import_review_and_jobs(tmp_path: Path) -> None:
    runner = CliRunner(env=clean_env(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["projects", "create", "shop"]).exit_code == 0
    logs = tmp_path / "logs.jsonl"
    logs.write_text(
        "\n".join(
            [
                line("a", f"Please email {SECRET} the invoice for March.", "Sent."),
                line(
                    "b",
                    "What is the boiling point of water at 2000 m?",
                    "About 93 degrees Celsius.",
                ),
                line("c", "How do I center a div horizontally in CSS?", "Use margin: 0 auto."),
                '{"id": "broken", ',
                line("d", f"mail {SECRET}", "ok", consent=False),
                "",
            ]
        )
    )
    done = runner.invoke(main, ["import", "conversations", str(logs), "--project", "shop"])
    assert done.exit_code == 1  # some lines were refused ...
    assert "created=3 duplicate=0 conflict=0 invalid=2" in done.stdout
    assert "line 4: not valid JSON" in done.stderr and "line 5: consent" in done.stderr
    assert SECRET not in done.output  # ... by line and field, never by content

    listed = runner.invoke(main, ["items", "list", "--project", "shop"])
    assert listed.exit_code == 0
    assert [ln.split("\t")[:2] for ln in listed.stdout.splitlines()] == [
        ["a", "accepted"],
        ["b", "accepted"],
        ["c", "accepted"],
    ]
    shown = runner.invoke(main, ["items", "show", "a", "--project", "shop"])
    assert shown.exit_code == 0 and "<EMAIL_ADDRESS_1>" in shown.stdout
    assert SECRET not in shown.stdout

    again = runner.invoke(main, ["import", "conversations", str(logs), "--project", "shop"])
    assert "created=0 duplicate=3" in again.stdout

    engine = create_engine(f"sqlite:///{tmp_path / 'winnow.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE items SET state = 'quarantined' WHERE external_id = 'b'"))
    released = runner.invoke(main, ["items", "release", "b", "--project", "shop", "--note", "fine"])
    assert released.exit_code == 0 and released.stdout.strip() == "b\taccepted"
    twice = runner.invoke(main, ["items", "release", "b", "--project", "shop"])
    assert twice.exit_code != 0 and "item is accepted; release applies to" in twice.output
    missing = runner.invoke(main, ["items", "show", "zzz", "--project", "shop"])
    assert missing.exit_code != 0 and "no item with that id" in missing.output

    assert "no failed jobs" in runner.invoke(main, ["jobs", "failed"]).stdout
    reconciled = runner.invoke(main, ["jobs", "reconcile", "--older-than", "0"])
    assert reconciled.exit_code == 0 and "re-enqueued 0 item(s)" in reconciled.stdout
    no_args = runner.invoke(main, ["jobs", "retry"])
    assert no_args.exit_code != 0 and "--all" in no_args.output
    engine.dispose()
