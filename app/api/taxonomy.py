"""GET/PUT /v1/taxonomy: the event types and the signal each maps to in this project."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.request import caller, json_body, respond, transaction, validate
from app.api.spec import operation
from app.feedback import EVENT_TYPES, SignalMap
from app.models import Project
from app.payloads.taxonomy import EventTypeOut, SignalOverridesIn, TaxonomyOut
from app.services.projects import set_signal_overrides, signal_map

bp = Blueprint("taxonomy", __name__)


def _out(project: Project, signals: SignalMap) -> TaxonomyOut:
    return TaxonomyOut(
        event_types=[
            EventTypeOut(name=t.name, kind=t.kind, description=t.description,
                         default_signal=t.signal, signal=signals.types[t.name])
            for t in EVENT_TYPES.values()
        ],
        ratings={str(v): s for v, s in sorted(signals.ratings.items())},
        overrides=project.signal_map,
    )


@operation(
    bp, "/taxonomy", "GET",
    summary="Event types and their signals in this project",
    scope="events:read",
    responses={200: ("The taxonomy", TaxonomyOut)},
)
def get_taxonomy() -> Response:
    with transaction() as session:
        project = session.get_one(Project, caller().project_id)
        out = _out(project, signal_map(project))
    return respond(out)


@operation(
    bp, "/taxonomy", "PUT",
    summary="Replace this project's signal overrides",
    scope="admin",
    body=[SignalOverridesIn],
    responses={200: ("The taxonomy with the new overrides", TaxonomyOut)},
    problems=[400, 413, 415, 422],
    description="For example `{\"types\": {\"copy\": \"strong_positive\"}}`. Signals are "
    "derived when events are read, so the new map applies to past events too.",
)
def put_taxonomy() -> Response:
    overrides = validate(SignalOverridesIn, json_body())
    with transaction() as session:
        project = session.get_one(Project, caller().project_id)
        out = _out(project, set_signal_overrides(project, overrides))
    return respond(out)
