"""ICE configuration: servers from the exchange, host addresses from the station's settings.

Never aiortc's default public STUN server: offline, gathering waits seconds for it. And never
every interface by default on a station with several: the addresses used for candidates are
configurable, and loopback (which aioice skips) can be chosen, so calls work on a host whose
only interface is 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_original_get_host_addresses = aioice.ice.get_host_addresses
_host_addresses: list[str] | None = None


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _host_addresses is None:
        return _original_get_host_addresses(use_ipv4, use_ipv6)
    return [a for a in _host_addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def use_host_addresses(addresses: Sequence[str] | None) -> None:
    """Offer candidates on these addresses only (``None``: every interface but loopback)."""
    global _host_addresses
    _host_addresses = list(addresses) if addresses is not None else None
    aioice.ice.get_host_addresses = _get_host_addresses


def only_loopback() -> bool:
    """True on a host whose only interface is loopback (a test namespace, a bare container)."""
    return not _original_get_host_addresses(True, True)


def configuration(ice_servers: Sequence[dict[str, Any]]) -> RTCConfiguration:
    servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in ice_servers
    ]
    # An explicit empty list: host candidates only, no public STUN fallback.
    return RTCConfiguration(iceServers=servers)
