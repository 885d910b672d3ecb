"""Opaque pagination cursors: round trip, and a clear 400 naming `cursor` when tampered with."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.platform.errors import BadRequest
from shared.workflow.queries import decode_cursor, encode_cursor


@pytest.mark.parametrize("offset", [0, 1, 49, 50, 120, 10**9])
def test_round_trip(offset: int) -> None:
    assert decode_cursor(encode_cursor(offset)) == offset


@settings(database=None)
@given(st.integers(min_value=0, max_value=2**62))
def test_round_trip_any_offset(offset: int) -> None:
    cursor = encode_cursor(offset)
    assert "=" not in cursor
    assert cursor.isascii()
    assert decode_cursor(cursor) == offset


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor: str | None) -> None:
    assert decode_cursor(cursor) == 0


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "%%%",
        "o",
        _b64(b"o:-1"),
        _b64(b"o:abc"),
        _b64(b"x:10"),
        _b64(b"10"),
        _b64(b"o:"),
        _b64(b"\xff\xfe\xfd"),
        encode_cursor(5) + "A",
    ],
)
def test_bad_cursor_is_a_bad_request_naming_cursor(cursor: str) -> None:
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor)
    assert refused.value.details == {"field": "cursor"}
    assert "cursor" in refused.value.message
    assert refused.value.status_code == 400
    assert refused.value.to_dict()["type"] == "bad_request"


@settings(database=None)
@given(st.text(min_size=1, max_size=60))
def test_any_text_decodes_to_an_offset_or_a_bad_request(cursor: str) -> None:
    try:
        offset = decode_cursor(cursor)
    except BadRequest as refused:
        details = refused.details
    else:
        assert offset >= 0
        return
    assert details == {"field": "cursor"}
