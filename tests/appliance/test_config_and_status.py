"""Configuration over SSH (`intercom config`), `intercom status`, and the station as a systemd
notify service: READY, STATUS, watchdog pings, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import PASSWORD, directory_config

pytestmark = pytest.mark.integration

STATION_TOML = """\
# The front door. Comments like this one survive `intercom config set`.
[station]
name = "Front door"
extension = "100"
password = "{password}"
exchange = "127.0.0.1:{port}"
simulated = true
data_dir = "data"
camera = "none"
embedded_exchange = "exchange.toml"

[[bells]]
id = 1
pin = 17
target = "201"

[[relays]]
name = "door"
pin = 27
codes = ["1234"]

[calls]
ring_timeout = 30.0  # seconds
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def station_file(tmp_path: Path) -> Path:
    port = free_port()
    config = directory_config(port=port, data_dir="exchange-data")
    del config["exchange"]["tls"]  # the appliance's default: TLS
    (tmp_path / "exchange.toml").write_text(tomli_w.dumps(config))
    path = tmp_path / "station.toml"
    path.write_text(STATION_TOML.format(password=PASSWORD.format("100"), port=port))
    path.chmod(0o640)
    return path


def intercom(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intercom.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_validate_and_show(station_file: Path) -> None:
    out = intercom("config", "--config", str(station_file), "validate")
    assert out.returncode == 0 and out.stdout == f"ok: {station_file}\n"
    shown = intercom("config", "--config", str(station_file), "show").stdout
    assert 'password = "********"' in shown and "1234" not in shown
    assert "max_call = 120.0" in shown  # defaults are filled in
    secrets = intercom("config", "--config", str(station_file), "show", "--secrets").stdout
    assert '"1234"' in secrets


def test_set_validates_writes_atomically_and_keeps_comments(station_file: Path) -> None:
    before = station_file.read_text()
    out = intercom(
        "config", "--config", str(station_file), "set", "calls.ring_timeout=45",
        "bells[0].target=202", "station.name=Back door", "--no-reload",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    after = station_file.read_text()
    assert "ring_timeout = 45" in after and 'target = "202"' in after
    assert 'name = "Back door"' in after
    assert "# The front door. Comments like this one survive" in after
    assert station_file.stat().st_mode & 0o777 == 0o640
    assert after != before
    assert [p.name for p in station_file.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("calls.ring_timeout=-5", "calls.ring_timeout: Input should be greater than 0"),
        ("calls.ringtimeout=5", "calls.ringtimeout: unknown key"),
        ("bells[3].target=202", "bells[3].target: there is no item [3]"),
        ("relays[0].pin=17", "pin(s) [17] used twice"),
        ("not a key=1", "not a key"),
    ],
)
def test_a_bad_value_is_refused_and_the_file_left_unchanged(
    station_file: Path, assignment: str, reason: str
) -> None:
    before = station_file.read_bytes()
    out = intercom("config", "--config", str(station_file), "set", assignment)
    assert out.returncode == 2
    assert reason in out.stderr and "unchanged" in out.stderr
    assert station_file.read_bytes() == before


def test_edit_saves_only_what_validates(station_file: Path, tmp_path: Path) -> None:
    good = tmp_path / "good-editor"
    good.write_text('#!/bin/sh\nsed -i "s/ring_timeout = 30.0/ring_timeout = 20.0/" "$1"\n')
    bad = tmp_path / "bad-editor"
    bad.write_text('#!/bin/sh\nsed -i "s/ring_timeout = 30.0/ring_timeout = nope/" "$1"\n')
    for script in (good, bad):
        script.chmod(0o755)
    before = station_file.read_bytes()
    out = intercom("config", "--config", str(station_file), "edit", env={"EDITOR": str(bad)})
    assert out.returncode == 2 and "not valid TOML" in out.stderr
    assert station_file.read_bytes() == before
    out = intercom(
        "config", "--config", str(station_file), "edit", "--no-reload", env={"EDITOR": str(good)}
    )
    assert out.returncode == 0, out.stderr
    assert "ring_timeout = 20.0" in station_file.read_text()


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    out = intercom("config", "--config", str(tmp_path / "none.toml"), "validate")
    assert out.returncode == 2 and "file not found" in out.stderr


@pytest.fixture
async def notify_socket(tmp_path: Path) -> AsyncIterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.setblocking(False)
    yield sock, path
    sock.close()


async def next_message(sock: socket.socket, wanted: str, timeout: float = 20.0) -> str:
    """The next datagram containing ``wanted`` (watchdog pings in between are skipped)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        while True:
            text = (await loop.sock_recv(sock, 4096)).decode()
            if wanted in text.split("\n") or any(
                line.startswith(wanted) for line in text.split("\n")
            ):
                return text


async def test_the_station_as_a_notify_service_reloads_and_reports(
    station_file: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    data = station_file.parent / "data"
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "500000"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom.cli", "station", "--config", str(station_file),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        ready = await next_message(sock, "READY=1")
        assert "STATUS=Front door: " in ready
        await next_message(sock, "WATCHDOG=1")
        online = await next_message(sock, "STATUS=Front door: online")
        assert online == "STATUS=Front door: online"

        status = intercom("status", "--data-dir", str(data), "--json")
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["status"]["online"] is True
        assert report["status"]["relays"] == {"door": False}
        assert [e["kind"] for e in report["events"]][:2] == ["start", "online"]
        text = intercom("status", "--data-dir", str(data)).stdout
        assert "exchange: 127.0.0.1:" in text and "relay door: locked" in text

        out = intercom("config", "--config", str(station_file), "set", "unlock.max_wrong=3")
        assert out.stdout.startswith(f"saved and reloaded (station pid {proc.pid})")
        await next_message(sock, "RELOADING=1")
        await next_message(sock, "READY=1")
        out = intercom("config", "--config", str(station_file), "set", "bells[0].pin=22")
        assert out.returncode == 0
        await next_message(sock, "RELOADING=1")
        await next_message(sock, "READY=1")
        reloads = [
            json.loads(line)
            for line in intercom("events", "--json", "--data-dir", str(data)).stdout.splitlines()
            if '"config_reloaded"' in line
        ]
        assert [r["restart_needed"] for r in reloads] == [["bells"], []]  # newest first
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0
    await next_message(sock, "STOPPING=1")
    stopped = intercom("status", "--data-dir", str(data))
    assert stopped.returncode == 3 and stopped.stdout.startswith("station: not running")


EXAMPLE = Path(__file__).parents[2] / "deploy" / "image" / "boot" / "intercom.toml.example"


def test_the_shipped_boot_partition_example_validates(tmp_path: Path) -> None:
    # It leaves the password out for the first boot to make: accepted, with a warning.
    out = intercom("config", "--config", str(EXAMPLE), "validate")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"ok: {EXAMPLE}\n"
    assert "warning: station.password: none given; the first boot makes one" in out.stderr
    # An empty password is not a left-out one: still refused.
    empty = tmp_path / "intercom.toml"
    text = EXAMPLE.read_text().replace('extension = "100"', 'extension = "100"\npassword = ""')
    empty.write_text(text)
    out = intercom("config", "--config", str(empty), "validate")
    assert out.returncode == 2 and "station needs a password or a token" in out.stderr


async def test_passwd_reloads_the_exchange_running_inside_the_station(
    station_file: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    from intercom.client import ConnectionState, OzWebClient

    sock, path = notify_socket
    exchange_file = station_file.parent / "exchange.toml"
    port = tomllib.loads(exchange_file.read_text())["exchange"]["port"]
    trust = station_file.parent / "exchange-data" / "tls" / "certificate.pem"
    env = {**os.environ, "NOTIFY_SOCKET": path}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom.cli", "station", "--config", str(station_file),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await next_message(sock, "READY=1")
        out = intercom("passwd", "--config", str(exchange_file), "201", stdin="new-flat-pass\n")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"saved and reloaded (station pid {proc.pid})")
        await next_message(sock, "RELOADING=1")
        await next_message(sock, "READY=1")
        for password, expected in (
            ("new-flat-pass", ConnectionState.ACCESS_GRANTED),
            (PASSWORD.format("201"), ConnectionState.ACCESS_DENIED),
        ):
            client = OzWebClient(media=False, trust=trust, reconnect=False)
            state = await client.connect(f"wss://127.0.0.1:{port}/", "201", password=password)
            await client.disconnect()
            assert state is expected
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0
