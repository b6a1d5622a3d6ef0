"""Records that travel both in events and in the login snapshot: a session, an extension or
outside line, a user, a logged-in client, an error.

The field names are the Ozeki API's (camelCase), which the browser library hands to pages
unchanged; the call events (``intercom.protocol.events``) use the protocol's own snake_case.
"""

from __future__ import annotations

from pydantic import ConfigDict

from .enums import CallState, CallType, ClientStatus, ExtensionStatus, SessionState
from .wire import WireModel


class SessionRecord(WireModel):
    """The exchange's record of one call, as supervisors see it (``session.*`` events)."""

    sessionId: str
    masterSessionId: str | None  # the session a blind transfer came from
    sessionState: SessionState
    callState: CallState  # the public state the session's legs are in
    caller: str
    callee: str
    callerDisplayName: str
    calleeDisplayName: str
    callerCallLegId: str | None
    calleeCallLegId: str | None
    source: str
    sourceType: str
    destination: str
    destinationType: str  # extension, user, ringgroup or outsideline
    dialedNumber: str
    direction: str  # Internal or Outbound
    callType: CallType
    startTime: str  # ISO 8601, UTC
    startedAt: float  # Unix time
    answeredAt: float | None
    stateSince: float
    talkDuration: str  # HH:MM:SS
    ringDuration: str
    stateDuration: str
    listeners: list[str]  # the extensions listening in


class ExtensionRecord(WireModel):
    """An extension, or an outside line (``isOutsideLine``), of the directory."""

    id: str
    phoneNumber: str
    type: str
    displayName: str
    userId: str | None
    isOutsideLine: bool
    status: ExtensionStatus


class UserRecord(WireModel):
    id: str
    userName: str
    fullName: str
    emailAddress: str
    phoneNumber: str
    mobileNumber: str
    extensions: list[str]


class ClientRecord(WireModel):
    """A logged-in client: the properties it logged in with (never a password), then its
    extension and whether it is online. On the wire the properties come first."""

    model_config = ConfigDict(extra="allow")

    phoneNumber: str
    status: ClientStatus


class ErrorRecord(WireModel):
    """A refused request (``error`` with the request's ``id``) or an error event (no ``id``).
    ``code`` reuses the Ozeki HTTP API's status codes; ``name`` is the code's name."""

    code: int
    name: str
    message: str
