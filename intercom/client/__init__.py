"""The Python face of the Ozeki-style API: OzWebClient, Call, OzCamera, Extension, Helper,
Session, User, and their enums."""

from intercom.protocol.enums import (
    CallState,
    CallType,
    ClientStatus,
    ConnectionState,
    EndCause,
    ExtensionStatus,
    Privilege,
    SessionState,
    WebphoneState,
)

from .call import Call, DtmfEvent, Message
from .camera import OzCamera
from .directory import Extension, User
from .errors import NotConnectedError, OzError
from .helper import Helper
from .session import Session
from .webclient import ConnectionInfo, HistoryResult, OzWebClient, server_url

__all__ = [
    "Call",
    "CallState",
    "CallType",
    "ClientStatus",
    "ConnectionInfo",
    "ConnectionState",
    "DtmfEvent",
    "EndCause",
    "Extension",
    "ExtensionStatus",
    "Helper",
    "HistoryResult",
    "Message",
    "NotConnectedError",
    "OzCamera",
    "OzError",
    "OzWebClient",
    "Privilege",
    "Session",
    "SessionState",
    "User",
    "WebphoneState",
    "server_url",
]
