"""The baseline for the ingestion benchmark: a bare Flask endpoint that inserts the same rows.

It parses the body with orjson, builds the same `events` rows Winnow stores (body hash included)
and inserts them in one statement with psycopg: no authentication, rate limiting, validation,
idempotency check or per-event answer. Two forms of that statement:

- `recordset` (default): the rows as one JSON parameter to json_to_recordset, the fastest form
  found for this table (and the one Winnow uses);
- `values`: the textbook multi-row `INSERT ... VALUES (...), (...)`, which psycopg has to parse
  and fill with 12 placeholders per row on every request.

It is served by gunicorn with the same settings as `winnow serve` (app.server.gunicorn_options).

    python benchmarks/baseline.py --dsn postgresql://... --project-id N --port 8101
"""

from __future__ import annotations

import argparse
import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from flask import Flask, Response, request
from psycopg.types.json import Json

from app.server import GunicornServer, freeze_startup_heap, gunicorn_options

COLUMNS = ("project_id", "external_id", "generation_ref", "type", "rating", "text", "reason",
           "user_id", "occurred_at", "received_at", "metadata", "body_hash")


def create_app(dsn: str, project_id: int, statement_form: str = "recordset") -> Flask:
    app = Flask("baseline")
    local = threading.local()
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    row_placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    statement = (
        f"INSERT INTO events ({names}) SELECT {names} FROM json_to_recordset(%s::json) AS r("
        "project_id bigint, external_id varchar(128), generation_ref varchar(128), "
        "type varchar(32), rating smallint, text text, reason varchar(64), "
        "user_id varchar(128), occurred_at timestamptz, received_at timestamptz, "
        "metadata jsonb, body_hash varchar(64))"
    )

    def connection() -> psycopg.Connection[Any]:
        # One connection per gunicorn thread, opened after the fork.
        conn: psycopg.Connection[Any] | None = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = psycopg.connect(dsn)
        return conn

    def row(event: dict[str, Any], now: str) -> dict[str, Any]:
        return {
            "project_id": project_id, "external_id": event["id"],
            "generation_ref": event["generation_id"], "type": event["type"],
            "rating": event.get("rating"), "text": event.get("text"),
            "reason": event.get("reason"), "user_id": event.get("user_id"),
            "occurred_at": event.get("timestamp") or now, "received_at": now,
            "metadata": event.get("metadata"),
            "body_hash": hashlib.sha256(
                orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest(),
        }

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    @app.post("/v1/events")
    def ingest() -> Response:
        body = orjson.loads(request.get_data())
        events = body.get("events", [body])
        now = datetime.now(UTC).isoformat()
        rows = [row(event, now) for event in events]
        conn = connection()
        with conn.cursor() as cur:
            if statement_form == "values":
                values = ", ".join([row_placeholders] * len(rows))
                params = [Json(v) if c == "metadata" and v is not None else v
                          for r in rows for c, v in r.items()]
                cur.execute(f"INSERT INTO events ({names}) VALUES {values}", params)
            else:
                cur.execute(statement, (orjson.dumps(rows).decode(),))
        conn.commit()
        return Response(orjson.dumps({"inserted": len(events)}), status=201,
                        mimetype="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="libpq DSN (postgresql://...)")
    parser.add_argument("--project-id", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--statement", choices=("recordset", "values"), default="recordset")
    args = parser.parse_args()
    app = create_app(args.dsn, args.project_id, args.statement)
    freeze_startup_heap()  # as `winnow serve` does
    GunicornServer(app, gunicorn_options(args.host, args.port, args.workers, args.threads)).run()


if __name__ == "__main__":
    main()
