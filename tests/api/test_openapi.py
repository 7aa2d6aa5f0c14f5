"""The OpenAPI document is valid 3.1 and covers every route."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_document_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "docs.openapi") or rule.endpoint.startswith("console."):
            continue  # the console's pages are HTML for people, not API operations
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                routed.add((path, method))
    assert routed == documented
    post = doc["paths"]["/v1/events"]["post"]
    assert post["security"] == [{"bearer": []}]
    assert {"401", "403", "413", "422", "429"} <= set(post["responses"])
    assert len(post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 2


# The property-based run over the whole document (no 5xx, every answer as documented) is
# tests/api/test_contract.py::test_property_based_run_keeps_the_document.
