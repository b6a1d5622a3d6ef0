"""The Python client decodes every frame from the exchange with the protocol's models: typed
data reaches the API, and a frame the models refuse changes nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from intercom.client import Call, CallState, CallType, OzError, OzWebClient
from intercom.client.webclient import _Pending
from intercom.protocol.enums import EndCause
from intercom.protocol.errors import ErrorCode


def client_with_call() -> tuple[OzWebClient, Call]:
    client = OzWebClient(media=False)
    call = Call(client, "201", CallType.AUDIO, call_id="me")
    client.calls["me"] = call
    return client, call


def state(**changes: Any) -> dict[str, Any]:
    data = {
        "call_id": "me",
        "session_id": "s1",
        "state": "COMPLETED",
        "session_state": "CALLEEHUNGUP",
        "other_party": "201",
        "other_party_name": "Flat 1",
        "cause": "remote_hung_up",
    }
    return {"type": "call.state", "data": {**data, **changes}}


def test_a_call_state_arrives_typed() -> None:
    client, call = client_with_call()
    client._handle(state())
    assert call.getCallState() is CallState.COMPLETED
    assert call.end_cause is EndCause.REMOTE_HUNG_UP
    assert client.calls == {}  # a final state lets go of the call


def test_a_malformed_event_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    client, call = client_with_call()
    caplog.set_level(logging.WARNING)
    client._handle(state(state="EXPLODED"))
    client._handle(state(session_id=None))
    assert call.getCallState() is None and client.calls == {"me": call}
    assert "malformed call.state" in caplog.text


def test_an_unknown_event_is_ignored() -> None:
    client, call = client_with_call()
    client._handle({"type": "call.from.the.future", "data": {"call_id": "me"}})
    assert call.getCallState() is None


async def test_a_malformed_answer_fails_its_request() -> None:
    client = OzWebClient(media=False)
    errors: list[OzError] = []
    client.onErrorOccured(errors.append)
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    client._pending[7] = _Pending("call.start", future, None)
    client._handle({"type": "result", "id": 7, "data": {"call_id": "c1"}})  # no session_id
    with pytest.raises(OzError) as failed:
        await future
    assert failed.value.code == ErrorCode.PARSE_ERROR
    assert "session_id" in failed.value.message
    assert errors == [failed.value]


async def test_a_well_formed_answer_resolves_its_request() -> None:
    client = OzWebClient(media=False)
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    client._pending[8] = _Pending("call.extend", future, None)
    client._handle({"type": "result", "id": 8, "data": {"seconds_left": 42.5}})
    assert await future == {"seconds_left": 42.5}
