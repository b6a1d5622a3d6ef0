"""Attacks that slipped past the first defences: a quadratic scan, frames in another encoding,
connections that never finish their handshake, requests racing a revocation, overlapping
guesses, lockouts for free, tokens outliving their tenant, and forged log lines."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from intercom.exchange.server import CLOSE_REMOVED, Exchange
from intercom.protocol import messages as m
from intercom.protocol.enums import Privilege
from intercom.protocol.errors import ErrorCode, ProtocolError
from tests.conftest import PASSWORD
from tests.security.helpers import answer, closed, event, frame, login_raw, login_token

pytestmark = pytest.mark.integration


@pytest.fixture
async def start(config_path: Callable[..., Path]) -> AsyncIterator[Callable[..., Any]]:
    started: list[Exchange] = []

    async def run(**settings: Any) -> Exchange:
        exchange = Exchange.from_file(config_path(**settings))
        await exchange.start()
        started.append(exchange)
        return exchange

    yield run
    for exchange in started:
        await exchange.stop()


async def connect_from(exchange: Exchange, address: str) -> ClientConnection:
    return await ws_connect(
        f"ws://127.0.0.1:{exchange.port}/", compression=None, local_addr=(address, 0)
    )


async def login_from(
    exchange: Exchange, address: str, extension: str, password: str | None = None
) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect_from(exchange, address)
    secret = PASSWORD.format(extension) if password is None else password
    return ws, await answer(ws, frame("login", {"extension": extension, "password": secret}))


# ------------------------------------------------------------------ parsing


def test_the_nesting_scan_reads_each_character_once() -> None:
    """An unterminated string full of escaped quotes made the scan quadratic: a 32 KB
    frame held the event loop for 3 s. Now the worst case is one pass."""
    worst = "[" * 9 + '"' + '\\"' * (m.MAX_MESSAGE_BYTES // 2 - 8)
    assert m.nesting_depth(worst) == 9
    with pytest.raises(ProtocolError):
        m.decode_request(worst)


async def test_a_worst_case_frame_does_not_stall_the_exchange(exchange: Exchange) -> None:
    resident, _ = await login_raw(exchange, "201")
    stranger = await connect_from(exchange, "127.0.0.2")
    # Refused in one pass over the frame (the quadratic scan took ~12 s for this one)...
    worst = "[" * 9 + '"' + '\\"' * (m.MAX_MESSAGE_BYTES // 2 - 8)
    refused = await answer(stranger, worst, timeout=2)
    assert refused["data"]["code"] == ErrorCode.PARSE_ERROR
    # ...and the resident is answered as ever.
    async with asyncio.timeout(2):
        reply = await answer(resident, frame("history.query", {}, 5))
    assert reply["type"] == "result"
    for ws in (resident, stranger):
        await ws.close()


async def test_frames_in_another_encoding_are_refused(exchange: Exchange) -> None:
    """json.loads reads UTF-16 bytes too, and the nesting scan read them as UTF-8: deep login
    properties got past it and broke every directory watcher's login."""
    properties = '{"p":"\\"","q":' + "[" * 40 + "]" * 40 + ',"z":"x"}'
    text = (
        '{"v":1,"id":1,"type":"login","data":{"extension":"203","password":"'
        + PASSWORD.format("203")
        + '","properties":'
        + properties
        + "}}"
    )
    for raw in (text.encode("utf-16-le"), text.encode("utf-32")):
        with pytest.raises(ProtocolError):
            m.decode_request(raw)
        ws = await connect_from(exchange, "127.0.0.3")
        reply = await answer(ws, raw)  # type: ignore[arg-type]
        assert reply["data"]["code"] == ErrorCode.PARSE_ERROR
        await ws.close()
    concierge, reply = await login_raw(exchange, "900")
    assert reply["type"] == "result"
    await concierge.close()


def test_login_properties_are_flat() -> None:
    nested = frame(
        "login", {"extension": "201", "password": "x", "properties": {"a": {"b": "c"}}}
    )
    with pytest.raises(ProtocolError):
        m.decode_request(nested)
    flat = frame(
        "login",
        {"extension": "201", "password": "x", "properties": {"App": "resident", "n": 1}},
    )
    assert m.decode_request(flat).type == "login"


# -------------------------------------------------------------- connections


async def test_connections_are_counted_before_their_handshake(start: Any) -> None:
    """Bare TCP connections that never send a request were not counted, so one address could
    use up the exchange's file descriptors."""
    exchange = await start(max_connections_per_address=3)
    idle = [
        await asyncio.open_connection("127.0.0.1", exchange.port, local_addr=("127.0.0.4", 0))
        for _ in range(3)
    ]
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", exchange.port, local_addr=("127.0.0.4", 0)
    )
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed at once, before any handshake
    writer.close()
    resident, reply = await login_raw(exchange, "201")  # another address is not affected
    assert reply["type"] == "result"
    await resident.close()
    for _, idle_writer in idle:
        idle_writer.close()


async def test_requests_after_a_revocation_are_not_served(exchange: Exchange) -> None:
    token = exchange.tokens.create("900", {Privilege.CALL, Privilege.MONITOR, Privilege.MODIFY})
    flat, _ = await login_raw(exchange, "201")
    revoked, _ = await login_token(exchange, token)
    exchange.tokens.revoke(exchange.tokens.list()[-1].id)
    exchange.reload()
    await revoked.send(frame("call.start", {"number": "201"}, 7))  # races the closing
    assert await closed(revoked) == CLOSE_REMOVED
    reply = await answer(flat, frame("history.query", {}, 3))  # a barrier on the flat's line
    assert reply["type"] == "result"
    assert not exchange.switch.legs and not exchange.switch.sessions
    await flat.close()


# ------------------------------------------------------------------- logins


async def test_overlapping_guesses_from_one_address_are_checked_one_at_a_time(
    exchange: Exchange,
) -> None:
    """Sixteen wrong logins at once were all checked; a valid login then cleared the count."""
    attempts = [login_from(exchange, "127.0.0.5", "202", "wrong") for _ in range(16)]
    results = await asyncio.gather(*attempts)
    codes = [reply["data"]["code"] for _, reply in results]
    assert codes.count(ErrorCode.AUTHENTICATION_FAILED) == 3
    assert codes.count(ErrorCode.RATE_LIMITED) == 13
    for ws, _ in results:
        await ws.close()


async def test_a_valid_login_does_not_wash_an_addresss_failures(start: Any) -> None:
    exchange = await start()
    for _ in range(2):
        ws, _ = await login_from(exchange, "127.0.0.6", "202", "wrong")
        await ws.close()
    mine, reply = await login_from(exchange, "127.0.0.6", "203")  # the neighbour's own
    assert reply["type"] == "result"
    ws, reply = await login_from(exchange, "127.0.0.6", "202", "wrong")
    assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
    ws2, reply = await login_from(exchange, "127.0.0.6", "202", "wrong")
    assert reply["data"]["code"] == ErrorCode.RATE_LIMITED  # the third failure counted
    for each in (mine, ws, ws2):
        await each.close()


async def test_failed_token_logins_do_not_hold_back_an_extension(exchange: Exchange) -> None:
    for n in range(12):
        ws = await connect_from(exchange, f"127.0.1.{n + 1}")
        reply = await answer(ws, frame("login", {"token": "oz_nope", "extension": "202"}))
        assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
        await ws.close()
    flat, reply = await login_from(exchange, "127.0.2.1", "202")  # a device new to 202
    assert reply["type"] == "result"
    await flat.close()


async def test_logins_are_logged_without_the_attackers_text(
    exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    forged = "oz_abc\n2026-01-01 INFO intercom.station: unlock relay=door who=201"
    ws = await connect_from(exchange, "127.0.0.7")
    await answer(ws, frame("login", {"token": forged, "password": "x"}))
    await ws.close()
    secret = exchange.tokens.create("201", {Privilege.CALL})
    ws = await connect_from(exchange, "127.0.0.8")
    await answer(ws, frame("login", {"token": secret, "password": "wrong"}))
    await ws.close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "unlock relay=door" not in text and secret not in text


async def test_a_flood_of_cheap_refusals_does_not_hide_password_guessing(
    exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for n in range(12):  # refusals that cost nothing: too many frames before login
        ws = await connect_from(exchange, f"127.0.3.{n + 1}")
        for _ in range(25):
            await ws.send("x")
        await closed(ws)
    ws, _ = await login_from(exchange, "127.0.4.1", "202", "wrong")
    await ws.close()
    assert any("202" in r.getMessage() for r in caplog.records)


async def test_strangers_cannot_tell_which_numbers_exist(exchange: Exchange) -> None:
    ws = await connect_from(exchange, "127.0.0.9")
    known = await answer(ws, frame("webphone.state", {"webphone_id": "202"}, 1))
    unknown = await answer(ws, frame("webphone.state", {"webphone_id": "299"}, 2))
    assert known["data"]["state"] == unknown["data"]["state"] == "OFFLINE"
    await ws.close()


# ------------------------------------------------------------------ authority


async def test_a_supervisor_without_door_cannot_move_the_door_call_to_himself(
    exchange: Exchange,
) -> None:
    """Forwarding or transferring the door's call to a phone one holds, then answering it,
    would make one's signalling digits the answered party's."""
    token = exchange.tokens.create("900", {Privilege.CALL, Privilege.MONITOR, Privilege.MODIFY})
    supervisor, _ = await login_token(exchange, token)
    flat, _ = await login_raw(exchange, "201")
    door, _ = await login_raw(exchange, "100")
    started = await answer(door, frame("call.start", {"number": "201", "call_type": "AUDIO"}))
    session_id = started["data"]["session_id"]
    await event(flat, "call.incoming")
    refused = await answer(
        supervisor, frame("session.forward", {"session_id": session_id, "target": "203"}, 2)
    )
    assert refused["data"]["code"] == ErrorCode.FORBIDDEN
    for ws in (supervisor, flat, door):
        await ws.close()


async def test_a_reload_applies_new_connection_limits(exchange: Exchange) -> None:
    config = json.loads(json.dumps(exchange.config.model_dump()))
    config["exchange"]["max_connections_per_address"] = 2
    import tomli_w

    exchange.config_path.write_text(tomli_w.dumps(_without_none(config)))
    assert exchange.reload()
    assert exchange.counter.per_address_limit == 2


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def test_a_new_password_revokes_the_extensions_tokens(tmp_path: Path) -> None:
    import subprocess
    import sys

    import tomli_w

    from intercom.exchange.auth import TokenStore
    from tests.conftest import directory_config

    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(directory_config()))
    store = TokenStore(tmp_path / "data" / "tokens.db")
    store.create("202", {Privilege.CALL})
    store.create("201", {Privilege.CALL})
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "intercom.cli", "passwd", "--config", str(path), "202",
         "--no-reload"],
        input="a-new-tenant\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "revoked 1 access token" in done.stdout
    store = TokenStore(tmp_path / "data" / "tokens.db")
    assert [t.extension for t in store.list()] == ["201"]
    store.close()


async def test_tokens_of_extensions_that_are_gone_are_revoked_at_start(
    config_path: Callable[..., Path],
) -> None:
    from intercom.exchange.auth import TokenStore

    path = config_path()
    store = TokenStore(path.parent / "data" / "tokens.db")
    stale = store.create("205", {Privilege.CALL, Privilege.DOOR})  # removed while stopped
    store.close()
    exchange = Exchange.from_file(path)
    await exchange.start()
    try:
        assert all(t.extension != "205" for t in exchange.tokens.list())
        assert exchange.tokens.lookup(stale) is None
    finally:
        await exchange.stop()
