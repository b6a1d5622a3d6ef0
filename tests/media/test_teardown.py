"""Every way a call ends releases its peer connections, tracks, tasks and sockets."""

from __future__ import annotations

import asyncio
import gc
import os
import threading

import pytest
from aiortc import RTCPeerConnection

from intercom.client import Call, CallState, CallType, OzCamera
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from tests.conftest import Connector, Recorder
from tests.media.helpers import until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def resources() -> dict[str, int]:
    gc.collect()
    return {
        "tasks": len(asyncio.all_tasks()),
        # The event loop's default executor (aiortc encodes audio there) is a bounded pool
        # that keeps its threads; every other thread must go.
        "threads": sum(not t.name.startswith("asyncio_") for t in threading.enumerate()),
        "fds": len(os.listdir("/proc/self/fd")),
        "peer_connections": sum(isinstance(o, RTCPeerConnection) for o in gc.get_objects()),
    }


async def baseline() -> dict[str, int]:
    """Counts once the previous call's background winding-down is over: the same twice."""
    previous = resources()
    async with asyncio.timeout(10):
        while True:
            await asyncio.sleep(0.2)
            current = resources()
            if current == previous:
                return current
            previous = current


async def settled(before: dict[str, int], timeout: float = 10.0) -> None:
    """Closing finishes in the background (aiortc's transports wind down after close()):
    wait for the counts to come back, and fail with them if they never do."""
    try:
        await until(lambda: resources() == before, timeout=timeout)
    except TimeoutError:
        raise AssertionError(f"left behind: before {before}, after {resources()}") from None


async def one_call(door, flat, ending: str) -> None:  # type: ignore[no-untyped-def]
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.VIDEO)
    call.attachCamera(OzCamera.getCameraByName("door-camera"))
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    if ending == "reject":
        await until(lambda: inc.media is not None and inc.media.peers)
        await inc.reject()
    else:
        await inc.accept()
        assert inc.media is not None and call.media is not None
        async with asyncio.timeout(10):
            await inc.media.connected.wait()
            await call.media.connected.wait()
        await (call.hangUp() if ending == "caller" else inc.hangUp())
    await call.wait_for(CallState.COMPLETED if ending != "reject" else CallState.REJECTED)
    await until(lambda: call.media.closed and inc.media.closed)  # type: ignore[union-attr]


async def test_fifty_calls_leave_nothing_behind(
    login: Connector, passthrough_camera: SyntheticCamera
) -> None:
    door = await login("100", media=MediaOptions())
    flat = await login("201", media=MediaOptions())
    await one_call(door, flat, "caller")  # warm up: the camera and its encoder start once
    before = await baseline()
    for n in range(50):
        await one_call(door, flat, ("caller", "callee", "reject")[n % 3])
    await settled(before)


async def test_a_dropped_connection_releases_media(
    login: Connector, passthrough_camera: SyntheticCamera
) -> None:
    door = await login("100", media=MediaOptions())
    flat = await login("201", media=MediaOptions())
    await one_call(door, flat, "caller")
    before = await baseline()
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.VIDEO)
    call.attachCamera(OzCamera.getCameraByName("door-camera"))
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.accept()
    assert call.media is not None and inc.media is not None
    async with asyncio.timeout(10):
        await call.media.connected.wait()
    await flat.disconnect()
    await call.wait_for(CallState.COMPLETED)
    await until(lambda: call.media.closed and inc.media.closed)  # type: ignore[union-attr]
    flat2 = await login("201", media=MediaOptions())  # takes the place of the one we dropped
    await settled(before)
    assert flat2.connected


async def test_a_failed_negotiation_releases_media(login: Connector) -> None:
    door = await login("100")  # signalling only: it sends a broken offer by hand
    flat = await login("201", media=MediaOptions())
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.VIDEO)
    byes = Recorder(call.on_signal_received)
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await call.send_signal("offer", "v=0\r\nthis is not SDP\r\n", peer=inc.call_id)
    bye = await byes.wait_for(lambda d: d["kind"] == "bye")
    assert bye["peer"] == inc.call_id
    assert inc.media is not None and inc.media.peers == {}
    await call.hangUp()
    await until(lambda: inc.media.closed)  # type: ignore[union-attr]
