"""The concierge page in Chromium: live sessions appear and change, hold and unhold reach both
parties, listening receives the call's media, transfer hands the call on, hang up ends it."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page

from intercom.client import Call, CallState, OzWebClient
from intercom.media.callmedia import MediaOptions
from tests.conftest import PASSWORD, Recorder
from tests.media.helpers import until

from .conftest import Door, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def resident(door: Door, extension: str) -> OzWebClient:
    client = OzWebClient(media=MediaOptions(), trust=door.certificate)
    await client.connect(door.exchange.url, extension, password=PASSWORD.format(extension))
    return client


async def row_state(page: Page, state: str) -> None:
    await page.wait_for_selector(f'#sessions tr[data-state="{state}"]', timeout=10_000)


async def test_concierge_holds_listens_transfers_and_hangs_up(
    door: Door, context: BrowserContext
) -> None:
    flat1, flat2 = await resident(door, "201"), await resident(door, "202")
    try:
        page = await context.new_page()
        await log_in(page, f"{door.exchange.web_url}concierge", "900")
        assert await page.is_visible("#no-sessions")

        rings = Recorder(flat1.onIncomingCall)
        door.press_bell()
        call: Call = await rings.wait_for(lambda c: True)
        await row_state(page, "RINGING")
        assert await page.text_content("#sessions td.caller") == "Front door (100)"
        await call.accept()
        await row_state(page, "INCALL")

        await page.click('button[data-action="hold"]')
        await row_state(page, "ONHOLD")
        await call.wait_for(CallState.HOLD)
        station_call = door.station.call
        assert station_call is not None and station_call.state is CallState.HOLD
        await page.click('button[data-action="unhold"]')
        await row_state(page, "INCALL")
        await until(lambda: call.state is CallState.IN_CALL)

        # Listening: both parties send their media to the page, which sends nothing back.
        await page.click('button[data-action="listen"]')
        await page.wait_for_function(
            """() => { const v = document.getElementById('listen-video');
                       return v.srcObject && v.srcObject.getAudioTracks().length >= 2
                              && v.srcObject.getVideoTracks().length >= 1; }""",
            timeout=10_000,
        )
        await page.click('button[data-action="listen"]')
        await page.wait_for_selector("#board-note:has-text('Stopped listening')")

        # Transfer: flat 1 leaves, the door now rings flat 2.
        rings2 = Recorder(flat2.onIncomingCall)
        await page.fill('#sessions input[data-field="target"]', "202")
        await page.click('button[data-action="transfer"]')
        transferred: Call = await rings2.wait_for(lambda c: True)
        assert transferred.getOtherParty() == "100"
        await call.wait_for(CallState.COMPLETED)
        await page.wait_for_selector("#ended li", timeout=10_000)
        await transferred.accept()
        await row_state(page, "INCALL")

        await page.click('button[data-action="hangup"]')
        await transferred.wait_for(CallState.COMPLETED)
        await page.wait_for_selector("#no-sessions:not([hidden])", timeout=10_000)
        assert await page.locator("#ended li").count() == 2
    finally:
        await flat1.disconnect()
        await flat2.disconnect()
