"""Directory replication, Helper directory queries, reload on SIGHUP, and setupCall."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
import tomli_w

from intercom.client import (
    Call,
    CallState,
    ConnectionState,
    Extension,
    OzError,
    OzWebClient,
    User,
)
from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD, Connector, Recorder, directory_config

pytestmark = pytest.mark.integration


async def test_helper_directory_queries(login: Connector) -> None:
    concierge = await login("900")
    h = concierge.helper
    assert set(h.getExtensions()) == {"100", "201", "202", "203", "300", "900"}
    door = h.getExtensionById("100")
    assert door is not None and door.displayName == "Front door" and door.type == "station"
    assert h.getExtensionById("555") is None
    assert set(h.getExtensionsByType("webphone")) == {"201", "202", "203", "900"}
    assert set(h.getExtensionsByType("STATION")) == {"100"}
    assert set(h.getOutsideLines()) == {"pstn"}
    line = h.getOutsideLineById("pstn")
    assert line is not None and line.is_outside_line and line.phoneNumber == "0"
    assert set(h.getOutsideLinesByType("sip")) == {"pstn"}
    assert h.getOutsideLinesByType("gsm") == {}
    alice = h.getUserById("alice")
    assert alice is not None
    assert (alice.fullName, alice.emailAddress, alice.phoneNumber, alice.mobileNumber) == (
        "Alice Example",
        "alice@example.org",
        "+100",
        "+101",
    )
    assert h.getUserByExtension("203") is alice
    assert h.getUserByExtension("100") is None
    assert h.getExtensionById("900").status.value == "ONLINE"  # type: ignore[union-attr]


async def test_extension_status_online_busy_offline(login: Connector) -> None:
    concierge = await login("900")
    ext = concierge.helper.getExtensionById("201")
    assert ext is not None and ext.status.value == "OFFLINE"
    changes = Recorder(ext.onExtensionStatusChanged)
    door, flat = await login("100"), await login("201")
    await changes.wait_for(lambda c: c[1].value == "ONLINE")
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201")
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.accept()
    await changes.wait_for(lambda c: c[1].value == "BUSY")
    await call.hangUp()
    await changes.wait_for(lambda c: c[1].value == "ONLINE" and len(changes.items) >= 3)
    assert [c[1].value for c in changes.items] == ["ONLINE", "BUSY", "ONLINE"]


async def test_reload_pushes_changes_and_removals(config_path) -> None:  # type: ignore[no-untyped-def]
    path: Path = config_path()
    exchange = Exchange.from_file(path)
    await exchange.start()
    address = exchange.url
    concierge, doomed = OzWebClient(), OzWebClient()
    try:
        await concierge.connect(address, "900", password=PASSWORD.format("900"))
        doomed_states = Recorder(doomed.onConnectionStateChanged)
        await doomed.connect(address, "203", password=PASSWORD.format("203"))
        infos = Recorder(concierge.onExtensionInfoReceived)
        removed = Recorder(concierge.onExtensionRemoved)
        users = Recorder(concierge.onUserInfoReceived)
        users_removed = Recorder(concierge.onUserRemoved)
        data = directory_config()
        data["extensions"] = [e for e in data["extensions"] if e["number"] != "203"]
        data["extensions"][2]["display_name"] = "Flat 2 (Smith)"
        data["extensions"].append({"number": "204", "display_name": "Flat 4", "password": "p4"})
        data["users"] = [
            {"id": "alice", "full_name": "Alice Example", "extensions": ["201"]},
            {"id": "carol", "full_name": "Carol", "extensions": ["204"]},
        ]
        # A broken file first: refused, nothing changes.
        path.write_text("[exchange\n")
        assert exchange.reload() is False
        path.write_text(tomli_w.dumps(data))
        assert exchange.reload() is True
        gone: Extension = await removed.wait_for(lambda e: e.id == "203")
        assert gone.displayName == "Flat 3"
        renamed: Extension = await infos.wait_for(lambda e: e.id == "202")
        assert renamed.displayName == "Flat 2 (Smith)"
        assert concierge.helper.getExtensionById("202") is renamed
        await infos.wait_for(lambda e: e.id == "204")
        await users_removed.wait_for(lambda u: u.id == "bob")
        carol: User = await users.wait_for(lambda u: u.id == "carol")
        assert carol.extensions == ["204"]
        assert concierge.helper.getUserByExtension("201").extensions == ["201"]  # type: ignore[union-attr]
        assert "203" not in concierge.helper.getExtensions()
        # The removed extension's client is logged out and cannot come back.
        await doomed_states.wait_for(lambda i: i.state is ConnectionState.ACCESS_DENIED)
    finally:
        await concierge.disconnect()
        await doomed.disconnect()
        await exchange.stop()


async def test_sighup_reloads_a_running_exchange(config_path) -> None:  # type: ignore[no-untyped-def]
    path: Path = config_path()
    exchange = Exchange.from_file(path)
    ready = asyncio.Event()
    stop = asyncio.Event()
    serving = asyncio.create_task(exchange.serve_forever(stop, on_ready=ready.set))
    await ready.wait()
    concierge = OzWebClient()
    try:
        await concierge.connect(
            exchange.url, "900", password=PASSWORD.format("900")
        )
        infos = Recorder(concierge.onExtensionInfoReceived)
        data = directory_config()
        data["extensions"][0]["display_name"] = "Back door"
        path.write_text(tomli_w.dumps(data))
        os.kill(os.getpid(), signal.SIGHUP)
        door: Extension = await infos.wait_for(lambda e: e.id == "100")
        assert door.displayName == "Back door"
    finally:
        await concierge.disconnect()
        stop.set()
        await serving


async def test_setup_call_rings_the_caller_first(login: Connector) -> None:
    concierge = await login("900")
    flat1, flat2 = await login("201"), await login("202")
    ring1, ring2 = Recorder(flat1.onIncomingCall), Recorder(flat2.onIncomingCall)
    session_id = await concierge.setupCall("201", "202")
    first: Call = await ring1.wait_for(lambda c: True)
    assert first.getOtherParty() == "202"
    assert ring2.items == []  # the callee rings only once the caller answered
    await first.accept()
    second: Call = await ring2.wait_for(lambda c: True)
    assert second.getOtherParty() == "201"
    assert second.session_id == session_id
    await second.accept()
    await first.wait_for(CallState.IN_CALL)
    await second.wait_for(CallState.IN_CALL)


async def test_setup_call_refusals(login: Connector) -> None:
    resident = await login("201")
    await login("202")
    with pytest.raises(OzError) as info:
        await resident.setupCall("202", "100")  # on someone else's behalf
    assert info.value.code == 306
    with pytest.raises(OzError) as info:
        await resident.setupCall("201", "555")
    assert info.value.code == 404
    concierge = await login("900")
    with pytest.raises(OzError) as info:
        await concierge.setupCall("203", "201")  # 203 has no device online
    assert info.value.code == 402
    with pytest.raises(ValueError):
        await concierge.setupCall("", "201")
