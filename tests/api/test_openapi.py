"""The OpenAPI document is valid 3.1, covers every route, and a property-based run finds no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import MakeTenant


def test_document_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "docs.openapi"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                routed.add((path, method))
    assert routed == documented
    post = doc["paths"]["/v1/events"]["post"]
    assert post["security"] == [{"bearer": []}]
    assert {"401", "403", "413", "422", "429"} <= set(post["responses"])
    assert len(post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 2


@pytest.mark.slow
def test_property_based_run_finds_no_server_error(app: Flask, make_tenant: MakeTenant) -> None:
    """Valid and invalid requests generated from the document, for every operation."""
    headers = make_tenant("fuzz", scopes=("admin",)).headers
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=40,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Case) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid: an operation with no body, query or path parameter.
                assert mode is GenerationMode.NEGATIVE
                assert not (operation.body or operation.query or operation.path_parameters)
