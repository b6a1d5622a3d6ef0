"""The command line: tokens, configuration errors, the demo's printed logins, keepalives."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from intercom.client import CallState, ConnectionState, OzWebClient, Privilege
from intercom.exchange.server import Exchange
from tests.conftest import Recorder

pytestmark = pytest.mark.integration


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intercom.cli", *args], capture_output=True, text=True, timeout=60
    )


async def test_token_create_prints_a_working_token(config_path) -> None:  # type: ignore[no-untyped-def]
    path: Path = config_path()
    out = cli(
        "token",
        "create",
        "--config",
        str(path),
        "--extension",
        "900",
        "--privilege",
        "monitor",
        "--privilege",
        "history",
        "--ttl",
        "1h",
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("oz_") and len(token) > 40
    exchange = Exchange.from_file(path)
    await exchange.start()
    try:
        client = OzWebClient()
        assert await client.connect(exchange.url, token) is (
            ConnectionState.ACCESS_GRANTED
        )
        assert client.privileges == {Privilege.MONITOR, Privilege.HISTORY}
        await client.disconnect()
    finally:
        await exchange.stop()
    # Tokens are stored hashed: the secret itself is nowhere in the data directory.
    for file in (path.parent / "data").iterdir():
        assert token.encode() not in file.read_bytes()


def test_token_create_refusals(config_path) -> None:  # type: ignore[no-untyped-def]
    path: Path = config_path()
    out = cli("token", "create", "--config", str(path), "--extension", "555")
    assert out.returncode == 2 and "no extension '555'" in out.stderr
    out = cli("token", "create", "--config", str(path), "--extension", "900", "--privilege", "x")
    assert out.returncode == 2 and "privileges are call, monitor" in out.stderr
    out = cli("token", "create", "--config", str(path), "--extension", "900", "--ttl", "soon")
    assert out.returncode == 2 and "not a duration" in out.stderr


def test_exchange_refuses_a_bad_configuration(tmp_path: Path) -> None:
    bad = tmp_path / "exchange.toml"
    bad.write_text('[exchange]\nport = "seventy"\n')
    out = cli("exchange", "--config", str(bad))
    assert out.returncode == 2
    assert f"{bad}: exchange.port:" in out.stderr


async def test_demo_prints_the_address_and_logins(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom.cli",
        "demo",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(20):
            first = (await proc.stdout.readline()).decode()
            logins = [(await proc.stdout.readline()).decode().split() for _ in range(4)]
        assert first.startswith("intercom demo running: https://127.0.0.1:")
        address = first.split()[-1]
        trust = tmp_path / "demo" / "tls" / "certificate.pem"  # the demo made its own
        assert [line[1] for line in logins] == ["100", "201", "202", "900"]
        assert all(line[0] == "extension" and line[2] == "password" for line in logins)
        assert len({line[3] for line in logins}) == 4  # fresh random passwords
        client = OzWebClient(trust=trust)
        _, number, _, password = logins[3]
        assert await client.connect(address, number, password=password) is (
            ConnectionState.ACCESS_GRANTED
        )
        assert "200" not in client.extensions  # ring groups are numbers, not extensions
        await client.disconnect()
        # The demo's station: the bell rings the flats' group, the code opens the door.
        flat = OzWebClient(media=False, trust=trust)
        incoming = Recorder(flat.onIncomingCall)
        assert await flat.connect(address, "201", password=logins[1][3]) is (
            ConnectionState.ACCESS_GRANTED
        )
        out = cli("bell", "1", "--data-dir", str(tmp_path / "demo"))
        assert out.returncode == 0, out.stderr
        call = await incoming.wait_for(lambda c: True, timeout=10)
        assert call.getOtherParty() == "100" and call.dialed == "200"
        await call.accept()
        await call.send_dtmf("1234#")
        await call.wait_for(CallState.COMPLETED, timeout=15)  # hung up after the unlock
        await flat.disconnect()
        events = cli("events", "--json", "--data-dir", str(tmp_path / "demo"))
        newest_first = [json.loads(line)["kind"] for line in events.stdout.splitlines()]
        kinds = newest_first[::-1]
        assert [k for k in kinds if k in ("bell", "call_answered", "unlock", "call_ended")] == [
            "bell",
            "call_answered",
            "unlock",
            "call_ended",
        ]
    finally:
        proc.terminate()
        await proc.wait()
    # The passwords are kept in the data directory for the next start.
    assert "201" in (tmp_path / "demo" / "passwords.toml").read_text()


async def test_unresponsive_clients_are_dropped_by_keepalive(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(
        config_path(ping_interval=0.2, ping_timeout=0.3, close_timeout=0.3)
    )
    await exchange.start()
    watcher, frozen = OzWebClient(), OzWebClient()
    try:
        address = exchange.url
        await watcher.connect(address, "900", password="secret-900")
        presence = Recorder(watcher.onClientStateChanged)
        await frozen.connect(address, "201", password="secret-201")
        await presence.wait_for(lambda i: i["phoneNumber"] == "201")
        assert frozen._ws is not None
        frozen._ws.transport.pause_reading()  # it stops answering pings
        await presence.wait_for(
            lambda i: i["phoneNumber"] == "201" and i["status"] == "OFFLINE", timeout=5
        )
        frozen._ws.transport.resume_reading()
    finally:
        await watcher.disconnect()
        await frozen.disconnect()
        await exchange.stop()


async def test_station_with_embedded_exchange(tmp_path: Path) -> None:
    import socket

    import tomli_w

    from tests.conftest import directory_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "exchange.toml").write_text(tomli_w.dumps(directory_config(port=port)))
    (tmp_path / "station.toml").write_text(tomli_w.dumps({
        "station": {"extension": "100", "password": "secret-100", "simulated": True,
                    "exchange": f"ws://127.0.0.1:{port}", "camera": "none",
                    "embedded_exchange": "exchange.toml"},
        "bells": [{"id": 1, "pin": 17, "target": "201"}],
    }))  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom.cli", "station", "--config",
        str(tmp_path / "station.toml"), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        client = OzWebClient(media=False)
        async with asyncio.timeout(20):
            while True:  # the station logs in to the exchange it carries
                try:
                    info = await client.checkWebphoneState(f"ws://127.0.0.1:{port}", "100")
                except Exception:
                    info = {}
                if info.get("state") == "ONLINE":
                    break
                await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0
