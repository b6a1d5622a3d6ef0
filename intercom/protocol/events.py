"""Events: what the exchange sends without being asked, one typed model per event type.

``EVENTS`` maps every event type to the model of its ``data``, as ``REQUESTS`` does for
requests. The exchange builds each event from these models (``encode_event``), the Python
client decodes each one with them (``decode_event``), and ``intercom protocol schema``
exports them as JSON Schema, so the three cannot drift apart.

Call events name the receiving client's own leg in ``call_id``; ``peer`` is always another
leg (or ``listener:<conn>``, a supervisor listening in).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .enums import CallState, CallType, EndCause, ExtensionStatus, Privilege, SessionState
from .messages import Command, SignalKind, encode
from .records import ClientRecord, ErrorRecord, ExtensionRecord, SessionRecord, UserRecord
from .wire import WireModel

DtmfSource = Literal["signalling", "session"]


def _sender() -> Any:
    """``from`` on the wire (a Python keyword), ``sender`` in Python."""
    return Field(validation_alias="from", serialization_alias="from")


class IncomingCall(WireModel):
    """A call rings this client; ``call_id`` is the client's new leg."""

    ABSENT_WHEN_NONE = frozenset({"click_to_call"})

    call_id: str
    session_id: str
    caller: str
    caller_name: str
    callee: str
    dialed: str
    call_type: CallType
    #: True on the first half of a click-to-call: answering dials ``caller``
    click_to_call: bool | None = None
    #: the caller's leg, with which this leg negotiates media (None in click-to-call)
    peer: str | None
    other_privileges: list[Privilege]


class LegState(WireModel):
    """``call.state``: the public state of this client's leg, and why it ended."""

    ABSENT_WHEN_NONE = frozenset({"other_privileges", "other_leg", "cause", "message"})

    call_id: str
    session_id: str
    state: CallState
    session_state: SessionState
    other_party: str
    other_party_name: str
    #: present once there is another party's leg: its privileges, and the leg itself, the
    #: only peer whose media (RFC 4733, in-band tones) counts as the other party's
    other_privileges: list[Privilege] | None = None
    other_leg: str | None = None
    cause: EndCause | None = None  # on the end
    message: str | None = None  # on the end, when there is something to say


class PeerChange(WireModel):
    """``call.peer``: a callee leg the caller negotiates media with came (``added``, with its
    ``extension``) or went (``removed``)."""

    ABSENT_WHEN_NONE = frozenset({"extension", "added", "removed"})

    call_id: str
    peer: str
    extension: str | None = None
    added: bool | None = None
    removed: bool | None = None


class MediaSignal(WireModel):
    """``call.signal``: an SDP offer or answer (or a bye) from ``peer``."""

    call_id: str
    peer: str
    kind: SignalKind
    sdp: str


class TextMessage(WireModel):
    """``call.message``: text from the other party, shown on the station's screen."""

    call_id: str
    text: str
    sender: str = _sender()


class DtmfDigit(WireModel):
    """``call.dtmf``: one digit, with who really sent it and what that sender may do."""

    call_id: str
    key: str
    #: ``signalling`` from the other party, ``session`` from a supervisor
    source: DtmfSource
    sender: str = _sender()
    privileges: list[Privilege]


class DoorCommand(WireModel):
    """``call.command``: a privileged instruction (``unlock``) from the other party."""

    call_id: str
    command: Command
    target: str  # a relay's name, empty for the first
    sender: str = _sender()
    privileges: list[Privilege]


class ListenerChange(WireModel):
    """``call.listener``: start (``active``) or stop sending media to ``listener:<conn>``."""

    call_id: str
    listener: str  # the listener's extension
    conn: int
    active: bool


class TimeLeft(WireModel):
    """``call.warning`` (the call ends soon) and ``call.extended`` (its end moved)."""

    call_id: str
    seconds_left: float


class StatusChange(WireModel):
    """``extension.status``: an extension went online, offline or busy."""

    id: str
    status: ExtensionStatus


class Removal(WireModel):
    """``extension.removed`` and ``user.removed``: gone from the directory."""

    id: str


class ListenerSignal(WireModel):
    """``session.signal``: a party's media offer to a listener; ``peer`` is the party's leg."""

    session_id: str
    peer: str
    party: str  # the party's extension
    kind: SignalKind
    sdp: str


EVENTS: dict[str, type[WireModel]] = {
    "call.incoming": IncomingCall,
    "call.state": LegState,
    "call.peer": PeerChange,
    "call.signal": MediaSignal,
    "call.message": TextMessage,
    "call.dtmf": DtmfDigit,
    "call.command": DoorCommand,
    "call.listener": ListenerChange,
    "call.warning": TimeLeft,
    "call.extended": TimeLeft,
    "client.state": ClientRecord,
    "extension.info": ExtensionRecord,
    "extension.status": StatusChange,
    "extension.removed": Removal,
    "user.info": UserRecord,
    "user.removed": Removal,
    "session.created": SessionRecord,
    "session.state": SessionRecord,
    "session.closed": SessionRecord,
    "session.signal": ListenerSignal,
    "error": ErrorRecord,
}


def encode_event(kind: str, event: WireModel) -> str:
    """The frame of one event. Refuses a model that is not the one ``EVENTS`` names, so that
    what is sent is what the schema says."""
    if type(event) is not EVENTS.get(kind):
        raise TypeError(f"{kind} carries {EVENTS.get(kind)}, not {type(event).__name__}")
    return encode(kind, event.frame_data())


def decode_event(kind: str, data: Any) -> WireModel | None:
    """The typed ``data`` of an event from the exchange; None for a type this client does
    not know (a newer exchange). Raises ``pydantic.ValidationError`` for malformed data."""
    model = EVENTS.get(kind)
    if model is None:
        return None
    # The model's own validator: what ``model_validate`` calls, without its per-call set-up.
    event: WireModel = model.__pydantic_validator__.validate_python(data)
    return event
