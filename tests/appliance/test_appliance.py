"""The appliance composes what the station may not: the exchange it carries runs beside it in
one process, trusted by its own certificate, announced once SIGHUP reloads it, reloaded with
the station, and stopped with it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import pytest
import tomli_w

from intercom.appliance import running_exchange, serve_appliance, trust_of
from intercom.client import ConnectionState, OzWebClient
from intercom.station.app import Station
from intercom.station.config import load_station_config
from intercom.station.paths import PID_FILE
from tests.conftest import PASSWORD, directory_config

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_files(folder: Path) -> Path:
    port = free_port()
    exchange = directory_config(port=port, data_dir="exchange-data")
    del exchange["exchange"]["tls"]  # the appliance's default: TLS, with its own certificate
    (folder / "exchange.toml").write_text(tomli_w.dumps(exchange))
    station = {
        "station": {"extension": "100", "password": PASSWORD.format("100"), "simulated": True,
                    "exchange": f"127.0.0.1:{port}", "camera": "none", "data_dir": "data",
                    "embedded_exchange": "exchange.toml"},
        "bells": [{"id": 1, "pin": 17, "target": "201"}],
    }  # fmt: skip
    path = folder / "station.toml"
    path.write_text(tomli_w.dumps(station))
    return path


async def login(url: str, trust: Path | None, password: str) -> ConnectionState:
    client = OzWebClient(media=False, trust=trust, reconnect=False)
    try:
        return await client.connect(url, "201", password=password)
    finally:
        await client.disconnect()


async def test_the_embedded_exchange_runs_reloads_and_stops_with_the_station(
    tmp_path: Path,
) -> None:
    path = write_files(tmp_path)
    config = load_station_config(path)
    exchange_file = tmp_path / "exchange.toml"
    async with running_exchange(exchange_file) as exchange:
        assert exchange is not None
        trust = trust_of(exchange)
        assert trust is not None and trust == exchange.certificate.certificate  # type: ignore[union-attr]
        station = Station(config, path, trust=trust)
        stop = asyncio.Event()
        served = asyncio.ensure_future(serve_appliance(station, exchange, stop))
        try:
            # The station logs in to the exchange it carries, over TLS it trusts.
            await station.wait_until(station.online.is_set)
            # Both announce this process, the exchange only once SIGHUP is handled.
            assert (station.data_dir / PID_FILE).read_text() == str(os.getpid())
            assert exchange.pid_file.read_text() == str(os.getpid())
            # SIGHUP reloads the exchange, then the station.
            text = exchange_file.read_text()
            exchange_file.write_text(text.replace(PASSWORD.format("201"), "a-new-password"))
            os.kill(os.getpid(), signal.SIGHUP)
            await station.wait_until(
                lambda: any(e["kind"] == "config_reloaded" for e in station.events.since())
            )
            url = f"wss://127.0.0.1:{exchange.port}/"
            assert await login(url, trust, "a-new-password") is ConnectionState.ACCESS_GRANTED
            assert await login(url, trust, PASSWORD.format("201")) is ConnectionState.ACCESS_DENIED
        finally:
            stop.set()
            await asyncio.wait_for(served, 10)
        assert not (station.data_dir / PID_FILE).exists()
        pid_file = exchange.pid_file
    assert not pid_file.exists()  # the exchange stopped with the appliance


async def test_without_an_embedded_exchange_there_is_none(tmp_path: Path) -> None:
    async with running_exchange(None) as exchange:
        assert exchange is None and trust_of(exchange) is None
