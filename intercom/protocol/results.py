"""Results: the ``data`` of the ``result`` that answers each request type.

``RESULTS`` maps every request type to its result model (most answer ``{}``, ``Done``). A
result carries the request's ``id`` and not its type: the client knows what it asked.
"""

from __future__ import annotations

from typing import Any

from .enums import Privilege, WebphoneState
from .messages import REQUESTS, encode_result
from .records import ClientRecord, ExtensionRecord, SessionRecord, UserRecord
from .wire import WireModel


class Done(WireModel):
    """``{}``: the request was carried out."""


class IceServerRecord(WireModel):
    """One ICE server for the client's peer connections (RTCIceServer's fields)."""

    ABSENT_WHEN_NONE = frozenset({"username", "credential"})

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Limits(WireModel):
    """The exchange's call limits, in seconds."""

    ringTimeout: float
    maxCallDuration: float
    callWarning: float


class ServerInfo(WireModel):
    version: str
    protocol: int


class LoginResult(WireModel):
    """The snapshot a client replicates at login: its directory, presence and sessions,
    each as far as its privileges let it see."""

    extension: str
    displayName: str
    connId: int  # this connection, as ``call.listener`` and ``listener:<conn>`` name it
    privileges: list[Privilege]
    extensions: list[ExtensionRecord]
    outsideLines: list[ExtensionRecord]
    users: list[UserRecord]
    clients: list[ClientRecord]
    sessions: list[SessionRecord]
    iceServers: list[IceServerRecord]
    limits: Limits
    server: ServerInfo


class CallStarted(WireModel):
    """``call.start``: the caller's own leg and the session; ringing starts after this."""

    call_id: str
    session_id: str


class CallSetUp(WireModel):
    """``setup_call``: the click-to-call's session."""

    session_id: str


class SecondsLeft(WireModel):
    """``call.extend``: the seconds the call has left now."""

    seconds_left: float


class HistoryRecord(WireModel):
    """One call of the history, under the Ozeki HTTP API's field names."""

    CallId: str
    StartTime: str
    Direction: str
    Source: str
    Destination: str
    State: str | None
    Dialed: str
    CallerId: str
    Type: str
    RingDuration: float | None
    TalkDuration: float | None
    EndTime: str | None


class HistoryResult(WireModel):
    """``history.query``: one page of calls, newest first, and how many match in all."""

    numberOfCalls: int
    calls: list[HistoryRecord]


class WebphoneStateResult(WireModel):
    webphoneId: str
    state: WebphoneState


RESULTS: dict[str, type[WireModel]] = {
    **dict.fromkeys(REQUESTS, Done),
    "login": LoginResult,
    "call.start": CallStarted,
    "setup_call": CallSetUp,
    "call.extend": SecondsLeft,
    "history.query": HistoryResult,
    "webphone.state": WebphoneStateResult,
}


def encode_result_of(kind: str, request_id: int, result: WireModel | None) -> str:
    """The ``result`` frame answering request ``kind``; None stands for ``Done``."""
    result = Done() if result is None else result
    if type(result) is not RESULTS[kind]:
        raise TypeError(f"{kind} answers {RESULTS[kind].__name__}, not {type(result).__name__}")
    return encode_result(request_id, result.frame_data())


def decode_result(kind: str, data: Any) -> WireModel:
    """The typed answer to a request of type ``kind`` (client side). Raises
    ``pydantic.ValidationError`` for malformed data."""
    result: WireModel = RESULTS[kind].__pydantic_validator__.validate_python(data)
    return result
