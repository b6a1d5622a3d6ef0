"""Pictures of the web app's main states, taken in Chromium against the demo's own parts.

Run inside the loopback-only namespace: `make screenshots` (writes docs/screenshots/*.png).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

from gpiozero.pins.mock import MockFactory
from playwright.async_api import Page, async_playwright

from intercom.client import OzWebClient
from intercom.demo import demo_config, station_config
from intercom.exchange.server import Exchange
from intercom.station.app import Station
from intercom.station.config import load_station_config

FLAGS = [
    "--allow-loopback-in-peer-connection",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
]


async def wait_online(station: Station) -> None:
    async with asyncio.timeout(10):
        await station.online.wait()


async def shoot(out: Path) -> None:
    data = Path(tempfile.mkdtemp(prefix="intercom-shots-"))
    exchange = Exchange.from_file(demo_config(data, 0))
    await exchange.start()
    assert exchange.certificate is not None
    passwords = tomllib.loads((data / "passwords.toml").read_text())
    path = station_config(data, exchange.port)
    pins = MockFactory()
    station = Station(
        load_station_config(path), path, pin_factory=pins, trust=exchange.certificate.certificate
    )
    await station.start()
    await wait_online(station)
    flat2 = OzWebClient(trust=exchange.certificate.certificate)
    await flat2.connect(exchange.url, "202", password=passwords["202"])
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            phone = await browser.new_context(
                ignore_https_errors=True,
                viewport={"width": 390, "height": 760},
                device_scale_factor=1,
            )
            page = await phone.new_page()
            await page.goto(exchange.web_url)
            await page.screenshot(path=out / "login.png")
            await log_in(page, "201", passwords["201"])

            pins.pin(17).drive_low()
            pins.pin(17).drive_high()
            await page.wait_for_selector('#call-state[data-state="RINGING"]')
            await page.wait_for_function(
                "() => document.getElementById('door-video').getVideoPlaybackQuality()"
                ".totalVideoFrames > 20"
            )
            await page.screenshot(path=out / "ringing.png")
            await page.click("#answer")
            await page.wait_for_selector('#call-state[data-state="IN_CALL"]')
            await page.click('.reply[data-reply="I\'m coming"]')
            await page.wait_for_selector("#call-note:has-text('Shown at the door')")
            await asyncio.sleep(1.0)  # let the call timer and picture move on for the picture
            await page.screenshot(path=out / "in-call.png")
            await page.click("#hangup")
            await page.wait_for_selector("#history tbody tr")
            await page.screenshot(path=out / "history.png")

            desk = await browser.new_context(
                ignore_https_errors=True, viewport={"width": 900, "height": 520}
            )
            board = await desk.new_page()
            await board.goto(f"{exchange.web_url}concierge")
            await log_in(board, "900", passwords["900"])
            pins.pin(17).drive_low()
            pins.pin(17).drive_high()
            await board.wait_for_selector('#sessions tr[data-state="RINGING"]')
            await board.screenshot(path=out / "concierge.png")
            await browser.close()
    finally:
        await flat2.disconnect()
        await station.stop()
        await exchange.stop()
        shutil.rmtree(data, ignore_errors=True)


async def log_in(page: Page, extension: str, password: str) -> None:
    await page.fill("#extension", extension)
    await page.fill("#password", password)
    await page.click("#login-button")
    await page.wait_for_selector('#conn-state[data-state="ACCESS_GRANTED"]')


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(folder))
