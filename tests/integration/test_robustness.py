"""Bad input gets an error and changes nothing; the connection and everyone else carry on."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from intercom.client import Call, CallState, OzWebClient
from intercom.exchange.server import CLOSE_ABUSE, Exchange
from intercom.protocol.messages import MAX_MESSAGE_BYTES
from tests.conftest import PASSWORD, Connector, Recorder

pytestmark = pytest.mark.integration


async def raw_login(port: int, extension: str) -> ClientConnection:
    ws = await ws_connect(f"ws://127.0.0.1:{port}/", compression=None)
    await ws.send(
        json.dumps(
            {
                "v": 1,
                "id": 0,
                "type": "login",
                "data": {"extension": extension, "password": PASSWORD.format(extension)},
            }
        )
    )
    reply = json.loads(await ws.recv())
    assert reply["type"] == "result"
    return ws


async def reply_to(ws: ClientConnection, raw: str) -> dict:  # type: ignore[type-arg]
    await ws.send(raw)
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] in ("result", "error"):
            return frame  # type: ignore[no-any-return]


async def test_garbage_is_answered_and_the_connection_survives(
    exchange: Exchange, login: Connector
) -> None:
    bystander = await login("201")
    ws = await raw_login(exchange.port, "100")
    try:
        cases = [
            ("{not json", 300),
            ("[]", 300),
            (json.dumps({"id": 1, "type": "call.teleport", "data": {}}), 301),
            (json.dumps({"id": 2, "type": "call.start", "data": {"number": "a b"}}), 302),
            (json.dumps({"id": 3, "type": "call.hangup", "data": {"call_id": "nope"}}), 601),
            (json.dumps({"id": 4, "type": "login", "data": {}}), 303),
            (
                json.dumps(
                    {
                        "id": 5,
                        "type": "call.message",
                        "data": {"call_id": "x", "text": "y" * (MAX_MESSAGE_BYTES + 10)},
                    }
                ),
                413,
            ),
        ]
        for raw, code in cases:
            frame = await reply_to(ws, raw)
            assert frame["type"] == "error", raw
            assert frame["data"]["code"] == code, (raw, frame)
            assert frame["data"]["message"]
        # Still usable, and nobody else noticed.
        incoming = Recorder(bystander.onIncomingCall)
        frame = await reply_to(
            ws, json.dumps({"id": 9, "type": "call.start", "data": {"number": "201"}})
        )
        assert frame["type"] == "result" and frame["id"] == 9
        call: Call = await incoming.wait_for(lambda c: True)
        assert call.getCallState() is CallState.RINGING
    finally:
        await ws.close()


async def test_rate_limit_answers_then_recovers(config_path, login: Connector) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(config_path(rate_limit=20, rate_burst=5))
    await exchange.start()
    try:
        ws = await raw_login(exchange.port, "100")
        request = json.dumps({"id": 1, "type": "webphone.state", "data": {"webphone_id": "201"}})
        for _ in range(15):
            await ws.send(request)
        codes: list[int] = []
        while len(codes) < 15:
            frame = json.loads(await ws.recv())
            if frame["type"] == "result":
                codes.append(200)
            elif frame["type"] == "error":
                codes.append(frame["data"]["code"])
        assert codes.count(200) >= 5
        assert 429 in codes
        # Others are not limited by this connection's flood.
        other = OzWebClient()
        info = await other.checkWebphoneState(exchange.url, "100")
        assert info["state"] == "ONLINE"
        # The bucket refills at 20/s: time passing is what is under test here.
        await asyncio.sleep(0.2)
        frame = await reply_to(ws, request)
        assert frame["type"] == "result"
        await ws.close()
    finally:
        await exchange.stop()


async def test_a_flood_is_disconnected(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(config_path(rate_limit=1, rate_burst=2))
    await exchange.start()
    try:
        ws = await raw_login(exchange.port, "100")
        request = json.dumps({"id": 1, "type": "webphone.state", "data": {"webphone_id": "201"}})
        for _ in range(50):
            await ws.send(request)
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:  # read the replies until the exchange hangs up
                pass
        assert ws.close_code == CLOSE_ABUSE
    finally:
        await exchange.stop()
