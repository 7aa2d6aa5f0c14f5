"""Small builders shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Tenant:
    slug: str
    project_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def event(
    i: int | str = 1, type: str = "thumbs_up", generation: str = "gen-1", **fields: Any
) -> dict[str, Any]:
    return {"id": f"evt-{i}", "type": type, "generation_id": generation, **fields}


def generation(gid: str = "gen-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": gid, "model": {"name": "gpt-4o", "version": "2024-08-06"}}
    body.update(fields)
    return body


def is_problem(resp: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 answer with this status and return its body."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/problem+json", resp.mimetype
    body: dict[str, Any] = resp.get_json()
    assert body["status"] == status
    assert body["type"].startswith("urn:winnow:problem:")
    assert body["title"]
    return body


def conversation(
    cid: str = "conv-1", user: str = "u-1", *texts: str, **fields: Any
) -> dict[str, Any]:
    """A shared conversation alternating user and assistant turns."""
    texts = texts or (
        "How do I reset my password?",
        "Open Settings, choose Security, then Reset password and follow the link we email you.",
    )
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)
    ]
    return {"id": cid, "user_id": user, "consent": True, "messages": messages, **fields}


def run_jobs(app: Any) -> None:
    """Run every queued job to the end: the in-process queue's thread, or an RQ worker."""
    from workers.queue import RQJobQueue

    queue = app.extensions["winnow"].queue
    if queue.drain():
        return
    assert isinstance(queue, RQJobQueue)
    from rq import SimpleWorker

    SimpleWorker([queue.queue], connection=queue.connection,
                 serializer=queue.queue.serializer).work(burst=True)
