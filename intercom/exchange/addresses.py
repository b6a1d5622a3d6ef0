"""The names and addresses this machine is reached by: the exchange's own web origins (and,
with them, the names its certificate should carry)."""

from __future__ import annotations

import ipaddress
import itertools
import socket
from pathlib import Path


def host_names() -> list[str]:
    """``localhost``, loopback, the host's name and, for a bare name, ``<name>.local``."""
    host = socket.gethostname()
    names = ["localhost", "127.0.0.1", "::1", host]
    if "." not in host:
        names.append(f"{host}.local")
    return names


def local_addresses(proc: Path = Path("/proc/net")) -> list[str]:
    """Every unicast address of this machine's interfaces (Linux: read from /proc, so that
    nothing needs a helper program or a privilege). Link-local IPv6 addresses are left out:
    a browser cannot name them in a URL without a zone."""
    found: list[str] = []
    try:
        lines = (proc / "fib_trie").read_text().splitlines()
    except OSError:
        lines = []
    # An address line ("|-- 192.0.2.2") is followed by "/32 host LOCAL" for our own ones.
    for previous, line in itertools.pairwise(lines):
        if line.strip().startswith("/32 host LOCAL") and "|--" in previous:
            found.append(previous.split("|--")[1].strip())
    try:
        rows = (proc / "if_inet6").read_text().splitlines()
    except OSError:
        rows = []
    for row in rows:
        raw = row.split()[0] if row.split() else ""
        if len(raw) != 32:
            continue
        address = ipaddress.IPv6Address(int(raw, 16))
        if not address.is_link_local:
            found.append(str(address))
    return list(dict.fromkeys(found))


def url_host(name: str) -> str:
    """A name or address as it stands in a URL (IPv6 in brackets)."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name.lower()
    return f"[{address}]" if address.version == 6 else str(address)


def dial_host(listen_host: str) -> str:
    """The host a client on this machine dials to reach a server listening on ``listen_host``,
    as it stands in a URL: that very address when it is a specific one (a server bound to
    192.0.2.7 alone refuses 127.0.0.1), loopback of the same family for a wildcard."""
    if listen_host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if listen_host == "::":
        return "[::1]"
    return url_host(listen_host)
