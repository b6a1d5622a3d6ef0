"""Forked ringing with early media, and a transfer that gives the door a new party."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from intercom.client import Call, CallState, EndCause
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.displays import FrameProbe, register_display, unregister_display
from tests.conftest import Connector, Recorder
from tests.media.helpers import ring, until

pytestmark = pytest.mark.integration


@pytest.fixture
def probes() -> Iterator[dict[str, FrameProbe]]:
    made = {name: FrameProbe() for name in ("flat1", "flat2")}
    for name, probe in made.items():
        register_display(name, probe)
    yield made
    for name in made:
        unregister_display(name)


async def test_every_ringing_resident_sees_the_door_and_one_answer_wins(
    login: Connector, passthrough_camera: SyntheticCamera, probes: dict[str, FrameProbe]
) -> None:
    door = await login("100", media=MediaOptions())
    flat1 = await login("201", media=MediaOptions())
    flat2 = await login("202", media=MediaOptions())
    call, (c1, c2) = await ring(door, "200", flat1, flat2)
    c1.setRemoteDisplay("flat1")
    c2.setRemoteDisplay("flat2")
    await until(lambda: probes["flat1"].frames > 3 and probes["flat2"].frames > 3)
    assert call.media is not None and len(call.media.peers) == 2
    # One camera, one encoder, two viewers.
    assert passthrough_camera.viewers == 2
    await c2.accept()
    await c1.wait_for(CallState.COMPLETED)
    assert c1.end_cause is EndCause.ANSWERED_ELSEWHERE
    await until(lambda: call.media is not None and list(call.media.peers) == [c2.call_id])
    await until(lambda: c1.media is not None and c1.media.closed)
    before = probes["flat2"].frames
    await until(lambda: probes["flat2"].frames > before + 3)
    await call.hangUp()
    await c2.wait_for(CallState.COMPLETED)
    await until(
        lambda: c2.media is not None and c2.media.closed and call.media is not None
        and call.media.closed
    )


async def test_transfer_gives_the_door_a_new_peer(
    login: Connector, passthrough_camera: SyntheticCamera, probes: dict[str, FrameProbe]
) -> None:
    door = await login("100", media=MediaOptions())
    flat1 = await login("201", media=MediaOptions())
    flat2 = await login("202", media=MediaOptions())
    ring2 = Recorder(flat2.onIncomingCall)
    call, (c1,) = await ring(door, "201", flat1)
    c1.setRemoteDisplay("flat1")
    await c1.accept()
    await until(lambda: probes["flat1"].frames > 3)
    await c1.transfer("202")
    c2: Call = await ring2.wait_for(lambda c: True)
    c2.setRemoteDisplay("flat2")
    await until(lambda: probes["flat2"].frames > 3)  # early media again, to the new party
    await c2.accept()
    assert call.media is not None
    await until(lambda: list(call.media.peers) == [c2.call_id])  # type: ignore[union-attr]
    await until(lambda: c1.media is not None and c1.media.closed)
    await call.hangUp()
