"""One WebSocket client as the exchange holds it, how events reach it, and how it is closed.

``Connection`` is the server's ``Endpoint``; ``send_event`` is the outbox the switch and the
registry send their events through (each encoded once, however many receive it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast

from intercom.protocol.events import encode_event
from intercom.protocol.wire import WireModel

from .auth import Grant
from .registry import Endpoint

CLOSE_AUTH_FAILED = 4001
CLOSE_AUTH_TIMEOUT = 4002
CLOSE_REMOVED = 4003  # the extension, its password or its token is gone: do not come back
CLOSE_PRIVILEGES = 4004  # a privilege was taken away: log in again to get what is left
CLOSE_ABUSE = 4008
CLOSE_LIMIT = 4009  # a connection limit: too many from this address or for this extension
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the exchange is full


class Connection:
    """One WebSocket client. Implements the switch's ``Endpoint``."""

    __slots__ = ("address", "conn_id", "extension", "grant", "privileges", "properties", "ws")

    def __init__(
        self,
        ws: ServerConnection,
        conn_id: int,
        grant: Grant,
        properties: dict[str, Any],
        address: str = "",
    ):
        self.ws = ws
        self.conn_id = conn_id
        self.grant = grant
        self.extension = grant.extension
        self.privileges = grant.privileges
        self.properties = properties
        self.address = address

    def send(self, message: str) -> None:
        broadcast((self.ws,), message)


def send_many(endpoints: Iterable[Endpoint], message: str) -> None:
    broadcast([ep.ws for ep in endpoints if isinstance(ep, Connection)], message)


def send_event(endpoints: Iterable[Endpoint], kind: str, event: WireModel) -> None:
    """The switch's and the registry's outbox: each event encoded once, for everyone named."""
    sockets = [ep.ws for ep in endpoints if isinstance(ep, Connection)]
    if sockets:
        broadcast(sockets, encode_event(kind, event))


def address_of(ws: ServerConnection) -> str:
    """The peer's IP address: the key of per-address limits."""
    try:
        return str(ws.remote_address[0])
    except (TypeError, IndexError):
        return "unknown"
