"""Browser tests: Debian's Chromium, driven by Playwright, against a real exchange (over TLS,
the default) and a door station on simulated hardware, all inside the loopback-only namespace
that the test command makes."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from gpiozero.pins.mock import MockFactory
from jsonschema import Draft202012Validator
from playwright.async_api import Browser, BrowserContext, Page, WebSocket, async_playwright

from intercom.exchange.server import Exchange
from intercom.media.camera import SyntheticCamera
from intercom.media.video import CameraMode
from intercom.protocol.schema import protocol_schema
from intercom.station.app import Station
from intercom.station.config import load_station_config
from tests.conftest import PASSWORD, directory_config

# What headless Chromium needs to make calls on a host that has only loopback
# (measured: without the loopback flag it gathers no ICE candidates at all), and fake devices
# in place of a camera and microphone, granted without a prompt.
CHROMIUM_FLAGS = [
    "--allow-loopback-in-peer-connection",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class Door:
    exchange: Exchange
    station: Station
    pins: MockFactory
    certificate: Path

    def press_bell(self) -> None:
        self.pins.pin(17).drive_low()
        self.pins.pin(17).drive_high()

    def relay_active(self) -> bool:
        return bool(self.pins.pin(27).state)

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.station.events.since() if e["kind"] == kind]


def exchange_config(tmp_path: Path, **settings: Any) -> Path:
    config = directory_config(ring_timeout=30.0, **settings)
    del config["exchange"]["tls"]  # the default: HTTPS and WSS with the device's certificate
    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(config))
    return path


@pytest.fixture
def bell_target() -> str:
    """Who the door's bell rings: Flat 1 (201) holds the door privilege; a test parametrizes
    this to ring a login without it (203)."""
    return "201"


@pytest.fixture
async def door(tmp_path: Path, bell_target: str) -> AsyncIterator[Door]:
    exchange = Exchange.from_file(exchange_config(tmp_path))
    await exchange.start()
    assert exchange.certificate is not None
    station_file = tmp_path / "station.toml"
    station_file.write_text(
        tomli_w.dumps(
            {
                "station": {
                    "name": "Front door",
                    "extension": "100",
                    "password": PASSWORD.format("100"),
                    "exchange": exchange.url,
                    "simulated": True,
                    "data_dir": str(tmp_path / "station"),
                    "camera": "none",
                },
                "bells": [{"id": 1, "pin": 17, "target": bell_target}],
                "relays": [{"name": "door", "pin": 27, "pulse": 1.0, "codes": ["1234"]}],
                # Long enough that the test goes on to hold and hang up itself.
                "calls": {"hangup_after_unlock": 60.0},
            }
        )
    )
    pins = MockFactory()
    station = Station(
        load_station_config(station_file),
        station_file,
        pin_factory=pins,
        camera=SyntheticCamera(CameraMode(320, 240, 15), encoded=True),
        trust=exchange.certificate.certificate,
    )
    await station.start()
    await station.wait_until(station.online.is_set)
    try:
        yield Door(exchange, station, pins, exchange.certificate.certificate)
    finally:
        await station.stop()
        await exchange.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed: make test installs it"
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


class FrameCheck:
    """Every WebSocket frame a page sends or receives, validated against the protocol's JSON
    Schema (``intercom protocol schema``): the browser library and the exchange are held to
    the one contract on the wire itself."""

    def __init__(self) -> None:
        schema = protocol_schema()
        defs = schema["$defs"]
        self.sent = Draft202012Validator({"$defs": defs, "$ref": "#/$defs/ClientFrame"})
        self.received = Draft202012Validator({"$defs": defs, "$ref": "#/$defs/ServerFrame"})
        self.frames = 0
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        def on_socket(ws: WebSocket) -> None:
            ws.on("framesent", lambda payload: self._check(self.sent, "sent", payload))
            ws.on("framereceived", lambda payload: self._check(self.received, "received", payload))

        page.on("websocket", on_socket)

    def _check(self, validator: Draft202012Validator, way: str, payload: str | bytes) -> None:
        self.frames += 1
        try:
            frame = json.loads(payload)
        except ValueError:
            self.errors.append(f"{way}: not JSON: {payload[:120]!r}")
            return
        for error in validator.iter_errors(frame):
            self.errors.append(f"{way} {frame.get('type')}: {error.message[:200]}")


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    # The device's self-signed certificate, accepted as a resident accepts it once.
    ctx = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 390, "height": 844}
    )
    frames = FrameCheck()
    ctx.on("page", frames.watch)
    try:
        yield ctx
    finally:
        await ctx.close()
    assert frames.frames > 0, "the pages spoke no protocol: nothing was checked"
    assert not frames.errors, "frames off the protocol's schema:\n" + "\n".join(frames.errors[:20])


async def log_in(page: Page, url: str, extension: str) -> None:
    await page.goto(url)
    await page.fill("#extension", extension)
    await page.fill("#password", PASSWORD.format(extension))
    await page.click("#login-button")
    await page.wait_for_selector('#conn-state[data-state="ACCESS_GRANTED"]', timeout=10_000)
