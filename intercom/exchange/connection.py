"""One WebSocket client as the exchange holds it, how events reach it, and how it is closed.

``Connection`` is the server's ``Endpoint``; ``send_event`` is the outbox the switch and the
registry send their events through (each encoded once, however many receive it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, cast

from websockets.asyncio.server import ServerConnection, broadcast

from intercom.protocol.events import encode_event
from intercom.protocol.wire import WireModel

from .admission import ConnectionCounter, QuietLog
from .auth import Grant
from .registry import Endpoint

CLOSE_AUTH_FAILED = 4001
CLOSE_AUTH_TIMEOUT = 4002
CLOSE_REMOVED = 4003  # the extension, its password or its token is gone: do not come back
CLOSE_PRIVILEGES = 4004  # a privilege was taken away: log in again to get what is left
CLOSE_ABUSE = 4008
CLOSE_LIMIT = 4009  # a connection limit: too many from this address or for this extension
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the exchange is full


class CountedConnection(ServerConnection):
    """A connection counted from the moment it is accepted (for TLS: once its handshake is
    done, which ``open_timeout`` bounds) to the moment it is lost, whatever happens between;
    one over its address's limit is dropped at once, before any handshake.

    The server makes a subclass naming its ``counter`` and ``refusals`` (``counted_by``)."""

    counter: ConnectionCounter
    refusals: QuietLog

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.peer_address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        self.logged_in = False
        refusal = self.counter.open(self.peer_address)
        self.counted = refusal is None
        if refusal is not None:
            self.refusals.warning(
                "connection from %s refused: %s", self.peer_address, refusal
            )
            cast(asyncio.Transport, transport).abort()  # a reset: nothing more is spent on it

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            self.counter.close(self.peer_address, self.logged_in)
        super().connection_lost(exc)

    def mark_logged_in(self) -> None:
        if self.counted and not self.logged_in:
            self.logged_in = True
            self.counter.logged_in(self.peer_address)


def counted_by(counter: ConnectionCounter, refusals: QuietLog) -> type[CountedConnection]:
    """The connection class of one exchange: counted by its counter."""
    return type(
        "ExchangeConnection", (CountedConnection,), {"counter": counter, "refusals": refusals}
    )


class Connection:
    """One WebSocket client. Implements the switch's ``Endpoint``."""

    __slots__ = (
        "address", "closed", "conn_id", "extension", "grant", "privileges", "properties", "ws",
    )  # fmt: skip

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
        #: Closed by the exchange (its login no longer holds): nothing it sends is served.
        self.closed = False

    def send(self, message: str) -> None:
        broadcast((self.ws,), message)


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
