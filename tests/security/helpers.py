"""Raw WebSocket clients for attacking a real exchange on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD


def frame(kind: str, data: dict[str, Any] | None = None, request_id: int = 1) -> str:
    return json.dumps({"v": 1, "id": request_id, "type": kind, "data": data or {}})


async def connect_raw(exchange: Exchange) -> ClientConnection:
    return await ws_connect(f"ws://127.0.0.1:{exchange.port}/", compression=None)


async def answer(ws: ClientConnection, raw: str, timeout: float = 5.0) -> dict[str, Any]:
    """Send one frame and return the reply to it (events in between are skipped)."""
    await ws.send(raw)
    async with asyncio.timeout(timeout):
        while True:
            reply = json.loads(await ws.recv())
            if reply["type"] in ("result", "error"):
                return reply  # type: ignore[no-any-return]


async def login_raw(
    exchange: Exchange,
    extension: str,
    password: str | None = None,
    **data: Any,
) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect_raw(exchange)
    secret = PASSWORD.format(extension) if password is None else password
    reply = await answer(ws, frame("login", {"extension": extension, "password": secret, **data}))
    return ws, reply


async def login_token(exchange: Exchange, token: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect_raw(exchange)
    return ws, await answer(ws, frame("login", {"token": token}))


async def closed(ws: ClientConnection, timeout: float = 5.0) -> int | None:
    """Read until the exchange closes the connection; its close code."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            async for _ in ws:
                pass
    return ws.close_code


def registered(exchange: Exchange, extension: str) -> int:
    """Connections of ``extension`` that the exchange holds."""
    return len(exchange.registry.devices(extension))


async def event(
    ws: ClientConnection,
    kind: str,
    predicate: Callable[[dict[str, Any]], bool] = lambda data: True,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The data of the next event of ``kind`` that matches."""
    async with asyncio.timeout(timeout):
        while True:
            received = json.loads(await ws.recv())
            if received["type"] == kind and predicate(received["data"]):
                return received["data"]  # type: ignore[no-any-return]
