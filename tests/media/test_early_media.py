"""Calls carry media: early video while it rings, audio gated until the answer."""

from __future__ import annotations

import pytest

from intercom.client import Call, CallState, CallType
from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.displays import FrameProbe
from tests.conftest import Connector, Recorder
from tests.media.helpers import ring, until

pytestmark = pytest.mark.integration


async def test_door_video_reaches_the_resident_while_it_rings(
    login: Connector, camera: SyntheticCamera, probe: FrameProbe
) -> None:
    door = await login("100", media=MediaOptions())
    flat = await login("201", media=MediaOptions())
    call, (inc,) = await ring(door, "201", flat)
    inc.setRemoteDisplay("probe")
    await until(lambda: probe.frames >= 5)
    assert inc.getCallState() is CallState.RINGING  # seen before answering
    assert (probe.width, probe.height) == (320, 240)
    painted = [value for value, _ in probe.counters]
    assert painted == sorted(painted) and painted[-1] > painted[0]  # frames advance
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    before = probe.frames
    await until(lambda: probe.frames > before + 3)  # the answer did not interrupt the video
    await call.hangUp()
    await inc.wait_for(CallState.COMPLETED)


async def test_audio_is_gated_until_accept(login: Connector, probe: FrameProbe) -> None:
    speakers: dict[str, CountingAudioSink] = {}
    mics: dict[str, GeneratedAudioTrack] = {}

    def options(name: str) -> MediaOptions:
        def mic() -> GeneratedAudioTrack:
            mics[name] = GeneratedAudioTrack()
            mics[name].play_tone((440.0,), 30.0)  # speaking all the time
            return mics[name]

        def speaker() -> CountingAudioSink:
            speakers[name] = CountingAudioSink()
            return speakers[name]

        return MediaOptions(microphone=mic, speaker=speaker)

    door = await login("100", media=options("door"))
    flat = await login("201", media=options("flat"))
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.AUDIO)
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await until(lambda: speakers["flat"].frames >= 25 and speakers["door"].frames >= 25)
    # Half a second of ringing: audio flows (no renegotiation later), but only silence.
    assert speakers["flat"].loud_frames == 0
    assert speakers["door"].loud_frames == 0
    await inc.accept()
    await until(lambda: speakers["flat"].loud_frames > 5 and speakers["door"].loud_frames > 5)
    assert call.media is not None and inc.media is not None
    assert len(call.media.peers) == 1
    await inc.hangUp()
    await call.wait_for(CallState.COMPLETED)
