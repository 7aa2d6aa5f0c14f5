"""Field validators shared by the payloads, checked against their plain definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.payloads.common import MAX_METADATA_BYTES, Metadata, Timestamp

METADATA: TypeAdapter[dict[str, object]] = TypeAdapter(Metadata)
TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_metadata_refuses_nul_exactly_when_present(value: dict[str, object]) -> None:
    # The validator looks for NUL in the serialized JSON; the plain walk is the reference.
    try:
        METADATA.validate_python(value)
        refused = False
    except ValidationError as exc:
        assert "NUL" in str(exc) or "bytes" in str(exc)
        refused = "NUL" in str(exc)
    assert refused == contains_nul(value)


@pytest.mark.parametrize("text", ["\\u0000", "\\\\u0000", "a\\\\\\u0000b", "u0000"])
def test_text_that_only_looks_like_an_escaped_nul_is_accepted(text: str) -> None:
    assert METADATA.validate_python({"code": text}) == {"code": text}


@pytest.mark.parametrize("value", [{"k": "\x00"}, {"\x00": 1}, {"k": [{"x": "\\\x00"}]}])
def test_nul_anywhere_is_refused(value: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="NUL"):
        METADATA.validate_python(value)


def test_metadata_size_bound() -> None:
    with pytest.raises(ValidationError, match="bytes"):
        METADATA.validate_python({"k": "x" * MAX_METADATA_BYTES})


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 30),
        timezones=st.sampled_from(
            [
                UTC,
                timezone(timedelta(hours=-23, minutes=-59)),
                timezone(timedelta(hours=16, minutes=56)),
            ]
        ),
    )
)
def test_timestamps_become_the_same_instant_in_utc(value: datetime) -> None:
    got = TIMESTAMP.validate_python(value)
    assert got.utcoffset() == timedelta(0)
    assert got == value
