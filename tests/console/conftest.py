"""Console tests through Flask's test client: a signed-in browser without the browser.

`console_client(scopes)` signs a fresh client in with a new key of project `acme` (the `tenant`
fixture's project), on SQLite and on PostgreSQL like the API tests. `form_token(client, path)`
reads the CSRF token from a page's form, as a browser would submit it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import MakeTenant

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

ConsoleClient = Callable[..., FlaskClient]


def text(answer: Any) -> str:
    """A test client answer's body as text."""
    body: str = answer.get_data(as_text=True)
    return body


def form_token(client: FlaskClient, path: str = "/signin") -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token in the form of {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, token: str, tz: str = "UTC") -> Any:
    answer = client.post("/signin", data={"key": token, "csrf_token": form_token(client),
                                          "tz": tz, "next": "/"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return answer


@pytest.fixture
def console_client(app: Flask, make_tenant: MakeTenant) -> ConsoleClient:
    def make(*scopes: str, tz: str = "UTC") -> FlaskClient:
        tenant = make_tenant(scopes=scopes or ("admin",))
        client = app.test_client()
        sign_in(client, tenant.token, tz)
        client.tenant = tenant  # type: ignore[attr-defined]
        return client

    return make
