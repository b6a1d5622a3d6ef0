"""Helpers shared by the media tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from intercom.client import Call, CallType, OzCamera, OzWebClient
from tests.conftest import Recorder


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Media arrives continuously; poll at frame pace until it shows what we need."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - frames are a stream, not one event
            await asyncio.sleep(0.02)


async def ring(
    caller: OzWebClient,
    number: str,
    *callees: OzWebClient,
    call_type: CallType = CallType.VIDEO,
    camera: str | None = "door-camera",
) -> tuple[Call, list[Call]]:
    """Start a call (with the test camera on a video call) and wait until every callee rings."""
    rings = [Recorder(c.onIncomingCall) for c in callees]
    call = caller.createCall(number, call_type)
    if camera is not None and call_type is CallType.VIDEO:
        call.attachCamera(OzCamera.getCameraByName(camera))
    await call.start()
    return call, [await r.wait_for(lambda c: True) for r in rings]
