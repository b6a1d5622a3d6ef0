"""The exchange crashes and comes back: clients reconnect within 5 s, no session survives as a
ghost, and history stays consistent."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest

from intercom.client import Call, CallState, ConnectionState, EndCause, OzWebClient, Session
from tests.conftest import PASSWORD, Recorder

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_exchange(config: Path, port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom.cli",
        "exchange",
        "--config",
        str(config),
        "--port",
        str(port),
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    async with asyncio.timeout(20):
        while b"exchange listening" not in await proc.stderr.readline():
            pass
    return proc


async def test_clients_reconnect_after_a_crash(config_path) -> None:  # type: ignore[no-untyped-def]
    config: Path = config_path()
    port = free_port()
    proc = await start_exchange(config, port)
    address = f"ws://127.0.0.1:{port}"
    door, flat, concierge = OzWebClient(), OzWebClient(), OzWebClient()
    recorders = {}
    for client, ext in ((door, "100"), (flat, "201"), (concierge, "900")):
        recorders[ext] = Recorder(client.onConnectionStateChanged)
        assert await client.connect(address, ext, password=PASSWORD.format(ext)) is (
            ConnectionState.ACCESS_GRANTED
        )
    try:
        created = Recorder(concierge.onSessionCreated)
        closed = Recorder(concierge.onSessionClosed)
        incoming = Recorder(flat.onIncomingCall)
        call = door.createCall("201")
        await call.start()
        inc: Call = await incoming.wait_for(lambda c: True)
        await inc.accept()
        await call.wait_for(CallState.IN_CALL)
        session: Session = await created.wait_for(lambda s: True)

        proc.kill()
        await proc.wait()
        await call.wait_for(CallState.COMPLETED)
        assert call.end_cause is EndCause.DISCONNECTED
        for rec in recorders.values():
            await rec.wait_for(lambda i: i.state is ConnectionState.CONNECTION_CLOSED)

        proc = await start_exchange(config, port)
        back = time.monotonic()
        for rec in recorders.values():
            # granted, closed, then granted again
            await rec.wait_for(
                lambda i, rec=rec: bool(  # type: ignore[misc]
                    i.state is ConnectionState.ACCESS_GRANTED and len(rec.items) > 2
                ),
                timeout=5.0,
            )
        reconnect_seconds = time.monotonic() - back
        assert reconnect_seconds < 5.0
        # The session died with the old process: the concierge was told, none is left.
        ghost: Session = await closed.wait_for(lambda s: True)
        assert ghost.session_id == session.session_id
        assert concierge.sessions == {}
        # History: the interrupted call is recorded as ABORTED, not left open.
        history = await concierge.getCallHistory({"callId": session.session_id})
        assert history.numberOfCalls == 1
        assert history.calls[0]["State"] == "ABORTED"
        # And calls work again.
        incoming2 = Recorder(flat.onIncomingCall)
        again = door.createCall("201")
        await again.start()
        await (await incoming2.wait_for(lambda c: True)).accept()
        await again.wait_for(CallState.IN_CALL)
    finally:
        for client in (door, flat, concierge):
            await client.disconnect()
        proc.terminate()
        await proc.wait()
