"""The contract for what the exchange sends: every event and result has a model, frames are
byte for byte what the browser library has always read, clients decode what the exchange
encodes, and the JSON Schema exported from the models describes all of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from intercom.protocol import messages as m
from intercom.protocol.enums import (
    CallState,
    CallType,
    ClientStatus,
    EndCause,
    ExtensionStatus,
    Privilege,
    SessionState,
)
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import (
    EVENTS,
    DtmfDigit,
    IncomingCall,
    LegState,
    PeerChange,
    TextMessage,
    decode_event,
    encode_event,
)
from intercom.protocol.records import ClientRecord, SessionRecord
from intercom.protocol.results import RESULTS, CallStarted, Done, LoginResult, encode_result_of
from intercom.protocol.schema import protocol_schema
from intercom.protocol.wire import WireModel

#: One example of each event, and the exact frame the exchange sent for it before the models.
FRAMES: list[tuple[str, WireModel, str]] = [
    (
        "call.state",
        LegState(
            call_id="c1",
            session_id="s1",
            state=CallState.RINGING,
            session_state=SessionState.RINGING,
            other_party="201",
            other_party_name="Flat 1",
        ),
        '{"v":1,"type":"call.state","data":{"call_id":"c1","session_id":"s1","state":"RINGING",'
        '"session_state":"RINGING","other_party":"201","other_party_name":"Flat 1"}}',
    ),
    (
        "call.state",
        LegState(
            call_id="c1",
            session_id="s1",
            state=CallState.BUSY,
            session_state=SessionState.NOTANSWERED,
            other_party="201",
            other_party_name="",
            other_privileges=[Privilege.DOOR, Privilege.CALL],
            other_leg="c2",
            cause=EndCause.NO_ANSWER,
            message="no answer within 30 s",
        ),
        '{"v":1,"type":"call.state","data":{"call_id":"c1","session_id":"s1","state":"BUSY",'
        '"session_state":"NOTANSWERED","other_party":"201","other_party_name":"",'
        '"other_privileges":["door","call"],"other_leg":"c2","cause":"no_answer",'
        '"message":"no answer within 30 s"}}',
    ),
    (
        "call.incoming",
        IncomingCall(
            call_id="c2",
            session_id="s1",
            caller="100",
            caller_name="Front door",
            callee="201",
            dialed="200",
            call_type=CallType.VIDEO,
            peer="c1",
            other_privileges=[Privilege.CALL, Privilege.DOOR],
        ),
        '{"v":1,"type":"call.incoming","data":{"call_id":"c2","session_id":"s1","caller":"100",'
        '"caller_name":"Front door","callee":"201","dialed":"200","call_type":"VIDEO",'
        '"peer":"c1","other_privileges":["call","door"]}}',
    ),
    (
        "call.incoming",
        IncomingCall(
            call_id="c2",
            session_id="s1",
            caller="202",
            caller_name="Flat 2",
            callee="201",
            dialed="202",
            call_type=CallType.AUDIO,
            click_to_call=True,
            peer=None,
            other_privileges=[],
        ),
        '{"v":1,"type":"call.incoming","data":{"call_id":"c2","session_id":"s1","caller":"202",'
        '"caller_name":"Flat 2","callee":"201","dialed":"202","call_type":"AUDIO",'
        '"click_to_call":true,"peer":null,"other_privileges":[]}}',
    ),
    (
        "call.peer",
        PeerChange(call_id="c1", peer="c2", extension="201", added=True),
        '{"v":1,"type":"call.peer","data":{"call_id":"c1","peer":"c2","extension":"201",'
        '"added":true}}',
    ),
    (
        "call.peer",
        PeerChange(call_id="c1", peer="c2", removed=True),
        '{"v":1,"type":"call.peer","data":{"call_id":"c1","peer":"c2","removed":true}}',
    ),
    (
        "call.message",
        TextMessage(call_id="c1", text="Danke schön, 🚪", sender="201"),
        '{"v":1,"type":"call.message","data":{"call_id":"c1",'
        '"text":"Danke sch\\u00f6n, \\ud83d\\udeaa","from":"201"}}',
    ),
    (
        "call.dtmf",
        DtmfDigit(
            call_id="c1", key="#", source="session", sender="900", privileges=[Privilege.MODIFY]
        ),
        '{"v":1,"type":"call.dtmf","data":{"call_id":"c1","key":"#","source":"session",'
        '"from":"900","privileges":["modify"]}}',
    ),
    (
        "client.state",
        ClientRecord.model_validate(
            {"userAgent": "door", "phoneNumber": "100", "status": ClientStatus.ONLINE}
        ),
        '{"v":1,"type":"client.state","data":{"userAgent":"door","phoneNumber":"100",'
        '"status":"ONLINE"}}',
    ),
    (
        "error",
        ProtocolError(ErrorCode.CALL_CONNECT_FAILED, "no gateway").record(),
        '{"v":1,"type":"error","data":{"code":402,"name":"CallConnectFailed",'
        '"message":"no gateway"}}',
    ),
]


@pytest.mark.parametrize(("kind", "event", "frame"), FRAMES)
def test_frames_are_byte_for_byte_what_clients_always_read(
    kind: str, event: WireModel, frame: str
) -> None:
    assert encode_event(kind, event) == frame


@pytest.mark.parametrize(("kind", "event", "frame"), FRAMES)
def test_what_the_exchange_encodes_a_client_decodes_to_the_same(
    kind: str, event: WireModel, frame: str
) -> None:
    data = json.loads(frame)["data"]
    decoded = decode_event(kind, data)
    assert decoded == event
    assert decoded is not None and decoded.wire() == data


def test_the_session_record_keeps_its_field_order() -> None:
    assert list(SessionRecord.model_fields) == [
        "sessionId", "masterSessionId", "sessionState", "callState", "caller", "callee",
        "callerDisplayName", "calleeDisplayName", "callerCallLegId", "calleeCallLegId",
        "source", "sourceType", "destination", "destinationType", "dialedNumber", "direction",
        "callType", "startTime", "startedAt", "answeredAt", "stateSince", "talkDuration",
        "ringDuration", "stateDuration", "listeners",
    ]  # fmt: skip


def test_an_event_with_the_wrong_model_is_refused() -> None:
    with pytest.raises(TypeError):
        encode_event("call.incoming", PeerChange(call_id="c", peer="p", removed=True))
    with pytest.raises(TypeError):
        encode_event("no.such.event", PeerChange(call_id="c", peer="p", removed=True))


def test_decoding_ignores_new_fields_and_unknown_types_but_not_bad_data() -> None:
    data = {"call_id": "c1", "text": "hi", "from": "201", "added_later": 1}
    decoded = decode_event("call.message", data)
    assert isinstance(decoded, TextMessage) and decoded.sender == "201"
    assert decode_event("call.from.the.future", {}) is None
    with pytest.raises(ValidationError):
        decode_event("call.state", {"call_id": "c1"})


def test_every_request_has_a_result_model() -> None:
    assert RESULTS.keys() == m.REQUESTS.keys()
    assert RESULTS["call.start"] is CallStarted and RESULTS["login"] is LoginResult
    assert encode_result_of("call.hangup", 7, None) == '{"v":1,"type":"result","id":7,"data":{}}'
    with pytest.raises(TypeError):
        encode_result_of("call.start", 7, Done())


def test_every_type_the_exchange_sends_has_a_model() -> None:
    # The event types docs/PROTOCOL.md lists, and the browser library handles.
    documented = {
        "call.incoming", "call.state", "call.peer", "call.signal", "call.message",
        "call.dtmf", "call.command", "call.listener", "call.warning", "call.extended",
        "client.state", "extension.info", "extension.status", "extension.removed",
        "user.info", "user.removed", "session.created", "session.state", "session.closed",
        "session.signal", "error",
    }  # fmt: skip
    assert set(EVENTS) == documented


def resolve(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].removeprefix("#/$defs/")
    target: dict[str, Any] = schema["$defs"][name]
    return target


def test_the_schema_describes_every_request_event_and_result() -> None:
    schema = protocol_schema()
    json.dumps(schema)  # plain JSON
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["requests"]) == set(m.REQUESTS)
    assert set(schema["events"]) == set(EVENTS)
    assert set(schema["results"]) == set(RESULTS)
    for table in ("requests", "events", "results"):
        for ref in schema[table].values():
            assert resolve(schema, ref)["type"] == "object"
    state = resolve(schema, schema["events"]["call.state"])
    # A field left out while unset is optional and never null; the others are always sent.
    assert "cause" in state["properties"] and "cause" not in state["required"]
    assert "null" not in json.dumps(state["properties"]["message"])
    incoming = resolve(schema, schema["events"]["call.incoming"])
    assert "peer" in incoming["required"]
    assert {"type": "null"} in incoming["properties"]["peer"]["anyOf"]
    assert "from" in resolve(schema, schema["events"]["call.message"])["required"]
    start = resolve(schema, schema["requests"]["call.start"])
    assert start["required"] == ["number"]
    frames = schema["$defs"]["ServerFrame"]["oneOf"]
    kinds = {frame["properties"]["type"]["const"] for frame in frames}
    assert kinds == set(EVENTS) | {"result", "error"}


def test_extension_status_values_are_the_enums() -> None:
    schema = protocol_schema()
    status = schema["$defs"]["ExtensionStatus"]
    assert set(status["enum"]) == {s.value for s in ExtensionStatus}
