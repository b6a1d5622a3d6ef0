"""The connection registry: who is logged in where, who watches, and what they are told.

Two seams, both implemented here in process by ``Registry``:

- ``Registrations``: which connections are logged in as which extension, and which of them
  watch sessions (``monitor``) or the directory and presence (``directory``).
- ``Presence``: what watchers are told about that: a client came or went (``client.state``),
  an extension is online, offline or busy (``extension.status``).

The switch and the server use them one way (nothing here calls back into call control), so a
cluster backend that shares registrations and presence between nodes replaces this module
alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, Protocol

from intercom.protocol.enums import ClientStatus, ExtensionStatus, Privilege
from intercom.protocol.events import StatusChange
from intercom.protocol.records import ClientRecord
from intercom.protocol.wire import WireModel


class Endpoint(Protocol):
    """A logged-in client connection, as call control sees it."""

    conn_id: int
    extension: str
    privileges: frozenset[Privilege]
    properties: dict[str, Any]


#: Where events go: the server encodes each once and sends it to every endpoint named.
Outbox = Callable[[Iterable[Endpoint], str, WireModel], None]

#: Keys of a client's login properties that its presence record sets itself (they used to be
#: overwritten in place; now they come last, as in every other record).
_OWN_KEYS = frozenset({"phoneNumber", "status"})


def presence(ep: Endpoint, online: bool) -> ClientRecord:
    """A client's presence: its login properties (never a password), its extension, whether
    it is online."""
    properties = {
        key: value
        for key, value in ep.properties.items()
        if key.lower() != "password" and key not in _OWN_KEYS
    }
    status = ClientStatus.ONLINE if online else ClientStatus.OFFLINE
    return ClientRecord.model_validate(
        {**properties, "phoneNumber": ep.extension, "status": status}
    )


class Registrations(Protocol):
    def add(self, ep: Endpoint) -> None:
        """Register a logged-in connection, and tell watchers it came."""

    def remove(self, ep: Endpoint) -> bool:
        """Forget a connection and tell watchers it went; False if it was not registered."""

    def is_registered(self, ep: Endpoint) -> bool: ...

    def devices(self, number: str) -> Collection[Endpoint]:
        """The connections logged in as extension ``number``."""

    def is_online(self, number: str) -> bool: ...

    def online_extensions(self) -> Collection[str]: ...

    def everyone(self) -> Iterator[Endpoint]: ...

    @property
    def monitors(self) -> Collection[Endpoint]:
        """Connections that see every session (``monitor`` privilege)."""

    @property
    def watchers(self) -> Collection[Endpoint]:
        """Connections that see the directory and presence (``directory`` privilege)."""


class Presence(Protocol):
    def publish_status(self, number: str, status: ExtensionStatus) -> None:
        """Tell watchers and the extension's own devices, once per change."""

    def to_directory_watchers(self, number: str | None, kind: str, event: WireModel) -> None:
        """A directory event: to watchers, and to the extension's own devices."""


class ConnectionRegistry(Registrations, Presence, Protocol):
    """Both seams, as the switch and the server use them."""


class Registry:
    """``Registrations`` and ``Presence`` for one process."""

    def __init__(self, outbox: Outbox) -> None:
        self._out = outbox
        self._by_extension: dict[str, dict[int, Endpoint]] = {}
        self._monitors: dict[int, Endpoint] = {}
        self._watchers: dict[int, Endpoint] = {}
        self._status: dict[str, ExtensionStatus] = {}

    # ---------------------------------------------------------- registrations

    def add(self, ep: Endpoint) -> None:
        self._by_extension.setdefault(ep.extension, {})[ep.conn_id] = ep
        if Privilege.MONITOR in ep.privileges:
            self._monitors[ep.conn_id] = ep
        if Privilege.DIRECTORY in ep.privileges:
            self._watchers[ep.conn_id] = ep
        others = [w for w in self._watchers.values() if w is not ep]
        self._out(others, "client.state", presence(ep, online=True))

    def remove(self, ep: Endpoint) -> bool:
        conns = self._by_extension.get(ep.extension, {})
        if conns.get(ep.conn_id) is not ep:
            return False
        del conns[ep.conn_id]
        if not conns:
            del self._by_extension[ep.extension]
        self._monitors.pop(ep.conn_id, None)
        self._watchers.pop(ep.conn_id, None)
        self._out(self._watchers.values(), "client.state", presence(ep, online=False))
        return True

    def is_registered(self, ep: Endpoint) -> bool:
        return self._by_extension.get(ep.extension, {}).get(ep.conn_id) is ep

    def devices(self, number: str) -> Collection[Endpoint]:
        conns = self._by_extension.get(number)
        return () if conns is None else conns.values()

    def is_online(self, number: str) -> bool:
        return number in self._by_extension

    def online_extensions(self) -> Collection[str]:
        return self._by_extension.keys()

    def everyone(self) -> Iterator[Endpoint]:
        for conns in self._by_extension.values():
            yield from conns.values()

    @property
    def monitors(self) -> Collection[Endpoint]:
        return self._monitors.values()

    @property
    def watchers(self) -> Collection[Endpoint]:
        return self._watchers.values()

    # ---------------------------------------------------------------- presence

    def publish_status(self, number: str, status: ExtensionStatus) -> None:
        if self._status.get(number, ExtensionStatus.OFFLINE) is status:
            return
        self._status[number] = status
        self.to_directory_watchers(
            number, "extension.status", StatusChange(id=number, status=status)
        )

    def to_directory_watchers(self, number: str | None, kind: str, event: WireModel) -> None:
        audience = dict(self._watchers)
        if number is not None:
            audience.update(self._by_extension.get(number, {}))
        self._out(audience.values(), kind, event)
