"""Wire messages: one JSON object per WebSocket text frame.

Every frame is ``{"v": 1, "type": str, "id": int | null, "data": object}``. A request carries an
``id``; the exchange answers it with ``result`` or ``error`` bearing the same ``id``. Events carry
no ``id``. Requests are validated here, at the edge, so the exchange only sees well-formed data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .enums import CallType, Party, Privilege
from .errors import ErrorCode, ProtocolError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
MAX_TEXT_MESSAGE_CHARS = 1000
MAX_SDP_CHARS = 32 * 1024
MAX_PROPERTIES_BYTES = 4096
MAX_REQUEST_ID = 2**53 - 1
#: Objects and arrays nested deeper than this are refused before validation: nothing in the
#: protocol needs more than ``{"data": {"properties": {...}}}`` and a little room, and deep
#: nesting is what makes encoders and validators recurse until they fail.
MAX_NESTING = 8

Number = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z*#+._@-]+$")
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DtmfKey = Annotated[str, StringConstraints(pattern=r"^[0-9*#A-Da-d]$")]
DtmfDigits = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9*#A-D]+$")
]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_MESSAGE_CHARS)]
PropertyName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SignalKind = Literal["offer", "answer", "candidate", "bye"]
Command = Literal["unlock"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Login(Payload):
    token: Annotated[str, StringConstraints(max_length=256)] | None = None
    extension: Number | None = None
    password: Annotated[str, StringConstraints(max_length=256)] | None = None
    #: What the client says about itself (a nickname, an app), shown to directory watchers:
    #: flat, names to plain values, so that nothing nests in what others are sent.
    properties: dict[PropertyName, str | int | float | bool | None] = Field(default_factory=dict)


class CallStart(Payload):
    number: Number
    call_type: CallType = CallType.AUDIO
    #: a shorter limit than the exchange's for this call (a door station's 120 s)
    max_duration: Annotated[float, Field(gt=0, le=86400)] | None = None
    #: a shorter ring timeout than the exchange's for this call
    ring_timeout: Annotated[float, Field(gt=0, le=600)] | None = None


class CallRef(Payload):
    call_id: Identifier


class CallTarget(Payload):
    call_id: Identifier
    target: Number


class CallMessage(Payload):
    call_id: Identifier
    text: Text


class CallDtmf(Payload):
    call_id: Identifier
    digits: DtmfDigits


class CallCommand(Payload):
    """A privileged instruction to the other party of a call, e.g. ``unlock`` to a station."""

    call_id: Identifier
    command: Command
    target: Annotated[str, StringConstraints(max_length=32)] = ""


class CallExtend(Payload):
    call_id: Identifier
    seconds: Annotated[int, Field(ge=1, le=3600)]


class CallSignal(Payload):
    """An opaque media-negotiation payload (SDP offer/answer) relayed to the other leg."""

    call_id: Identifier
    kind: SignalKind
    sdp: Annotated[str, StringConstraints(max_length=MAX_SDP_CHARS)] = ""
    peer: Identifier | None = None


class SetupCall(Payload):
    caller: Number
    callee: Number


class HistoryQuery(Payload):
    extension: Number | None = None
    page_number: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    rows_per_page: Annotated[int, Field(ge=1, le=1000)] = 20
    start_from: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, alias="from"
    )
    until: Annotated[str, StringConstraints(max_length=32)] | None = None
    general: Annotated[str, StringConstraints(max_length=64)] | None = None
    direction: Annotated[str, StringConstraints(max_length=16)] | None = None
    source: Number | None = None
    destination: Number | None = None
    state: Annotated[str, StringConstraints(max_length=32)] | None = None
    dialed: Number | None = None
    caller_id: Number | None = None
    call_id: Identifier | None = None
    type: Annotated[str, StringConstraints(max_length=16)] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WebphoneStateQuery(Payload):
    webphone_id: Number


class SessionRef(Payload):
    session_id: Identifier


class SessionTarget(Payload):
    session_id: Identifier
    target: Number


class SessionTransfer(Payload):
    session_id: Identifier
    transferor: Number
    target: Number


class SessionDtmf(Payload):
    session_id: Identifier
    key: DtmfKey
    party: Number


class SessionSignal(Payload):
    """A listener's media negotiation with one party (``peer``: that party's leg)."""

    session_id: Identifier
    peer: Identifier
    kind: SignalKind
    sdp: Annotated[str, StringConstraints(max_length=MAX_SDP_CHARS)] = ""


class Empty(Payload):
    pass


REQUESTS: dict[str, type[Payload]] = {
    "login": Login,
    "logout": Empty,
    "call.start": CallStart,
    "call.accept": CallRef,
    "call.reject": CallRef,
    "call.hangup": CallRef,
    "call.hold": CallRef,
    "call.unhold": CallRef,
    "call.forward": CallTarget,
    "call.transfer": CallTarget,
    "call.message": CallMessage,
    "call.dtmf": CallDtmf,
    "call.extend": CallExtend,
    "call.command": CallCommand,
    "call.signal": CallSignal,
    "setup_call": SetupCall,
    "history.query": HistoryQuery,
    "webphone.state": WebphoneStateQuery,
    "session.blind_transfer": SessionTransfer,
    "session.close": SessionRef,
    "session.close_with_hangup": SessionRef,
    "session.forward": SessionTarget,
    "session.hangup": SessionRef,
    "session.hold": SessionRef,
    "session.unhold": SessionRef,
    "session.send_dtmf": SessionDtmf,
    "session.start_listen": SessionRef,
    "session.stop_listen": SessionRef,
    "session.signal": SessionSignal,
}

# Requests an unauthenticated connection may send.
PRE_LOGIN_REQUESTS = frozenset({"login", "webphone.state"})

_CALL = frozenset({Privilege.CALL})
_MODIFY = frozenset({Privilege.MODIFY})
_LISTEN = frozenset({Privilege.MONITOR, Privilege.MODIFY})

#: The privileges each request needs, checked before its handler runs (handlers check what
#: depends on the call: whose leg it is, its state). Every request type has an entry: the
#: security tests fail for one that has none.
REQUEST_PRIVILEGES: dict[str, frozenset[Privilege]] = {
    "login": frozenset(),
    "logout": frozenset(),
    "webphone.state": frozenset(),
    "history.query": frozenset(),  # one's own calls; others' need HISTORY (checked inside)
    "call.start": _CALL,
    "call.accept": _CALL,
    "call.reject": _CALL,
    "call.hangup": _CALL,
    "call.hold": _CALL,
    "call.unhold": _CALL,
    "call.forward": _CALL,
    "call.transfer": _CALL,
    "call.message": _CALL,
    "call.dtmf": _CALL,
    "call.extend": _CALL,
    "call.command": frozenset({Privilege.CALL, Privilege.DOOR}),
    "call.signal": _CALL,
    "setup_call": _CALL,  # for another extension also MODIFY (checked inside)
    "session.blind_transfer": _MODIFY,
    "session.close": _MODIFY,
    "session.close_with_hangup": _MODIFY,
    "session.forward": _MODIFY,
    "session.hangup": _MODIFY,
    "session.hold": _MODIFY,
    "session.unhold": _MODIFY,
    "session.send_dtmf": _MODIFY,
    "session.start_listen": _LISTEN,
    "session.stop_listen": _LISTEN,
    "session.signal": _LISTEN,
}


@dataclass(frozen=True, slots=True)
class Request:
    type: str
    id: int
    data: Payload


def _error(code: ErrorCode, message: str, request_id: int | None = None) -> ProtocolError:
    return ProtocolError(code, message, request_id)


def nesting_depth(text: str) -> int:
    """How deep objects and arrays nest in a JSON text (at most: a text with few brackets
    returns their number), found without parsing it, so without recursion; brackets inside
    strings are skipped. One pass: each character is read once, whatever the text (an
    unterminated string runs to the end instead of being tried again at every quote)."""
    opened = text.count("[") + text.count("{")
    if opened <= MAX_NESTING:
        return opened  # an upper bound, and the common case: no need to look closer
    depth = deepest = 0
    for token in _STRUCTURE.findall(text):
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


# A JSON string (escapes included, unrolled so that nothing backtracks, and running to the end
# of the text when it is never closed), or one bracket: strings are matched whole so that their
# brackets do not count.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)|[\[\]{}]', re.DOTALL)


_REQUEST_ID = re.compile(rb'"id"\s*:\s*(\d{1,16})\s*[,}]')


def peek_request_id(raw: str | bytes) -> int | None:
    """The ``id`` of a frame that will not be decoded (refused for its rate), found cheaply,
    so that the client's request fails at once instead of waiting for an answer."""
    head = (raw.encode() if isinstance(raw, str) else raw)[:256]
    match = _REQUEST_ID.search(head)
    return int(match.group(1)) if match else None


def decode_request(raw: str | bytes) -> Request:
    """Parse and validate one frame from a client. Raises ProtocolError, never anything else.

    Size and nesting are bounded before anything recurses over the frame."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise _error(ErrorCode.MESSAGE_TOO_LARGE, f"message exceeds {MAX_MESSAGE_BYTES} bytes")
    if isinstance(raw, bytes):
        # Decoded once, strictly, and the same text is scanned and parsed: json.loads would
        # guess UTF-16 or UTF-32 from bytes, and the scan would have read another text.
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _error(ErrorCode.PARSE_ERROR, "a frame must be UTF-8 JSON") from None
    if nesting_depth(raw) > MAX_NESTING:
        raise _error(ErrorCode.PARSE_ERROR, f"objects and arrays nest deeper than {MAX_NESTING}")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _error(ErrorCode.PARSE_ERROR, f"not valid JSON: {str(exc)[:80]}") from None
    if not isinstance(frame, dict):
        raise _error(ErrorCode.PARSE_ERROR, "a message must be a JSON object")
    request_id = frame.get("id")
    if (
        not isinstance(request_id, int)
        or isinstance(request_id, bool)
        or not 0 <= request_id <= MAX_REQUEST_ID
    ):
        raise _error(ErrorCode.PARSE_ERROR, "a request needs an integer 'id' >= 0")
    version = frame.get("v", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise _error(
            ErrorCode.INVALID_PARAMETER,
            f"protocol version {version!r} is not supported (this exchange speaks "
            f"{PROTOCOL_VERSION})",
            request_id,
        )
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise _error(ErrorCode.PARSE_ERROR, "a message needs a string 'type'", request_id)
    model = REQUESTS.get(kind)
    if model is None:
        raise _error(
            ErrorCode.NOT_IMPLEMENTED_COMMAND, f"unknown message type {kind[:40]!r}", request_id
        )
    data = frame.get("data", {})
    if not isinstance(data, dict):
        raise _error(ErrorCode.INVALID_PARAMETER, "'data' must be an object", request_id)
    try:
        payload = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "data"
        raise _error(
            ErrorCode.INVALID_PARAMETER,
            f"invalid parameter '{where}' for {kind}: {first['msg']}",
            request_id,
        ) from None
    if isinstance(payload, Login):
        try:
            size = len(json.dumps(payload.properties))
        except (TypeError, ValueError, RecursionError):
            size = MAX_PROPERTIES_BYTES + 1
        if size > MAX_PROPERTIES_BYTES:
            raise _error(
                ErrorCode.INVALID_PARAMETER,
                f"login properties exceed {MAX_PROPERTIES_BYTES} bytes",
                request_id,
            )
    return Request(kind, request_id, payload)


# One encoder for every frame: ``json.dumps`` with these options builds a new one per call,
# which costs as much as encoding a small event.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encode(kind: str, data: Any = None, request_id: int | None = None) -> str:
    frame: dict[str, Any] = {"v": PROTOCOL_VERSION, "type": kind}
    if request_id is not None:
        frame["id"] = request_id
    frame["data"] = {} if data is None else data
    return _ENCODER.encode(frame)


def encode_request(kind: str, data: dict[str, Any], request_id: int) -> str:
    return encode(kind, data, request_id)


def encode_result(request_id: int, data: Any = None) -> str:
    return encode("result", data, request_id)


def encode_error(error: ProtocolError) -> str:
    return encode("error", error.to_data(), error.request_id)


def decode_server_frame(raw: str | bytes) -> dict[str, Any]:
    """Parse a frame from the exchange (client side): trusted shape, but still checked."""
    frame = json.loads(raw)
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ValueError("malformed frame from exchange")
    if not isinstance(frame.get("data", {}), dict | list):
        raise ValueError("malformed frame data from exchange")
    return frame


__all__ = [
    "MAX_MESSAGE_BYTES",
    "PRE_LOGIN_REQUESTS",
    "PROTOCOL_VERSION",
    "REQUESTS",
    "REQUEST_PRIVILEGES",
    "CallType",
    "Party",
    "Request",
    "decode_request",
    "decode_server_frame",
    "encode",
    "encode_error",
    "encode_request",
    "encode_result",
]
