"""/WebphoneAPI in a blank page of another origin, called directly as a third-party page would:
classic script and ES module, login, Helper, webphone state, a video call to a Python client
with messages both ways, RFC 4733 DTMF, hold from the browser's side, hang-up and history; and a
page from an origin the exchange does not allow is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from intercom.client import Call, CallState, OzWebClient
from intercom.exchange.server import Exchange
from intercom.media.audio import CountingAudioSink
from intercom.media.callmedia import MediaOptions
from tests.conftest import PASSWORD, Recorder
from tests.media.helpers import until

from .conftest import exchange_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BLANK = (
    b"<!doctype html><html><head><title>portal</title></head>"
    b"<body><div id='remote'></div></body></html>"
)


def blank_page(_: ServerConnection, request: Request) -> Response:
    headers = Headers([("Content-Type", "text/html"), ("Content-Length", str(len(BLANK)))])
    return Response(HTTPStatus.OK.value, "OK", headers, BLANK)


@pytest.fixture
async def portal() -> AsyncIterator[Server]:
    """Another web origin on loopback: a site that embeds the door phone."""
    async with serve(lambda ws: ws.close(), "127.0.0.1", 0, process_request=blank_page) as server:
        yield server


def port_of(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])


@pytest.fixture
async def exchange(tmp_path: Path, portal: Server) -> AsyncIterator[Exchange]:
    allowed = [f"http://127.0.0.1:{port_of(portal)}"]
    ex = Exchange.from_file(exchange_config(tmp_path, allowed_origins=allowed))
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


async def wait_state(page: Page, state: str) -> None:
    await page.wait_for_function(f"() => window.states.includes('{state}')", timeout=10_000)


async def test_a_page_elsewhere_uses_the_api_directly(
    exchange: Exchange, portal: Server, context: BrowserContext
) -> None:
    assert exchange.certificate is not None
    sink = CountingAudioSink()
    flat3 = OzWebClient(
        media=MediaOptions(speaker=lambda: sink), trust=exchange.certificate.certificate
    )
    await flat3.connect(exchange.url, "203", password=PASSWORD.format("203"))
    incoming = Recorder(flat3.onIncomingCall)
    page = await context.new_page()
    try:
        await page.goto(f"http://127.0.0.1:{port_of(portal)}/")
        await page.add_script_tag(url=f"{exchange.web_url}WebphoneAPI")
        address = f"127.0.0.1:{exchange.port}"
        granted = await page.evaluate(
            """async ([address, password]) => {
                window.states = []; window.messages = []; window.historyInfo = null;
                OzWebClient.onCallHistoryInfoReceived(r => { window.historyInfo = r; });
                const infos = [];
                OzWebClient.onConnectionStateChanged(info => infos.push(info.State));
                const state = await OzWebClient.connect(address, "202", {Password: password});
                return [state, infos, OzWebClient.helper.getUserByExtension("202").fullName,
                        Object.keys(OzWebClient.helper.getExtensions())];
            }""",
            [address, PASSWORD.format("202")],
        )
        assert granted == ["ACCESS_GRANTED", ["ACCESS_GRANTED"], "Bob Example", ["202"]]
        webphone = await page.evaluate(
            """async (address) => {
                let fromCallback = null;
                const info = await OzWebClient.checkWebphoneState(
                    address, "203", i => { fromCallback = i; });
                return [info.state, fromCallback.state];
            }""",
            address,
        )
        assert webphone == ["ONLINE", "ONLINE"]

        await page.evaluate(
            """() => {
                const call = window.call = OzWebClient.createCall("203", CallType.VIDEO);
                call.onCallStateChanged(s => window.states.push(s));
                call.onMessageReceived((text, from) => window.messages.push([text, from]));
                call.setRemoteDisplay("remote");
                return call.start();
            }"""
        )
        python_call: Call = await incoming.wait_for(lambda c: True)
        assert python_call.getOtherParty() == "202"
        await wait_state(page, "RINGING")
        await python_call.accept()
        await wait_state(page, "IN_CALL")
        # Media both ways: the page hears the Python side, the Python side the fake microphone.
        await page.wait_for_function(
            "() => call.remoteStream().getAudioTracks().length === 1", timeout=10_000
        )
        await until(lambda: sink.frames > 50)

        messages = Recorder(python_call.onMessageReceived)
        await page.evaluate("() => call.sendMessage('hello from the portal')")
        message = await messages.wait_for(lambda m: True)
        assert str(message) == "hello from the portal"
        await python_call.send_message("hi portal")
        await page.wait_for_function("() => window.messages.length === 1", timeout=10_000)
        assert await page.evaluate("window.messages") == [["hi portal", "203"]]

        keys = Recorder(python_call.onDtmfReceived)
        assert await page.evaluate("() => call.sendDtmf('5#', 'rtp')") == "rtp"
        await keys.wait_for(lambda e: e.key == "#")
        assert [(e.key, e.source) for e in keys.items] == [("5", "rtp"), ("#", "rtp")]

        # Hold from the page, which offered this call: it re-offers, aiortc answers.
        await page.evaluate("() => call.hold()")
        await wait_state(page, "HOLD")
        await python_call.wait_for(CallState.HOLD)
        await page.evaluate("() => call.unHold()")
        await page.wait_for_function("() => call.getCallState() === 'IN_CALL'", timeout=10_000)
        heard = sink.frames
        await until(lambda: sink.frames > heard + 25)  # audio flows again after the resume
        # A resume that comes while the hold's re-offer is still out is not lost.
        await page.evaluate("async () => { await call.hold(); await call.unHold(); }")
        await page.wait_for_function(
            """() => Object.values(call.media.peers).every(p => p.pc.getTransceivers()
                       .every(t => t.currentDirection === 'sendrecv'))""",
            timeout=10_000,
        )
        heard = sink.frames
        await until(lambda: sink.frames > heard + 25)

        await page.evaluate("() => call.hangUp()")
        await python_call.wait_for(CallState.COMPLETED)
        await wait_state(page, "COMPLETED")
        history = await page.evaluate(
            """async () => {
                const r = await OzWebClient.getCallHistory({RowsPerPage: 5});
                return [r.numberOfCalls, r.calls[0].Destination, window.historyInfo.numberOfCalls];
            }"""
        )
        assert history == [1, "203", 1]
        await page.evaluate("() => OzWebClient.disconnect()")

        # The same library as an ES module: it connects to the exchange it came from.
        module = await context.new_page()
        await module.goto(f"http://127.0.0.1:{port_of(portal)}/")
        imported = await module.evaluate(
            """async ([url, password]) => {
                const api = await import(url);
                const state = await api.OzWebClient.connect("", "202", {Password: password});
                await api.OzWebClient.disconnect();
                return [state, api.CallState.IN_CALL, api.ExtensionStatus.BUSY,
                        typeof api.OzCamera.getCameraByName];
            }""",
            [f"{exchange.web_url}WebphoneAPI.mjs", PASSWORD.format("202")],
        )
        assert imported == ["ACCESS_GRANTED", "IN_CALL", "BUSY", "function"]

        # Another origin, not in allowed_origins: the exchange refuses its WebSocket.
        stranger = await context.new_page()
        await stranger.goto(f"http://localhost:{port_of(portal)}/")
        await stranger.add_script_tag(url=f"{exchange.web_url}WebphoneAPI")
        refused = await stranger.evaluate(
            "([a, p]) => OzWebClient.connect(a, '202', {Password: p})",
            [address, PASSWORD.format("202")],
        )
        assert refused == "CONNECTION_FAILED"
    finally:
        await flat3.disconnect()
