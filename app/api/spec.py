"""Operations declared once, next to their handlers, and the OpenAPI 3.1 document built from them.

`operation(...)` registers a Flask route together with what the document needs (scope, body,
query and response models); the auth hook reads the scope from the same record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from apispec import APISpec
from flask import Blueprint, Flask
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from app.payloads.problem import ProblemOut

F = TypeVar("F", bound=Callable[..., Any])
Method = Literal["GET", "POST", "PUT", "DELETE"]
REF = "#/components/schemas/{model}"

PROBLEM_STATUSES = {
    400: "Malformed request (bad JSON, bad query parameter)",
    401: "Missing, invalid or revoked API key",
    403: "The key lacks the scope this operation needs",
    404: "No such resource in this key's project",
    409: "The id is taken by a different body, or the resource's state does not allow this",
    412: "A precondition (If-Match, If-Unmodified-Since) does not hold; nothing is sent",
    413: "Body or batch too large",
    415: "Body is not application/json",
    416: "The Range cannot be satisfied; Content-Range gives the file's length",
    422: "A field failed validation; `errors` names each one",
    429: "Rate limit exceeded, or too many failed authentications from this address; see "
    "Retry-After",
    503: "Unavailable: the database or a service the operation needs cannot be reached, or a "
    "setting is missing (e.g. WINNOW_ENCRYPTION_KEY). Nothing was done unless `stored` is null "
    "(the connection was lost while committing); retry after Retry-After",
}


@dataclass(frozen=True)
class Operation:
    method: Method
    summary: str
    tag: str
    scope: str | None
    body: Sequence[Any] = ()
    query: type[BaseModel] | None = None
    responses: dict[int, tuple[str, Any]] = field(default_factory=dict)
    problems: tuple[int, ...] = ()
    description: str | None = None
    csv: bool = False  # the 200 answer also comes as text/csv (`format=csv`)


OPERATIONS: dict[str, Operation] = {}


def operation(
    bp: Blueprint,
    rule: str,
    method: Method,
    *,
    summary: str,
    scope: str | None,
    responses: dict[int, tuple[str, Any]],
    body: Sequence[Any] = (),
    query: type[BaseModel] | None = None,
    problems: Sequence[int] = (),
    description: str | None = None,
    csv: bool = False,
) -> Callable[[F], F]:
    def register(view: F) -> F:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        # Every keyed operation reads the database (503 when it is unreachable); a path with
        # parameters can always name nothing (404).
        auth_problems = (401, 403, 429, 503) if scope else ()
        path_problems = (404,) if "<" in rule else ()
        OPERATIONS[f"{bp.name}.{view.__name__}"] = Operation(
            method=method,
            summary=summary,
            tag=bp.name,
            scope=scope,
            body=tuple(body),
            query=query,
            responses=responses,
            problems=tuple(sorted({*problems, *auth_problems, *path_problems})),
            description=description,
            csv=csv,
        )
        return view

    return register


_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
# What a path parameter matches (app.api.PathSegment): no id holds a control character, and
# PostgreSQL refuses NUL in text. Anything else is a 404 before any query runs.
PATH_SEGMENT_REGEX = r"[^/\x00-\x1f\x7f]+"
PATH_SEGMENT = {"type": "string", "pattern": f"^{PATH_SEGMENT_REGEX}$"}


class _Schemas:
    """Collects pydantic schemas with consistent names into components/schemas."""

    def __init__(self) -> None:
        self.inputs: list[tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = []

    def add(self, tp: Any, mode: JsonSchemaMode) -> tuple[Any, JsonSchemaMode]:
        key = (id(tp), mode)
        if not any(k == key for k, _, _ in self.inputs):
            self.inputs.append((key, mode, TypeAdapter(tp)))
        return key, mode

    def build(self) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
        mapping, defs = TypeAdapter.json_schemas(self.inputs, ref_template=REF)
        return {k[0]: v for k, v in mapping.items()}, defs.get("$defs", {})


def build_openapi(app: Flask, title: str, version: str) -> dict[str, Any]:
    spec = APISpec(title=title, version=version, openapi_version="3.1.0", info={
        "description": "Capture feedback on LLM output and curate it into datasets.",
    })
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "A Winnow API key."}
    )
    schemas = _Schemas()
    problem_key = schemas.add(ProblemOut, "serialization")
    planned = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        bodies = [schemas.add(b, "validation") for b in op.body]
        outs = {s: (d, schemas.add(m, "serialization") if m is not None else None)
                for s, (d, m) in op.responses.items()}
        planned.append((rule, op, bodies, outs))
    mapping, defs = schemas.build()
    for name, schema in sorted(defs.items()):
        spec.components.schema(name, schema)

    for rule, op, bodies, outs in planned:
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        doc: dict[str, Any] = {
            "operationId": rule.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": [op.tag],
            "responses": {},
        }
        if op.description:
            doc["description"] = op.description
        if op.scope:
            doc["security"] = [{"bearer": []}]
            doc["description"] = (doc.get("description", "") + f"\n\nScope: `{op.scope}`.").strip()
        params = [{"name": a, "in": "path", "required": True, "schema": dict(PATH_SEGMENT)}
                  for a in rule.arguments]
        if op.query is not None:
            params += _query_parameters(op.query)
        if params:
            doc["parameters"] = params
        if bodies:
            body_schemas = [mapping[k[0]] for k in bodies]
            schema = body_schemas[0] if len(body_schemas) == 1 else {"oneOf": body_schemas}
            doc["requestBody"] = {"required": True,
                                  "content": {"application/json": {"schema": schema}}}
        for status, (description, key) in sorted(outs.items()):
            response: dict[str, Any] = {"description": description}
            if key is not None:
                response["content"] = {"application/json": {"schema": mapping[key[0]]}}
                if op.csv and status == 200:
                    response["content"]["text/csv"] = {"schema": {"type": "string"}}
            doc["responses"][str(status)] = response
        for status in op.problems:
            doc["responses"][str(status)] = {
                "description": PROBLEM_STATUSES[status],
                "content": {"application/problem+json": {"schema": mapping[problem_key[0]]}},
            }
        spec.path(path=path, operations={op.method.lower(): doc})
    return spec.to_dict()


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                 "schema": prop}
        if prop.get("type") == "array" or any(p.get("type") == "array"
                                              for p in prop.get("anyOf", [])):
            param["style"] = "form"
            param["explode"] = True
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params
