"""A station started before its exchange keeps trying, says so, and comes online once the
exchange starts, with one "online" line in its log and none per attempt."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.exchange.server import Exchange
from intercom.media.camera import SyntheticCamera
from intercom.media.video import CameraMode
from intercom.station.app import Station
from intercom.station.config import load_station_config
from intercom.station.reporter import summary
from intercom.station.screen import ScreenState
from tests.station.test_station import station_config

pytestmark = pytest.mark.integration


async def test_station_comes_online_when_its_exchange_starts_after_it(
    config_path: Callable[..., Path], tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    s = Station(
        load_station_config(station_config(tmp_path, port)),
        tmp_path / "station.toml",
        pin_factory=MockFactory(),
        camera=SyntheticCamera(CameraMode(320, 240, 15), encoded=True),
    )
    s.client.backoff_base, s.client.backoff_cap = 0.02, 0.1  # quick retries for the test
    exchange: Exchange | None = None
    await s.start()
    try:
        # Nothing listens yet: the screen and the status say the station is retrying.
        await s.wait_until(lambda: s.status()["connect_attempts"] >= 2)
        assert s.screen.state is ScreenState.OFFLINE
        assert s.screen.title == "Connecting..." and s.screen.text.startswith("attempt ")
        assert "(attempt " in summary(s.status())
        assert not s.online.is_set()
        exchange = Exchange.from_file(config_path(port=port))
        await exchange.start()
        await s.wait_until(s.online.is_set)
        assert s.status()["connect_attempts"] == 0
        assert s.screen.state is ScreenState.IDLE
        assert summary(s.status()) == "Front door: online"
        # Once when it came online; the failed attempts are not logged one by one.
        assert [e["kind"] for e in s.events.since()] == ["start", "online"]
    finally:
        await s.stop()
        if exchange is not None:
            await exchange.stop()


async def test_a_refused_reconnect_is_tried_again_once_the_exchange_is_fixed(
    config_path: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The station's password changed on the exchange while it was online: its reconnect is
    refused, and it keeps trying (now and then) until the exchange takes it again."""
    import tomllib

    import tomli_w

    from intercom.station import connection

    monkeypatch.setattr(connection, "DENIED_RETRY_DELAY", 0.05)
    path = config_path()
    exchange = Exchange.from_file(path)
    await exchange.start()
    s = Station(
        load_station_config(station_config(tmp_path, exchange.port)),
        tmp_path / "station.toml",
        pin_factory=MockFactory(),
    )
    s.client.backoff_base, s.client.backoff_cap = 0.02, 0.1
    await s.start()
    original = path.read_text()
    try:
        await s.wait_until(s.online.is_set)
        changed = tomllib.loads(original)
        for ext in changed["extensions"]:
            if ext["number"] == "100":
                ext["password"] = "changed-on-the-exchange"
        path.write_text(tomli_w.dumps(changed))
        assert exchange.reload()  # the station's connection is closed, its login refused
        await s.wait_until(lambda: not s.online.is_set())
        path.write_text(original)
        assert exchange.reload()
        await s.wait_until(s.online.is_set, timeout=30)  # back, without a restart
    finally:
        await s.stop()
        await exchange.stop()
