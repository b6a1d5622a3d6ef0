"""The rest of the seed's surface, in one page with three logins (OzWebClient.create() gives the
second and third): reject, forward, transfer, attachCamera with OzCamera, setupCall, every
Session method, Helper, and the directory and presence events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD

from .conftest import exchange_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCENARIO = (Path(__file__).parent / "api_surface.js").read_text()


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[Exchange]:
    ex = Exchange.from_file(exchange_config(tmp_path))
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


async def test_every_remaining_method_and_event(
    exchange: Exchange, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(exchange.web_url + "healthz")  # any page of the exchange's own origin
    await page.add_script_tag(url=exchange.web_url + "WebphoneAPI")
    passwords = {n: PASSWORD.format(n) for n in ("201", "202", "900")}
    result = await page.evaluate(SCENARIO, [f"127.0.0.1:{exchange.port}", passwords])
    assert result["log"] == [
        "presence",
        "reject",
        "camera 320x240 true",
        "session",
        "forward+transfer",
        "session forward+blind transfer",
        "setupCall string",
        "errors true Error,Error,Forbidden",
    ]
    assert result["extensions"] and result["users"] == ["alice", "bob"]
    assert result["states"] and result["created"] >= 6
