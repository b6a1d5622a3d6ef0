"""``intercom demo``: the embedded default, on one machine, in one command: the appliance
(``intercom.appliance``) with an exchange of its own and a station on simulated hardware.

The demo directory: extension 100 is the door station "Front door", 201 and 202 are the
residents "Flat 1" and "Flat 2", 900 is a concierge with session privileges, and ring group
200 rings 201 and 202 in parallel. Passwords are random per data directory and kept there.
"""

from __future__ import annotations

import secrets
import socket
import sys
from pathlib import Path
from typing import Any

import tomli_w

#: The demo's passwords in plain text, in its data directory (0600), to print at each start.
PASSWORDS_FILE = "passwords.toml"

DEMO_EXTENSIONS = [
    ("100", "station", "Front door", ["call", "door"]),
    ("201", "webphone", "Flat 1", ["call", "door", "history"]),
    ("202", "webphone", "Flat 2", ["call", "door", "history"]),
    ("900", "webphone", "Concierge", ["call", "monitor", "modify", "directory", "history", "door"]),
]


def demo_config(data_dir: Path, port: int, host: str = "127.0.0.1") -> Path:
    """Write the demo's exchange configuration, keeping passwords already made.

    The demo prints each login at every start, so it keeps the passwords themselves, in
    ``passwords.toml`` (0600: its user's alone); the exchange's file holds only their hashes,
    as ``intercom passwd`` writes them."""
    from intercom.atomicfile import write_atomic
    from intercom.exchange.auth import hash_password

    data_dir.mkdir(parents=True, exist_ok=True)
    secrets_file = data_dir / PASSWORDS_FILE
    passwords: dict[str, str] = {}
    if secrets_file.exists():
        import tomllib

        passwords = tomllib.loads(secrets_file.read_text())
    for number, *_ in DEMO_EXTENSIONS:
        passwords.setdefault(number, secrets.token_urlsafe(9))
    # 0600 from the first byte: chmod after a write would leave a moment under the umask.
    write_atomic(secrets_file, tomli_w.dumps(passwords), mode=0o600)
    config: dict[str, Any] = {
        "exchange": {"host": host, "port": port, "data_dir": "."},
        "extensions": [
            {
                "number": number,
                "type": kind,
                "display_name": name,
                "password": hash_password(passwords[number]),
                "privileges": privileges,
            }
            for number, kind, name, privileges in DEMO_EXTENSIONS
        ],
        "users": [
            {"id": "flat1", "full_name": "Flat 1", "extensions": ["201"]},
            {"id": "flat2", "full_name": "Flat 2", "extensions": ["202"]},
            {"id": "concierge", "full_name": "Concierge", "extensions": ["900"]},
        ],
        "ring_groups": [
            {
                "number": "200",
                "name": "All flats",
                "strategy": "parallel",
                "members": ["201", "202"],
            }
        ],
        "outside_lines": [
            {"id": "pstn", "type": "sip", "display_name": "Phone line", "prefix": "0"}
        ],
    }
    path = data_dir / "exchange.toml"
    write_atomic(path, tomli_w.dumps(config), mode=0o600)
    return path


def demo_logins(config_path: Path) -> list[str]:
    """``extension N password P`` for each extension of the demo's exchange file, from the
    passwords kept beside it (the file itself holds hashes)."""
    import tomllib

    raw = tomllib.loads(config_path.read_text())
    passwords = tomllib.loads((config_path.parent / PASSWORDS_FILE).read_text())
    return [
        f"extension {e['number']} password {passwords[e['number']]}"
        for e in raw["extensions"]
        if e["number"] in passwords
    ]


def station_config(data_dir: Path, port: int, host: str = "127.0.0.1") -> Path:
    """The demo's door station: simulated pins, synthetic camera, bell 1 -> ring group 200,
    door code 1234#. It dials the exchange listening on ``host`` at an address that exchange
    serves (and its certificate names): ``host`` itself, or loopback for a wildcard."""
    import tomllib

    from intercom.exchange.addresses import dial_host
    from intercom.station.unlock import hash_code

    passwords = tomllib.loads((data_dir / "passwords.toml").read_text())
    config = {
        "station": {
            "name": "Front door", "extension": "100", "password": passwords["100"],
            "exchange": f"{dial_host(host)}:{port}", "simulated": True, "data_dir": "station",
            "camera": "synthetic",
        },
        "bells": [{"id": 1, "pin": 17, "target": "200"}],
        # The code as a hash, as `intercom code set` stores it: never in plain text on disk.
        "relays": [
            {"name": "door", "pin": 27, "pulse": 5.0, "code_hashes": [hash_code("1234")]}
        ],
        "door_contact": {"pin": 5, "relay": "door"},
        "screen": {"greeting": "Welcome - please ring"},
    }  # fmt: skip
    path = data_dir / "station.toml"
    path.write_text(tomli_w.dumps(config))
    path.chmod(0o600)
    return path


async def run_demo(data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
    import asyncio

    from intercom.appliance import running_exchange, serve_appliance, trust_of
    from intercom.station.app import Station
    from intercom.station.config import load_station_config

    path = demo_config(data_dir, port, host)
    async with running_exchange(path) as exchange:
        assert exchange is not None and exchange.certificate is not None
        certificate = exchange.certificate
        station_path = station_config(data_dir, exchange.port, host)
        station = Station(load_station_config(station_path), station_path, trust=trust_of(exchange))
        print(f"intercom demo running: {exchange.web_url}", flush=True)
        for line in demo_logins(path):
            print(line, flush=True)
        print(
            f"Open {exchange.web_url} and log in as 201 (a flat) or 900 (the concierge, at "
            f"{exchange.web_url}concierge). The browser warns once about the demo's own "
            f"certificate, SHA-256 {certificate.fingerprint()} ({certificate.certificate}). "
            + (
                f"From a phone on this network: "
                f"https://{socket.gethostname()}.local:{exchange.port}/. "
                # A specific address is already the one printed above; a wildcard serves
                # the network under the host's name too.
                if host in ("0.0.0.0", "::", "")
                else ""
            )
            + f"Door code 1234#. Press the bell with: intercom bell 1 --data-dir {data_dir}. "
            f"The station's screen is drawn to {data_dir / 'station' / 'screen.png'}. "
            "Ctrl+C stops.",
            file=sys.stderr,
            flush=True,
        )
        await serve_appliance(station, exchange, asyncio.Event())
