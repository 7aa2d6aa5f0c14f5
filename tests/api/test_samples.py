"""Daily samples: reproducible and stratified; verdicts are labels that analytics count and
dataset selections use. Embedded and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.cli import make_app
from app.config import Settings
from app.models import Item
from tests.api.test_analytics import post, refresh
from tests.api.test_datasets import add_conversations, build, define, ids, manifest
from tests.conftest import MakeTenant
from tests.helpers import Tenant, event, generation, is_problem, run_jobs

SCOPES = ("events:write", "events:read", "items:read", "items:review", "datasets:read",
          "datasets:write")
DAY = datetime.now(UTC).date() - timedelta(days=2)
NOON = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def owner(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def accepted_items(app: Flask, tenant: Tenant, rows: list[tuple[str, str, str]],
                   state: str = "accepted", when: datetime = NOON) -> None:
    """Items as curation leaves them (accepted, redacted), for (item id, generation id, text)."""
    with app.extensions["winnow"].db.session() as session:
        for external_id, generation_ref, text in rows:
            session.add(Item(
                project_id=tenant.project_id, external_id=external_id, source="api",
                generation_ref=generation_ref, conversation_ref=external_id, user_id="u",
                state=state, turns=2, occurred_at=when, received_at=when, screened_at=when,
                redacted=[{"role": "user", "text": text},
                          {"role": "assistant", "text": "An answer."}],
                findings=[], signals=[], reasons=[], body_hash="h"))


def population(app: Flask, client: FlaskClient, t: Tenant,
               versions: dict[str, int], negative: dict[str, int],
               prompt: tuple[str, str] | None = None, prefix: str = "i") -> None:
    """`versions[v]` accepted items of model version v that day, the first `negative[v]`
    regenerated, the rest accepted by their users."""
    gens: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    rows = []
    for version, n in versions.items():
        for i in range(n):
            gid = f"{prefix}-{version}-{i}"
            extra = {"prompt": {"id": prompt[0], "version": prompt[1]}} if prompt else {}
            gens.append(generation(gid, model={"name": "m", "version": version},
                                   created_at=NOON.isoformat(), **extra))
            kind = "regenerate" if i < negative.get(version, 0) else "accept"
            events.append(event(f"{gid}-e", kind, generation=gid))
            rows.append((f"item-{gid}", gid, f"question {i} for {version}"))
    post(client, t, gens, events)
    accepted_items(app, t, rows)


def sample(client: FlaskClient, t: Tenant, size: int, day: date = DAY) -> dict[str, Any]:
    resp = client.get(f"/v1/samples?date={day.isoformat()}&size={size}", headers=t.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = resp.get_json()
    return body


def test_the_daily_sample_is_reproducible_stratified_and_negative_first(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    population(app, client, owner, {"v1": 60, "v2": 30, "v3": 2}, {"v1": 4, "v2": 1})
    accepted_items(app, owner, [("item-quarantined", "none", "held back")], state="quarantined")
    accepted_items(app, owner, [("item-other-day", "none", "later")],
                   when=NOON + timedelta(days=1))
    first = sample(client, owner, 12)
    assert first == sample(client, owner, 12)  # the same date and size: the same sample
    assert first["population"] == 92
    got = [i["item_id"] for i in first["items"]]
    assert len(got) == len(set(got)) == 12
    strata = {s["stratum"]: s for s in first["strata"]}
    assert set(strata) == {"m@v1", "m@v2", "m@v3"}
    assert all(s["sampled"] >= 1 for s in strata.values())  # every model version present
    assert strata["m@v1"]["sampled"] > strata["m@v2"]["sampled"] > 0  # in proportion
    assert sum(s["sampled"] for s in strata.values()) == 12
    # Every negative item is drawn, and they come first.
    flags = [i["feedback"]["negative"] for i in first["items"]]
    assert flags == [True] * 5 + [False] * 7
    assert {i["item_id"] for i in first["items"][:5]} == {
        "item-i-v1-0", "item-i-v1-1", "item-i-v1-2", "item-i-v1-3", "item-i-v2-0"}
    assert all(i["feedback"]["by_type"] == {"regenerate": 1} for i in first["items"][:5])
    item = first["items"][0]
    assert item["messages"][0]["role"] == "user" and item["verdict"] is None
    # A larger sample keeps what the smaller drew in the stratum that was not squeezed.
    larger = {i["item_id"] for i in sample(client, owner, 40)["items"]}
    assert {i for i in got if "-v1-" in i} <= larger
    assert sample(client, owner, 500)["items"].__len__() == 92
    assert sample(client, owner, 5, DAY + timedelta(days=1))["population"] == 1
    assert sample(client, owner, 5, DAY - timedelta(days=1))["items"] == []


def test_new_prompt_versions_are_weighted_up(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    # v7 served 20 days before the day; v8 is new that day.
    old = [generation(f"old-{i}", model={"name": "m", "version": "x"},
                      prompt={"id": "p", "version": "7"},
                      created_at=(NOON - timedelta(days=20)).isoformat()) for i in range(3)]
    post(client, owner, old, [])
    refresh(app, owner)
    population(app, client, owner, {"x": 150}, {}, prompt=("p", "7"), prefix="a")
    population(app, client, owner, {"x": 150}, {}, prompt=("p", "8"), prefix="b")
    refresh(app, owner)
    drawn = sample(client, owner, 60)["items"]
    by_prompt = Counter((i["prompt_version"], i["new_prompt_version"]) for i in drawn)
    assert set(by_prompt) == {("7", False), ("8", True)}
    # Half the population; with 3 times the weight, about three quarters of the draws.
    assert by_prompt[("8", True)] >= 38, by_prompt


def test_a_verdict_is_kept_shown_counted_and_checked(
    app: Flask, client: FlaskClient, owner: Tenant, make_tenant: MakeTenant
) -> None:
    population(app, client, owner, {"v1": 3, "v2": 2}, {"v2": 1})
    url = f"/v1/samples/{DAY.isoformat()}/item-i-v2-0/verdict"
    resp = client.post(url, json={"verdict": "bad", "failure_modes": ["hallucination"],
                                  "note": "made up a refund policy"}, headers=owner.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    out = resp.get_json()
    assert out["verdict"] == "bad" and out["failure_modes"] == ["hallucination"]
    assert out["by"].startswith("key:")
    # A second verdict replaces the first.
    client.post(url, json={"verdict": "unsure"}, headers=owner.headers)
    again = client.post(url, json={"verdict": "bad", "failure_modes": ["format"]},
                        headers=owner.headers).get_json()
    assert again["failure_modes"] == ["format"]
    client.post(f"/v1/samples/{DAY.isoformat()}/item-i-v1-0/verdict",
                json={"verdict": "good"}, headers=owner.headers)
    shown = {i["item_id"]: i["verdict"] for i in sample(client, owner, 10)["items"]}
    assert shown["item-i-v2-0"]["verdict"] == "bad" and shown["item-i-v1-1"] is None
    refresh(app, owner)
    groups = client.get("/v1/analytics/feedback?group_by=model_version&since=7d",
                        headers=owner.headers).get_json()["groups"]
    assert {g["group"]["model_version"]: g["verdicts"] for g in groups} == {
        "v1": {"good": 1}, "v2": {"bad": 1}}

    day = DAY.isoformat()
    is_problem(client.post(f"/v1/samples/{day}/nope/verdict", json={"verdict": "good"},
                           headers=owner.headers), 404)
    is_problem(client.post("/v1/samples/2026-02-30/item-i-v1-0/verdict",
                           json={"verdict": "good"}, headers=owner.headers), 404)
    other = (DAY + timedelta(days=1)).isoformat()
    body = is_problem(client.post(f"/v1/samples/{other}/item-i-v1-0/verdict",
                                  json={"verdict": "good"}, headers=owner.headers), 409)
    assert DAY.isoformat() in body["detail"]
    accepted_items(app, owner, [("held", "none", "x")], state="quarantined")
    is_problem(client.post(f"/v1/samples/{day}/held/verdict", json={"verdict": "good"},
                           headers=owner.headers), 409)
    for bad in ({"verdict": "great"}, {"verdict": "bad", "failure_modes": [""]},
                {"verdict": "bad", "extra": 1}, {"failure_modes": []},
                {"verdict": "bad", "note": "x" * 2001}):
        is_problem(client.post(url, json=bad, headers=owner.headers), 422)
    is_problem(client.post(url, data="verdict=good", headers=owner.headers), 415)
    reader = make_tenant(owner.slug, scopes=("items:read",))
    is_problem(client.post(url, json={"verdict": "good"}, headers=reader.headers), 403)
    writer = make_tenant(owner.slug, scopes=("events:write",))
    is_problem(client.get(f"/v1/samples?date={day}", headers=writer.headers), 403)
    for query in ("", "date=yesterday", "date=2026-02-30", f"date={day}&size=0",
                  f"date={day}&size=501", f"date={day}&colour=red"):
        is_problem(client.get(f"/v1/samples?{query}", headers=owner.headers), 400)
    # Nothing accepted before was lost to the refusals.
    assert client.post(url, json={"verdict": "bad"}, headers=owner.headers).status_code == 200


def test_verdicts_select_a_dataset(app: Flask, client: FlaskClient, owner: Tenant) -> None:
    add_conversations(client, owner, range(6))
    run_jobs(app)
    with app.extensions["winnow"].db.session() as session:
        received = {i.external_id: i.received_at.date() for i in session.query(Item)}
    assert len(received) == 6
    for item_id, verdict in (("c-1", "good"), ("c-2", "good"), ("c-3", "bad"),
                             ("c-4", "unsure")):
        resp = client.post(f"/v1/samples/{received[item_id]}/{item_id}/verdict",
                           json={"verdict": verdict}, headers=owner.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
    define(client, owner, name="liked", selection={"verdicts": ["good"]},
           splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "liked", "people's good verdicts")
    m = manifest(client, owner, "liked", 1)
    chosen = set().union(*(ids(m, s) for s in ("train", "validation", "test")))
    # `verdicts` selects by people's verdicts: users' thumbs up on every item do not count,
    # and `unsure` is no verdict.
    assert chosen == {"c-1", "c-2"}
    define(client, owner, name="disliked", selection={"verdicts": ["bad"]},
           splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "disliked", "people's bad verdicts")
    m = manifest(client, owner, "disliked", 1)
    assert set().union(*(ids(m, s) for s in ("train", "validation", "test"))) == {"c-3"}


def test_erasing_a_user_takes_their_verdicts_out_of_the_rollups(
    app: Flask, client: FlaskClient, owner: Tenant, make_tenant: MakeTenant
) -> None:
    # The items are user u's; their generations are nobody's and u reacted to none of them:
    # the verdicts still count on the generations' day until u is erased.
    population(app, client, owner, {"v1": 2}, {})
    client.post(f"/v1/samples/{DAY.isoformat()}/item-i-v1-0/verdict", json={"verdict": "good"},
                headers=owner.headers)
    refresh(app, owner)

    def verdicts() -> dict[str, int]:
        groups = client.get("/v1/analytics/feedback?since=7d", headers=owner.headers).get_json()
        return dict(groups["groups"][0]["verdicts"])

    assert verdicts() == {"good": 1}
    admin = make_tenant(scopes=("admin",))
    resp = client.delete("/v1/users/u", headers=admin.headers)
    assert resp.status_code in (200, 202), resp.get_data(as_text=True)
    refresh(app, owner)
    assert verdicts() == {}


def test_a_kept_draw_follows_new_items_at_once_and_new_feedback_within_its_ttl(
    app: Flask, client: FlaskClient, owner: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import samples as service

    population(app, client, owner, {"v1": 3}, {})
    first = [i["item_id"] for i in sample(client, owner, 10)["items"]]
    population(app, client, owner, {"v1": 1}, {}, prefix="late")  # a new item that day
    second = [i["item_id"] for i in sample(client, owner, 10)["items"]]
    assert len(second) == len(first) + 1 and "item-late-v1-0" in second
    # Feedback alone does not change the population: the kept draw serves until its TTL ends.
    post(client, owner, [], [event(f"late-{i}", kind, generation="i-v1-2")
                             for i, kind in enumerate(("regenerate", "thumbs_down", "flag"))])
    assert [i["item_id"] for i in sample(client, owner, 10)["items"]] == second
    monkeypatch.setattr(service, "DRAW_TTL", timedelta(0))
    assert sample(client, owner, 10)["items"][0]["item_id"] == "item-i-v1-2"  # negative first
