"""Field types shared by the public payloads. Every string refuses NUL and control bytes."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, Field, JsonValue, StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$"

Identifier = Annotated[
    str,
    StringConstraints(pattern=IDENTIFIER_PATTERN),
    Field(description="A client-chosen id: 1-128 of A-Z a-z 0-9 . _ : @ + = -, not starting "
          "with punctuation."),
]

Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
    Field(description="A short printable name (1-128 characters, no control characters)."),
]


ShortLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"),
]


def _text_has_content(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20_000),
    AfterValidator(_text_has_content),
]

MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_KEYS = 64


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _bounded_metadata(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    if len(orjson.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"at most {MAX_METADATA_BYTES} bytes when serialized")
    if _has_nul(value):
        raise ValueError("must not contain NUL characters")
    return value


Metadata = Annotated[
    dict[str, JsonValue],
    AfterValidator(_bounded_metadata),
    Field(description=f"Free JSON object, at most {MAX_METADATA_KEYS} keys and "
          f"{MAX_METADATA_BYTES} bytes."),
]

MAX_INT32 = 2_147_483_647
