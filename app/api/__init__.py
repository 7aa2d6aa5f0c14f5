"""The HTTP API: blueprints under /v1, one auth hook, problem+json errors, the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import version

from flask import Blueprint, Flask, Response, current_app
from werkzeug.routing import BaseConverter

from app.api import (
    analytics,
    annotation,
    conversations,
    datasets,
    events,
    generations,
    health,
    hooks,
    items,
    samples,
    taxonomy,
    users,
)
from app.api.request import respond
from app.api.spec import PATH_SEGMENT_REGEX, build_openapi

docs = Blueprint("docs", __name__)


@docs.get("/v1/openapi.json")
def openapi() -> Response:
    document = current_app.extensions.get("winnow.openapi")
    if document is None:
        document = build_openapi(current_app, "Winnow API", version("winnow"))
        current_app.extensions["winnow.openapi"] = document
    return respond(document)


class PathSegment(BaseConverter):
    """Path parameters without control characters (a 404 otherwise; see spec.PATH_SEGMENT)."""

    regex = PATH_SEGMENT_REGEX


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["default"] = PathSegment
    for module in (events, generations, conversations, items, taxonomy, hooks, annotation,
                   datasets, users, analytics, samples):
        app.register_blueprint(module.bp, url_prefix="/v1")
    app.register_blueprint(health.bp)
    app.register_blueprint(docs)
