"""Text stored raw before revision 0006 is screened after the upgrade, and hidden until then.

SQLite (the embedded upgrade path a user runs with `winnow up`); the same SQL runs on
PostgreSQL in the suite's migrated schema (tests/conftest.py upgrades an empty database).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.cli import make_app
from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade
from app.services.keys import create_key
from tests.helpers import run_jobs

EMAIL = "old.customer@example.com"


def test_rows_from_before_0006_are_hidden_then_screened_in_place(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO projects (slug, name, created_at) VALUES ('p', 'p', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO events (project_id, external_id, generation_ref, type, text, "
            "occurred_at, received_at, metadata, body_hash) VALUES (1, 'e1', 'g1', 'comment', "
            f"'Write to {EMAIL}', '2025-01-01 00:00:00', '2025-01-01 00:00:00', "
            f"'{{\"mail\": \"{EMAIL}\"}}', 'h')"))
        conn.execute(text(
            "INSERT INTO generations (project_id, external_id, model_name, received_at, "
            f"metadata, body_hash) VALUES (1, 'g1', 'm', CURRENT_TIMESTAMP, "
            f"'{{\"owner\": \"{EMAIL}\"}}', 'h')"))
    upgrade(engine)
    with engine.begin() as conn:
        states = conn.execute(text(
            "SELECT (SELECT screening FROM events), (SELECT screening FROM generations)")).one()
    assert tuple(states) == ("pending", "pending")
    engine.dispose()

    app = make_app(settings)
    db = app.extensions["winnow"].db
    with db.session() as session:
        from app.models import Project

        project = session.get_one(Project, 1)
        token = create_key(session, project, "k", ("admin",)).token
    h = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    hidden = client.get("/v1/events/e1", headers=h)
    assert EMAIL not in hidden.get_data(as_text=True)
    assert hidden.get_json()["screening"] == "pending"
    assert client.get("/v1/generations/g1", headers=h).get_json()["metadata"] is None

    from workers.curation.reconcile import reconcile

    reconcile()  # enqueues their screening; older than the retention limit, yet not purged
    run_jobs(app)
    event = client.get("/v1/events/e1", headers=h).get_json()
    assert (event["text"], event["metadata"], event["screening"]) == (
        "Write to <EMAIL_ADDRESS_1>", {"mail": "<EMAIL_ADDRESS_1>"}, "redacted")
    gen = client.get("/v1/generations/g1", headers=h).get_json()
    assert gen["metadata"] == {"owner": "<EMAIL_ADDRESS_1>"}
    with db.session() as session:
        assert EMAIL not in repr(session.execute(text("SELECT * FROM events")).all())
    db.dispose()
