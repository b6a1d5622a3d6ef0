"""OzWebClient.connect/disconnect, presence, webphone state, tokens and login failures."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.asyncio.client import connect as ws_connect

from intercom.client import ConnectionState, OzError, OzWebClient, Privilege, WebphoneState
from intercom.exchange.server import CLOSE_AUTH_TIMEOUT, Exchange
from tests.conftest import PASSWORD, Connector, Recorder

pytestmark = pytest.mark.integration


async def test_access_granted_and_snapshot(login: Connector) -> None:
    client = OzWebClient()
    states = Recorder(client.onConnectionStateChanged)
    users = Recorder(client.onUserInfoReceived)
    exts = Recorder(client.onExtensionInfoReceived)
    concierge = await login("900")
    state = await client.connect(
        f"ws://127.0.0.1:{concierge_port(concierge)}", "201", {"Password": PASSWORD.format("201")}
    )
    try:
        assert state is ConnectionState.ACCESS_GRANTED
        assert states.items[0].State is ConnectionState.ACCESS_GRANTED
        assert client.extension == "201"
        assert client.privileges == {Privilege.CALL, Privilege.DOOR}
        # Without the directory privilege a client sees itself and its own user only.
        assert set(client.extensions) == {"201"}
        assert [u.id for u in users.items] == ["alice"]
        assert [e.id for e in exts.items] == ["201"]
        alice = client.helper.getUserByExtension("201")
        assert alice is not None and alice.fullName == "Alice Example"
    finally:
        await client.disconnect()
    assert client.state is ConnectionState.CONNECTION_CLOSED
    assert states.items[-1].state is ConnectionState.CONNECTION_CLOSED


def concierge_port(client: OzWebClient) -> int:
    assert client._url is not None
    return int(client._url.rsplit(":", 1)[1].strip("/"))


@pytest.mark.parametrize(
    ("user", "password"),
    [("201", "wrong"), ("999", "whatever"), ("oz_not-a-token", None)],
)
async def test_access_denied(exchange: Exchange, user: str, password: str | None) -> None:
    client = OzWebClient()
    states = Recorder(client.onConnectionStateChanged)
    props = {"Password": password} if password is not None else {}
    state = await client.connect(exchange.url, user, props)
    assert state is ConnectionState.ACCESS_DENIED
    assert states.items[-1].state is ConnectionState.ACCESS_DENIED
    assert not client.connected


async def test_connection_failed_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OzWebClient()
    states = Recorder(client.onConnectionStateChanged)
    assert await client.connect(f"ws://127.0.0.1:{port}", "201", {"Password": "x"}) is (
        ConnectionState.CONNECTION_FAILED
    )
    assert states.items[-1].state is ConnectionState.CONNECTION_FAILED


async def test_address_forms_reach_the_exchange(exchange: Exchange) -> None:
    for address in (f"http://127.0.0.1:{exchange.port}", f"ws://127.0.0.1:{exchange.port}/"):
        client = OzWebClient()
        assert await client.connect(address, "202", password=PASSWORD.format("202")) is (
            ConnectionState.ACCESS_GRANTED
        )
        await client.disconnect()


async def test_token_login_with_privileges_and_expiry(exchange: Exchange) -> None:
    token = exchange.tokens.create("900", {Privilege.MONITOR, Privilege.DIRECTORY})
    client = OzWebClient()
    assert await client.connect(exchange.url, token) is (
        ConnectionState.ACCESS_GRANTED
    )
    assert client.extension == "900"
    assert client.privileges == {Privilege.MONITOR, Privilege.DIRECTORY}
    assert "900" in client.extensions  # the directory privilege shows everyone
    assert client.helper.getOutsideLineById("pstn") is not None
    await client.disconnect()

    expired = exchange.tokens.create("300", {Privilege.CALL}, ttl_seconds=-1)
    client = OzWebClient()
    assert await client.connect(exchange.url, expired) is (
        ConnectionState.ACCESS_DENIED
    )


async def test_presence_reaches_directory_watchers_without_the_password(login: Connector) -> None:
    watcher = await login("900")
    presence = Recorder(watcher.onClientStateChanged)
    resident = OzWebClient()
    await resident.connect(
        f"ws://127.0.0.1:{concierge_port(watcher)}",
        "202",
        {"Password": PASSWORD.format("202"), "Nickname": "Bob", "Avatar": "/bob.png"},
    )
    online = await presence.wait_for(lambda i: i["phoneNumber"] == "202")
    assert online["status"] == "ONLINE"
    assert online["Nickname"] == "Bob" and online["Avatar"] == "/bob.png"
    assert not any(k.lower() == "password" for k in online)
    assert "202" in watcher.clients
    await resident.disconnect()
    offline = await presence.wait_for(
        lambda i: i["phoneNumber"] == "202" and i["status"] == "OFFLINE"
    )
    assert offline["Nickname"] == "Bob"
    assert "202" not in watcher.clients


async def test_presence_is_not_sent_to_clients_without_directory(login: Connector) -> None:
    plain = await login("201")
    seen = Recorder(plain.onClientStateChanged)
    watcher = await login("900")
    presence = Recorder(watcher.onClientStateChanged)
    await login("202")
    await presence.wait_for(lambda i: i["phoneNumber"] == "202")
    # The watcher saw 202 arrive; the same broadcast went out before any to 201 could.
    assert seen.items == []


async def test_check_webphone_state_before_and_after_login(login: Connector) -> None:
    exchange_client = await login("201")
    address = f"ws://127.0.0.1:{concierge_port(exchange_client)}"
    outsider = OzWebClient()
    received = Recorder(outsider.onWebphoneStateReceived)
    answers: list[dict[str, str]] = []
    info = await outsider.checkWebphoneState(address, "201", answers.append)
    assert info == {"webphoneId": "201", "state": WebphoneState.ONLINE.value}
    assert answers == [info] and received.items == [info]
    assert (await outsider.checkWebphoneState(address, "202"))["state"] == "OFFLINE"
    # A stranger learns nothing of which numbers exist.
    assert (await outsider.checkWebphoneState(address, "555"))["state"] == "OFFLINE"
    # Over the logged-in connection too, where an unknown number is said to be unknown.
    info = await exchange_client.checkWebphoneState(address, "201")
    assert info["state"] == "ONLINE"
    assert (await exchange_client.checkWebphoneState(address, "555"))["state"] == "NOT_FOUND"


async def test_requests_before_login_are_refused(exchange: Exchange) -> None:
    async with ws_connect(f"ws://127.0.0.1:{exchange.port}/") as ws:
        await ws.send(
            json.dumps({"v": 1, "id": 7, "type": "call.start", "data": {"number": "201"}})
        )
        reply = json.loads(await ws.recv())
        assert reply["type"] == "error" and reply["id"] == 7
        assert reply["data"]["code"] == 304


async def test_auth_timeout_closes_silent_connections(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(config_path(auth_timeout=0.3))
    await exchange.start()
    try:
        async with ws_connect(f"ws://127.0.0.1:{exchange.port}/") as ws:
            async with asyncio.timeout(5):
                await ws.wait_closed()
            assert ws.close_code == CLOSE_AUTH_TIMEOUT
    finally:
        await exchange.stop()


async def test_requests_while_disconnected_raise_and_report(exchange: Exchange) -> None:
    client = OzWebClient()
    errors = Recorder(client.onErrorOccured)
    call = client.createCall("201")
    with pytest.raises(OzError):
        await call.start()
    assert errors.items and errors.items[0].code == 304


async def test_disconnect_shows_offline_to_others(login: Connector) -> None:
    watcher = await login("900")
    resident = await login("201")
    ext = watcher.helper.getExtensionById("201")
    assert ext is not None
    changes = Recorder(ext.onExtensionStatusChanged)
    await resident.disconnect()
    extension, _status = await changes.wait_for(lambda change: change[1].value == "OFFLINE")
    assert extension is ext and ext.status.value == "OFFLINE"
