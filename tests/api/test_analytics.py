"""Feedback analytics and version comparisons over the rollups, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.services import rollups
from tests.conftest import MakeTenant
from tests.helpers import Tenant, event, generation, is_problem

TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def post(client: FlaskClient, tenant: Tenant, gens: list[dict[str, Any]],
         events: list[dict[str, Any]]) -> None:
    for start in range(0, len(gens), 1000):
        resp = client.post("/v1/generations", json={"generations": gens[start:start + 1000]},
                           headers=tenant.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    for start in range(0, len(events), 1000):
        resp = client.post("/v1/events", json={"events": events[start:start + 1000]},
                           headers=tenant.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]


def refresh(app: Flask, tenant: Tenant) -> rollups.Refreshed:
    with app.extensions["winnow"].db.session() as session:
        return rollups.refresh(session, tenant.project_id)


def versions(n: int, regenerate: dict[str, float], seed: int = 1,
             when: datetime = TODAY) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """n generations per model version; each gets one implicit reaction: regenerate with the
    version's probability, else accept; every fourth also a thumbs event."""
    rng = random.Random(seed)
    gens, events = [], []
    for version, p in regenerate.items():
        for i in range(n):
            gid = f"{version}-{seed}-{i}"
            gens.append(generation(gid, model={"name": "m", "version": version},
                                   user_id=f"u{i % 37}", created_at=when.isoformat()))
            kind = "regenerate" if rng.random() < p else "accept"
            events.append(event(f"{gid}-a", kind, generation=gid))
            if i % 4 == 0:
                thumbs = "thumbs_down" if kind == "regenerate" else "thumbs_up"
                events.append(event(f"{gid}-t", thumbs, generation=gid))
    return gens, events


def test_feedback_per_model_version_counts_rates_with_intervals(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    gens, events = versions(120, {"v1": 0.1, "v2": 0.4})
    post(client, tenant, gens, events)
    assert refresh(app, tenant).days == 1
    resp = client.get("/v1/analytics/feedback?group_by=model_version", headers=tenant.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["as_of"] is not None and body["group_by"] == ["model_version"]
    groups = {g["group"]["model_version"]: g for g in body["groups"]}
    assert set(groups) == {"v1", "v2"}
    for version, g in groups.items():
        mine = [e for e in events if e["generation_id"].startswith(version + "-")]
        regen = sum(e["type"] == "regenerate" for e in mine)
        assert g["generations"] == 120 and g["users"] == 37 and not g["users_estimated"]
        assert g["regenerate"]["k"] == regen and g["regenerate"]["n"] == 120
        assert g["acceptance"]["k"] == 120 - regen
        low, high = g["regenerate"]["interval"]["low"], g["regenerate"]["interval"]["high"]
        assert low < regen / 120 < high
        assert g["events"]["regenerate"] == regen
        assert g["events_by_kind"] == {"explicit": 30, "implicit": 120}
        assert g["thumbs_up_share"]["n"] == 30
        # accept +2, regenerate -2, thumbs +-1: the mean of every scored event
        scores = [{"accept": 2, "regenerate": -2, "thumbs_up": 1, "thumbs_down": -1}[e["type"]]
                  for e in mine]
        assert g["signal"]["value"] == pytest.approx(sum(scores) / len(scores))
        assert g["signal"]["n"] == len(scores)
    assert groups["v2"]["regenerate"]["value"] > groups["v1"]["regenerate"]["value"]


def test_compare_says_b_is_worse_when_its_users_regenerate_more(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    gens, events = versions(400, {"v1": 0.1, "v2": 0.3})
    post(client, tenant, gens, events)
    refresh(app, tenant)
    resp = client.get("/v1/analytics/compare?a=model_version:v1&b=model_version:v2",
                      headers=tenant.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    metrics = {m["metric"]: m for m in body["metrics"]}
    regen = metrics["regenerate"]
    assert regen["verdict"] == "worse"
    assert regen["interval"]["low"] > 0  # B - A: more regenerations, interval excludes 0
    assert regen["p_value"] < 0.001 and "score test" in regen["test"]
    assert metrics["acceptance"]["verdict"] == "worse"
    assert metrics["acceptance"]["interval"]["high"] < 0
    assert body["verdict"] == "worse"
    assert body["a"]["generations"] == body["b"]["generations"] == 400
    assert body["more_generations"] == {"a": 0, "b": 0}


def test_compare_with_ten_generations_each_says_not_enough_data_and_how_many(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    gens, events = versions(10, {"v1": 0.1, "v2": 0.3}, seed=3)
    post(client, tenant, gens, events)
    refresh(app, tenant)
    body = client.get("/v1/analytics/compare?a=model_version:v1&b=model_version:v2",
                      headers=tenant.headers).get_json()
    regen = {m["metric"]: m for m in body["metrics"]}["regenerate"]
    assert regen["verdict"] == "not enough data"
    assert regen["interval"]["low"] < 0 < regen["interval"]["high"]
    assert regen["needed_a"] > 100 and regen["needed_b"] > 100
    assert body["verdict"] == "not enough data"
    assert body["more_generations"]["a"] >= regen["needed_a"]
    assert body["more_generations"]["b"] >= regen["needed_b"]


def test_daily_and_weekly_series_put_generations_on_their_day(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    days = [monday, monday + timedelta(days=2), monday + timedelta(days=7)]
    gens: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for d, when in enumerate(days):
        g, e = versions(5 + d, {"v1": 0.0}, seed=10 + d, when=when)
        gens += g
        events += e
    post(client, tenant, gens, events)
    refresh(app, tenant)
    daily = client.get("/v1/analytics/feedback?since=30d&interval=day",
                       headers=tenant.headers).get_json()["groups"]
    assert [(g["period"], g["generations"]) for g in daily] == [
        (d.date().isoformat(), 5 + i) for i, d in enumerate(days)]
    weekly = client.get("/v1/analytics/feedback?since=30d&interval=week&group_by=model",
                        headers=tenant.headers).get_json()["groups"]
    assert [(g["period"], g["generations"], g["group"]) for g in weekly] == [
        (monday.date().isoformat(), 11, {"model": "m"}),
        ((monday + timedelta(days=7)).date().isoformat(), 7, {"model": "m"})]
    assert weekly[0]["users_estimated"] and weekly[0]["users"] == 6  # u0..u5 over two days
    since = (monday + timedelta(days=1)).date().isoformat()
    until = (monday + timedelta(days=7)).date().isoformat()
    window = client.get(f"/v1/analytics/feedback?since={since}&until={until}",
                        headers=tenant.headers).get_json()
    assert [g["generations"] for g in window["groups"]] == [6]


def test_filters_csv_and_late_events_after_a_refresh(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    gens = [generation(f"g{i}", model={"name": "m", "version": "v1"}, feature=f"f{i % 2}",
                       prompt={"id": "p", "version": str(7 + i % 2)}) for i in range(10)]
    post(client, tenant, gens, [event(i, "accept", generation=f"g{i}") for i in range(10)])
    refresh(app, tenant)
    # Events for generations already rolled up, and events before their generation.
    post(client, tenant, [], [event(100 + i, "regenerate", generation=f"g{i}")
                              for i in range(4)] + [event(200, "accept", generation="late")])
    post(client, tenant, [generation("late", model={"name": "m", "version": "v1"},
                                     feature="f0")], [])
    refresh(app, tenant)
    body = client.get("/v1/analytics/feedback?group_by=prompt_version,feature&where=feature:f0",
                      headers=tenant.headers).get_json()
    got = {(g["group"]["prompt_version"], g["group"]["feature"]): g for g in body["groups"]}
    assert set(got) == {("7", "f0"), (None, "f0")}
    assert got[("7", "f0")]["generations"] == 5
    assert got[("7", "f0")]["regenerate"]["k"] == 2  # g0, g2
    assert got[(None, "f0")]["acceptance"]["k"] == 1
    text = client.get("/v1/analytics/feedback?group_by=prompt_version&format=csv",
                      headers=tenant.headers)
    assert text.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))
    assert [(r["prompt_version"], r["generations"]) for r in rows] == [
        ("7", "5"), ("8", "5"), ("", "1")]
    assert float(rows[0]["regenerate"]) == pytest.approx(2 / 5)
    assert float(rows[0]["regenerate_low"]) < 0.4 < float(rows[0]["regenerate_high"])


def test_taxonomy_overrides_apply_without_a_refresh(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    writer = make_tenant("acme")
    admin = make_tenant("acme", scopes=("admin",))
    post(client, writer, [generation("g")], [event(1, "copy", generation="g")])
    refresh(app, writer)

    def signal() -> float:
        body = client.get("/v1/analytics/feedback", headers=writer.headers).get_json()
        value: float = body["groups"][0]["signal"]["value"]
        return value

    assert signal() == 1.0
    assert client.put("/v1/taxonomy", json={"types": {"copy": "strong_positive"}},
                      headers=admin.headers).status_code == 200
    assert signal() == 2.0


def test_an_erased_user_leaves_the_rollups_at_the_next_refresh(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    writer = make_tenant("acme")
    admin = make_tenant("acme", scopes=("admin",))
    gens = [generation(f"g{i}", user_id=f"u{i % 3}") for i in range(9)]
    post(client, writer, gens, [event(i, "accept", generation=f"g{i}", user_id=f"u{i % 3}")
                                for i in range(9)])
    refresh(app, writer)
    resp = client.delete("/v1/users/u0", headers=admin.headers)
    assert resp.status_code in (200, 202), resp.get_data(as_text=True)
    refresh(app, writer)
    group = client.get("/v1/analytics/feedback", headers=writer.headers).get_json()["groups"][0]
    assert group["generations"] == 6 and group["users"] == 2
    assert group["events"] == {"accept": 6}


def test_incremental_refreshes_equal_a_rebuild(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    rng = random.Random(7)
    types = ["accept", "copy", "ignore", "regenerate", "abandon", "thumbs_up", "thumbs_down",
             "flag"]
    for step in range(4):
        gens = [generation(f"s{step}-{i}", model={"name": "m", "version": rng.choice("ab")},
                           user_id=f"u{rng.randrange(20)}",
                           created_at=(TODAY - timedelta(days=rng.randrange(5))).isoformat())
                for i in range(30)]
        known = [g["id"] for g in gens] + [f"s{s}-{i}" for s in range(step) for i in range(30)]
        evs = [event(f"{step}-{j}", rng.choice(types), generation=rng.choice(known))
               for j in range(60)]
        evs += [event(f"{step}-r{j}", "rating", generation=rng.choice(known),
                      rating=rng.randint(1, 5)) for j in range(10)]
        # some events come before their generation
        post(client, tenant, gens[:20], evs)
        post(client, tenant, gens[20:], [])
        refresh(app, tenant)

    def snapshot() -> Any:
        return client.get("/v1/analytics/feedback?group_by=model_version&interval=day",
                          headers=tenant.headers).get_json()["groups"]

    incremental = snapshot()
    with app.extensions["winnow"].db.session() as session:
        rollups.rebuild(session, tenant.project_id)
    assert snapshot() == incremental
    assert sum(g["generations"] for g in incremental) == 120
    assert sum(sum(g["events"].values()) for g in incremental) == 280


@pytest.mark.parametrize(("query", "field"), [
    ("group_by=colour", "group_by"),
    ("group_by=model,colour", "group_by"),
    ("interval=month", "interval"),
    ("since=2026-13-01", "since"),
    ("since=yesterday", "since"),
    ("since=2026-11-10&until=2026-11-10", "until"),
    ("since=2020-01-01&until=2026-01-01", "since"),
    ("format=xml", "format"),
    ("unknown=1", "unknown"),
    ("where=feature", "where"),
    ("where=colour:red", "where"),
    ("where=feature:%07", "where"),
])
def test_bad_feedback_queries_are_problems(
    client: FlaskClient, tenant: Tenant, query: str, field: str
) -> None:
    body = is_problem(client.get(f"/v1/analytics/feedback?{query}", headers=tenant.headers), 400)
    assert field in [e["field"].partition("[")[0] for e in body["errors"]], body


@pytest.mark.parametrize(("query", "field"), [
    ("a=model_version:v1", "b"),
    ("a=model_version&b=model_version:v2", "a"),
    ("a=colour:red&b=model_version:v2", "a"),
    ("a=model_version:v1&b=model_version:v2&since=9d&until=2020-01-01", "until"),
])
def test_bad_compare_queries_are_problems(
    client: FlaskClient, tenant: Tenant, query: str, field: str
) -> None:
    body = is_problem(client.get(f"/v1/analytics/compare?{query}", headers=tenant.headers), 400)
    assert field in [e["field"] for e in body["errors"]], body


def test_analytics_need_the_events_read_scope(
    client: FlaskClient, make_tenant: MakeTenant
) -> None:
    writer = make_tenant("acme", scopes=("events:write",))
    is_problem(client.get("/v1/analytics/feedback", headers=writer.headers), 403)
    is_problem(client.get("/v1/analytics/compare?a=model:x&b=model:y", headers=writer.headers),
               403)


def test_the_workers_chore_refreshes_every_project(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    from workers.periodic import chores, refresh_rollups

    one, two = make_tenant("one"), make_tenant("two")
    post(client, one, [generation("g1")], [event(1, "accept", generation="g1")])
    post(client, two, [generation("g2", created_at=(TODAY - timedelta(days=3)).isoformat())],
         [event(2, "ignore", generation="g2")])
    assert "rollups" in [c.chore for c in chores(app.extensions["winnow"].settings)]
    assert refresh_rollups() == 2  # one day in each project
    assert refresh_rollups() == 2  # rows of the last minutes are read again (late commits)
    for tenant, kind in ((one, "accept"), (two, "ignore")):
        body = client.get("/v1/analytics/feedback", headers=tenant.headers).get_json()
        assert [g["events"] for g in body["groups"]] == [{kind: 1}]


def test_a_generation_on_the_last_day_of_the_calendar_is_rolled_up(
    app: Flask, client: FlaskClient, tenant: Tenant
) -> None:
    post(client, tenant, [generation("far", created_at="9999-12-31T12:00:00Z")],
         [event(1, "accept", generation="far")])
    assert refresh(app, tenant).days == 1
    body = client.get("/v1/analytics/feedback?since=9999-12-31&until=9999-12-31",
                      headers=tenant.headers)
    assert body.status_code == 400  # until is exclusive: an empty window
    resp = client.get("/v1/samples?date=9999-12-31", headers={**tenant.headers})
    assert resp.status_code in (200, 403)  # no 500 at the calendar's end


def test_a_day_marked_again_during_a_refresh_stays_dirty(
    app: Flask, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second process marking the day while this refresh recomputes it cannot be staged
    between two statements of one refresh for real: the mark is made from inside the
    recompute (a stand-in for that process)."""
    day = TODAY.date()
    with app.extensions["winnow"].db.session() as session:
        rollups.refresh(session, tenant.project_id)
        rollups.mark_days(session, tenant.project_id, [day])
        rollups.mark_days(session, tenant.project_id, [day])  # twice: an upsert, no collision
    real = rollups.recompute_day

    def recompute_and_mark_meanwhile(session: Any, project_id: int, d: Any) -> int:
        written = real(session, project_id, d)
        rollups.mark_days(session, project_id, [d])
        return written

    monkeypatch.setattr(rollups, "recompute_day", recompute_and_mark_meanwhile)
    with app.extensions["winnow"].db.session() as session:
        assert rollups.refresh(session, tenant.project_id).days == 1
    monkeypatch.setattr(rollups, "recompute_day", real)
    with app.extensions["winnow"].db.session() as session:
        assert rollups.refresh(session, tenant.project_id).days == 1  # still dirty: again
        assert rollups.refresh(session, tenant.project_id).days == 0
