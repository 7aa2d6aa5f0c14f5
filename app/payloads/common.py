"""Field types shared by the public payloads. Every string refuses NUL and control bytes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    JsonValue,
    StringConstraints,
)

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


def _in_utc(value: datetime) -> datetime:
    # Stored in UTC: PostgreSQL refuses offsets beyond +-15:59, and an instant near year 1 or
    # 9999 can fall outside the calendar once converted.
    if value.tzinfo is UTC:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


# RFC 3339 `date-time`, as the OpenAPI document says: pydantic alone would also take 0 or
# "1700000000" as Unix time, a space for the T, and a time without seconds.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?"
)


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        naive = value.utcoffset() is None
    elif isinstance(value, str) and (match := _RFC3339.fullmatch(value)):
        naive = match["offset"] is None
    else:
        raise ValueError("must be an RFC 3339 datetime with a timezone, e.g. 2024-08-06T12:00:00Z")
    if naive:
        raise ValueError("needs a time zone (a timezone offset or Z), e.g. 2024-08-06T12:00:00Z")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    AfterValidator(_in_utc),
    Field(description="RFC 3339 date-time with a time zone; stored in UTC."),
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


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _bounded_metadata(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    serialized = orjson.dumps(value)
    if len(serialized) > MAX_METADATA_BYTES:
        raise ValueError(f"at most {MAX_METADATA_BYTES} bytes when serialized")
    # JSON writes NUL, in a key or a value at any depth, only as the escape \u0000 (one that is
    # not itself an escaped backslash followed by the text "u0000").
    if b"\\u0000" in serialized and _NUL_ESCAPE.search(serialized):
        raise ValueError("must not contain NUL characters")
    return value


Metadata = Annotated[
    dict[str, JsonValue],
    AfterValidator(_bounded_metadata),
    Field(description=f"Free JSON object, at most {MAX_METADATA_KEYS} keys and "
          f"{MAX_METADATA_BYTES} bytes."),
]

MAX_INT32 = 2_147_483_647


Screening = Literal["pending", "redacted", "withheld", "failed"]
SCREENING_DESCRIPTION = (
    "Free text and metadata strings are screened for PII by a worker before anyone reads them: "
    "null = nothing to screen; pending = not yet (text and metadata read as null until then); "
    "redacted = shown with typed placeholders such as <EMAIL_ADDRESS_1>; withheld = something "
    "the PII policy rejects was found and that text was dropped; failed = not screened within "
    "the retention limit, the text was purged."
)
