"""The decoder: valid requests parse, and no input makes it raise anything but ProtocolError."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercom.protocol import messages as m
from intercom.protocol.errors import ErrorCode, ProtocolError


def frame(kind: str, data: object, request_id: object = 1, **extra: object) -> str:
    return json.dumps({"v": 1, "type": kind, "id": request_id, "data": data, **extra})


def test_valid_call_start_is_typed() -> None:
    request = m.decode_request(frame("call.start", {"number": "201", "call_type": "VIDEO"}))
    assert request.type == "call.start"
    assert request.id == 1
    assert isinstance(request.data, m.CallStart)
    assert request.data.number == "201"
    assert request.data.call_type.value == "VIDEO"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", ErrorCode.PARSE_ERROR),
        ("[1, 2]", ErrorCode.PARSE_ERROR),
        (json.dumps({"type": "login", "data": {}}), ErrorCode.PARSE_ERROR),  # no id
        (json.dumps({"id": True, "type": "login"}), ErrorCode.PARSE_ERROR),
        (frame("no.such.thing", {}), ErrorCode.NOT_IMPLEMENTED_COMMAND),
        (frame("call.start", {"number": ""}), ErrorCode.INVALID_PARAMETER),
        (frame("call.start", {"number": "2 01"}), ErrorCode.INVALID_PARAMETER),
        (frame("call.start", {"number": "201", "extra": 1}), ErrorCode.INVALID_PARAMETER),
        (frame("call.message", {"call_id": "x", "text": "a" * 1001}), ErrorCode.INVALID_PARAMETER),
        (
            frame("session.send_dtmf", {"session_id": "s", "key": "12", "party": "1"}),
            ErrorCode.INVALID_PARAMETER,
        ),
        (frame("call.start", "201"), ErrorCode.INVALID_PARAMETER),
        (json.dumps({"v": 2, "id": 1, "type": "login", "data": {}}), ErrorCode.INVALID_PARAMETER),
        ("x" * (m.MAX_MESSAGE_BYTES + 1), ErrorCode.MESSAGE_TOO_LARGE),
        (frame("login", {"properties": {"blob": "x" * 5000}}), ErrorCode.INVALID_PARAMETER),
    ],
)
def test_bad_frames_get_precise_errors(raw: str, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        m.decode_request(raw)
    assert info.value.code is code
    data = info.value.to_data()
    assert data["code"] == int(code) and data["name"] and data["message"]


def test_error_names_the_parameter_and_keeps_the_request_id() -> None:
    with pytest.raises(ProtocolError) as info:
        m.decode_request(frame("call.forward", {"call_id": "abc"}, request_id=42))
    assert info.value.request_id == 42
    assert "target" in info.value.message


def test_history_accepts_from_alias() -> None:
    request = m.decode_request(frame("history.query", {"from": "2026-01-01", "rows_per_page": 5}))
    assert isinstance(request.data, m.HistoryQuery)
    assert request.data.start_from == "2026-01-01"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_no_bytes_crash_the_decoder(raw: bytes | str) -> None:
    with contextlib.suppress(ProtocolError):
        m.decode_request(raw)


@settings(max_examples=600, deadline=None)
@given(
    kind=st.sampled_from(sorted(m.REQUESTS)) | st.text(max_size=12),
    data=json_values,
    request_id=st.integers(min_value=-5, max_value=2**60) | st.none() | st.text(max_size=3),
)
def test_no_structured_input_crashes_the_decoder(
    kind: str, data: object, request_id: object
) -> None:
    raw = json.dumps({"v": 1, "type": kind, "id": request_id, "data": data})
    try:
        request = m.decode_request(raw)
    except ProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)
    else:
        assert request.type in m.REQUESTS
        assert isinstance(request.data, m.REQUESTS[request.type])
