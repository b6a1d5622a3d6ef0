"""``connect(retry=True)``: a first connection that fails is retried until the exchange
answers, never after ``ACCESS_DENIED``, and not after ``disconnect()``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from intercom.client import ConnectionState, OzWebClient
from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD, Recorder

pytestmark = pytest.mark.integration


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def failed(info: object, attempt: int) -> bool:
    return getattr(info, "state", None) is ConnectionState.CONNECTION_FAILED and (
        getattr(info, "attempt", 0) >= attempt
    )


async def test_first_connect_is_retried_until_the_exchange_starts(
    config_path: Callable[..., Path],
) -> None:
    port = unused_port()
    client = OzWebClient(media=False, backoff_base=0.02, backoff_cap=0.05)
    states = Recorder(client.onConnectionStateChanged)
    connecting = asyncio.ensure_future(
        client.connect(f"ws://127.0.0.1:{port}", "201", password=PASSWORD.format("201"), retry=True)
    )
    exchange: Exchange | None = None
    try:
        # Two failures reported, each with its count, while connect() keeps waiting.
        await states.wait_for(lambda info: failed(info, 2))
        assert not connecting.done()
        counts = [i.attempt for i in states.items]
        assert counts == list(range(1, len(counts) + 1))
        assert all(i.message for i in states.items)  # each says why it failed
        exchange = Exchange.from_file(config_path(port=port))
        await exchange.start()
        async with asyncio.timeout(5):
            assert await connecting is ConnectionState.ACCESS_GRANTED
        assert client.connected and client.attempt == 0
        assert states.items[-1].state is ConnectionState.ACCESS_GRANTED
    finally:
        await client.disconnect()
        if exchange is not None:
            await exchange.stop()


async def test_access_denied_is_final_even_with_retry(exchange: Exchange) -> None:
    client = OzWebClient(media=False, backoff_base=0.02, backoff_cap=0.05)
    states = Recorder(client.onConnectionStateChanged)
    state = await client.connect(exchange.url, "201", password="wrong", retry=True)
    assert state is ConnectionState.ACCESS_DENIED
    assert [i.state for i in states.items] == [ConnectionState.ACCESS_DENIED]
    assert client._task is not None and client._task.done()  # nothing left trying


async def test_disconnect_stops_the_retries() -> None:
    client = OzWebClient(media=False, backoff_base=0.02, backoff_cap=0.05)
    states = Recorder(client.onConnectionStateChanged)
    connecting = asyncio.ensure_future(
        client.connect(f"ws://127.0.0.1:{unused_port()}", "201", password="x", retry=True)
    )
    await states.wait_for(lambda info: failed(info, 1))
    task = client._task
    await client.disconnect()
    async with asyncio.timeout(5):
        assert await connecting is ConnectionState.CONNECTION_CLOSED
    assert task is not None and task.done()  # the retry loop is over: no attempt can follow


async def test_without_retry_the_first_outcome_is_returned() -> None:
    client = OzWebClient(media=False)
    state = await client.connect(f"ws://127.0.0.1:{unused_port()}", "201", password="x")
    assert state is ConnectionState.CONNECTION_FAILED
    assert client._task is not None and client._task.done()
