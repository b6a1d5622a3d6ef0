"""Strangers and neighbours against the exchange's front door: hostile frames leave nothing
behind, limits hold per extension and per address, logins are throttled."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidHandshake

from intercom.client import ConnectionState, OzWebClient
from intercom.exchange.server import (
    CLOSE_ABUSE,
    CLOSE_AUTH_FAILED,
    CLOSE_LIMIT,
    Exchange,
)
from intercom.protocol.errors import ErrorCode
from tests.conftest import PASSWORD, Connector, Recorder
from tests.security.helpers import (
    answer,
    closed,
    connect_raw,
    event,
    frame,
    login_raw,
    registered,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def limited(config_path: Callable[..., Path]) -> AsyncIterator[Callable[..., Any]]:
    """An exchange with the given settings, stopped after the test."""
    started: list[Exchange] = []

    async def start(**settings: Any) -> Exchange:
        exchange = Exchange.from_file(config_path(**settings))
        await exchange.start()
        started.append(exchange)
        return exchange

    yield start
    for exchange in started:
        await exchange.stop()


def deep(levels: int) -> str:
    """JSON text nesting ``levels`` arrays (made as text: encoding it would recurse)."""
    return "[" * levels + '"x"' + "]" * levels


def deep_login(extension: str, levels: int) -> str:
    return (
        f'{{"v":1,"id":1,"type":"login","data":{{"extension":"{extension}",'
        f'"password":"{PASSWORD.format(extension)}","properties":{{"a":{deep(levels)}}}}}}}'
    )


# ------------------------------------------------------------ hostile frames


async def test_deeply_nested_login_properties_leave_no_ghost(
    exchange: Exchange, login: Connector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    frame_text = deep_login("201", 1000)
    assert len(frame_text) < 4096
    ws = await connect_raw(exchange)
    reply = await answer(ws, frame_text)
    assert reply["type"] == "error" and reply["data"]["code"] == ErrorCode.PARSE_ERROR
    assert "nest" in reply["data"]["message"]
    await ws.close()
    assert registered(exchange, "201") == 0
    assert exchange.switch.extension_status("201").value == "OFFLINE"
    # The concierge (directory watcher: the bell's fallback) still logs in and sees 201 offline.
    concierge = await login("900")
    assert concierge.helper.getExtensionById("201").status.value == "OFFLINE"  # type: ignore[union-attr]
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a stranger's frame"


async def test_an_error_while_registering_leaves_nothing_behind(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_attach = exchange.switch.attach

    def attach_then_fail(ep: Any) -> None:
        real_attach(ep)
        raise RuntimeError("registration failed half-way")

    monkeypatch.setattr(exchange.switch, "attach", attach_then_fail)
    ws, reply = await login_raw(exchange, "201")
    await closed(ws)
    assert registered(exchange, "201") == 0
    assert not exchange._connections
    async with asyncio.timeout(5):
        await exchange.counter.drained()
    assert not exchange.counter.pending and not exchange.counter.by_address


async def test_many_deep_frames_write_few_log_lines(
    exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="intercom")
    for _ in range(20):  # strangers: a few frames each, then the connection is closed
        ws = await connect_raw(exchange)
        for _ in range(5):
            reply = await answer(ws, deep_login("201", 900))
            assert reply["data"]["code"] == ErrorCode.PARSE_ERROR
        await ws.close()
    ws, _ = await login_raw(exchange, "100")  # a logged-in neighbour
    call = '{"v":1,"id":2,"type":"call.message","data":{"call_id":"x","text":' + deep(900) + "}}"
    for _ in range(100):
        reply = await answer(ws, call)
        assert reply["data"]["code"] == ErrorCode.PARSE_ERROR
    await ws.close()
    assert not [r for r in caplog.records if r.exc_info]
    assert len(caplog.records) <= 10


async def test_a_stranger_gets_few_answers_before_logging_in(exchange: Exchange) -> None:
    ws = await connect_raw(exchange)
    query = frame("webphone.state", {"webphone_id": "201"})
    for _ in range(200):
        try:
            await ws.send(query)
        except Exception:
            break
    answers = 0
    code = None
    try:
        async with asyncio.timeout(5):
            async for _ in ws:
                answers += 1
    except Exception:
        pass
    code = ws.close_code
    assert code == CLOSE_ABUSE
    assert answers <= 20


# ----------------------------------------------------------------- limits


async def test_an_extension_has_at_most_four_devices(exchange: Exchange) -> None:
    watcher, _ = await login_raw(exchange, "300")  # sees presence: who comes and goes
    sockets = []
    for _ in range(4):
        ws, reply = await login_raw(exchange, "201")
        assert reply["type"] == "result"
        sockets.append(ws)
    ws, reply = await login_raw(exchange, "201")
    assert reply["type"] == "error" and reply["data"]["code"] == ErrorCode.LIMIT_REACHED
    assert "at most 4" in reply["data"]["message"]
    assert await closed(ws) == CLOSE_LIMIT
    assert registered(exchange, "201") == 4
    # One logs out: once the exchange has let it go, a new device gets in.
    await sockets.pop().close()
    await event(watcher, "client.state", lambda d: d["status"] == "OFFLINE")
    ws, reply = await login_raw(exchange, "201")
    assert reply["type"] == "result"
    for each in [*sockets, ws, watcher]:
        await each.close()


async def test_the_python_client_reports_the_device_limit(limited: Any) -> None:
    exchange = await limited(max_devices_per_extension=1)
    first, second = OzWebClient(media=False), OzWebClient(media=False)
    assert await first.connect(exchange.url, "201", password=PASSWORD.format("201")) is (
        ConnectionState.ACCESS_GRANTED
    )
    states = Recorder(second.onConnectionStateChanged)
    assert await second.connect(exchange.url, "201", password=PASSWORD.format("201")) is (
        ConnectionState.CONNECTION_FAILED
    )
    assert "at most 1" in states.items[-1].message
    await first.disconnect()


async def test_connections_waiting_to_log_in_are_limited_per_address(limited: Any) -> None:
    exchange = await limited(max_pending_per_address=2)
    idle = [await connect_raw(exchange), await connect_raw(exchange)]
    with pytest.raises(InvalidHandshake):  # a third one waiting to log in: dropped at once
        await connect_raw(exchange)
    for ws in idle:
        await ws.close()


async def test_connections_are_limited_per_address(limited: Any) -> None:
    exchange = await limited(max_connections_per_address=3)
    logged = [(await login_raw(exchange, n))[0] for n in ("201", "202", "203")]
    with pytest.raises(InvalidHandshake):
        await connect_raw(exchange)
    for ws in logged:
        await ws.close()


async def test_a_call_rings_a_bounded_number_of_legs(limited: Any) -> None:
    exchange = await limited(max_ringing_legs=3, max_devices_per_extension=4)
    devices = [(await login_raw(exchange, n))[0] for n in ("201",) * 4 + ("202",) * 4]
    door, _ = await login_raw(exchange, "100")
    reply = await answer(door, frame("call.start", {"number": "200", "call_type": "VIDEO"}))
    session = exchange.switch.sessions[reply["data"]["session_id"]]
    await event(door, "call.peer", lambda d: bool(d.get("added")))  # all ring at once
    assert len(session.ringing) == 3
    for ws in [*devices, door]:
        await ws.close()


async def test_the_units_allow_the_descriptors_the_limits_need() -> None:
    from intercom.exchange.config import ExchangeSettings

    needed = ExchangeSettings().max_connections + 64  # the databases, logs and the listener
    for unit in ("intercom-exchange.service", "intercom-station.service"):
        text = (Path(__file__).parents[2] / "deploy" / "systemd" / unit).read_text()
        limits = [line for line in text.splitlines() if line.startswith("LimitNOFILE=")]
        assert limits, unit
        assert int(limits[0].split("=")[1]) >= needed, unit


# ------------------------------------------------------------------- HTTP


async def test_repeated_headers_get_400_and_the_host_header_is_not_trusted(
    exchange: Exchange,
) -> None:
    async def raw_http(headers: str) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", exchange.port)
        writer.write(f"GET / HTTP/1.1\r\n{headers}\r\n".encode())
        await writer.drain()
        reply = await reader.read(200)
        writer.close()
        return reply

    upgrade = (
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    port = exchange.port
    twice = await raw_http(
        f"Host: 127.0.0.1:{port}\r\n{upgrade}Origin: http://127.0.0.1:{port}\r\n"
        f"Origin: http://evil.example\r\n"
    )
    assert twice.startswith(b"HTTP/1.1 400")
    upgrade_twice = await raw_http(f"Host: 127.0.0.1:{port}\r\n{upgrade}Upgrade: websocket\r\n")
    assert upgrade_twice.startswith(b"HTTP/1.1 400")
    # A rebinding page: its own origin and Host name, pointing at this exchange.
    rebound = await raw_http(
        f"Host: evil.example:{port}\r\n{upgrade}Origin: http://evil.example:{port}\r\n"
    )
    assert rebound.startswith(b"HTTP/1.1 403")
    own = await raw_http(f"Host: 127.0.0.1:{port}\r\n{upgrade}Origin: http://127.0.0.1:{port}\r\n")
    assert own.startswith(b"HTTP/1.1 101")


# ------------------------------------------------------------------- logins


async def test_failed_logins_back_off_per_address(exchange: Exchange) -> None:
    for _ in range(3):
        ws, reply = await login_raw(exchange, "201", password="wrong")
        assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
        assert await closed(ws) == CLOSE_AUTH_FAILED
    # The fourth try, even with the right password, is refused without a check.
    ws, reply = await login_raw(exchange, "201")
    assert reply["data"]["code"] == ErrorCode.RATE_LIMITED
    assert "try again in" in reply["data"]["message"]
    assert registered(exchange, "201") == 0


async def test_password_checks_run_off_the_event_loop(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = exchange.auth.check_password

    def recording(number: str | None, password: str) -> Any:
        threads.append(threading.current_thread().name)
        return real(number, password)

    monkeypatch.setattr(exchange.auth, "check_password", recording)
    ws, reply = await login_raw(exchange, "201")
    assert reply["type"] == "result"
    assert threads and threads[0].startswith("password-check")
    await ws.close()


async def test_a_hashed_directory_checks_unknown_extensions_with_a_hash_too(
    config_path: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown and known extensions cost one scrypt each (the time is measured by
    ``intercom bench fuzz``; here: that the same work is done)."""
    import tomllib

    import tomli_w

    from intercom.exchange import auth

    path = config_path()
    config = tomllib.loads(path.read_text())
    for ext in config["extensions"]:
        ext["password"] = auth.hash_password(PASSWORD.format(ext["number"]))
    path.write_text(tomli_w.dumps(config))
    exchange = Exchange.from_file(path)
    hashes: list[str] = []
    real = auth.hash_password

    def counting(password: str, *, salt: bytes | None = None) -> str:
        hashes.append(password)
        return real(password, salt=salt)

    monkeypatch.setattr(auth, "hash_password", counting)
    auth._dummy_hash()  # made once, before counting matters
    hashes.clear()
    assert exchange.auth.check_password("201", "wrong") is None
    assert exchange.auth.check_password("999", "wrong") is None
    assert exchange.auth.check_password("201", PASSWORD.format("201")) is not None
    assert len(hashes) == 3
    await exchange.stop()


async def test_a_request_refused_for_its_rate_is_answered_by_its_id(limited: Any) -> None:
    exchange = await limited(rate_limit=1, rate_burst=1)
    ws, _ = await login_raw(exchange, "201")
    for request_id in (11, 12):
        await ws.send(frame("webphone.state", {"webphone_id": "202"}, request_id))
    replies: list[dict[str, Any]] = []
    while len(replies) < 2:
        received = json.loads(await ws.recv())
        if received["type"] in ("result", "error"):
            replies.append(received)
    refused = [r for r in replies if r["type"] == "error"]
    assert refused and refused[0]["id"] == 12
    assert refused[0]["data"]["code"] == ErrorCode.RATE_LIMITED
    await ws.close()
