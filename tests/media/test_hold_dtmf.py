"""Hold and resume by renegotiation, and DTMF through each of its three paths."""

from __future__ import annotations

import pytest

from intercom.client import Call, CallState, OzWebClient, Session
from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.displays import FrameProbe
from tests.conftest import Connector, Recorder
from tests.media.helpers import ring, until

pytestmark = pytest.mark.integration


class Devices:
    """Simulated microphones and speakers of every client in a test, by extension."""

    def __init__(self) -> None:
        self.mics: dict[str, GeneratedAudioTrack] = {}
        self.speakers: dict[str, CountingAudioSink] = {}

    def options(self, name: str, **extra: object) -> MediaOptions:
        def mic() -> GeneratedAudioTrack:
            self.mics[name] = GeneratedAudioTrack()
            return self.mics[name]

        def speaker() -> CountingAudioSink:
            self.speakers[name] = CountingAudioSink()
            return self.speakers[name]

        return MediaOptions(microphone=mic, speaker=speaker, **extra)  # type: ignore[arg-type]


async def video_call(
    login: Connector, devices: Devices, **extra: object
) -> tuple[OzWebClient, OzWebClient, Call, Call]:
    door = await login("100", media=devices.options("door", **extra))
    flat = await login("201", media=devices.options("flat", **extra))
    call, (inc,) = await ring(door, "201", flat)
    inc.setRemoteDisplay("probe")
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    return door, flat, call, inc


@pytest.mark.parametrize("holder", ["door", "flat", "concierge"])
async def test_hold_stops_media_and_resume_restarts_it(
    login: Connector, passthrough_camera: SyntheticCamera, probe: FrameProbe, holder: str
) -> None:
    devices = Devices()
    concierge = await login("900")
    created = Recorder(concierge.onSessionCreated)
    door, flat, call, inc = await video_call(login, devices)
    await until(lambda: probe.frames > 5)
    session: Session = await created.wait_for(lambda s: True)
    hold = {"door": call.hold, "flat": inc.hold, "concierge": session.hold}[holder]
    unhold = {"door": call.unHold, "flat": inc.unHold, "concierge": session.unhold}[holder]
    assert call.media is not None
    first_offer = next(iter(call.media.peers.values())).pc.localDescription.sdp
    await hold()
    await inc.wait_for(CallState.HOLD)
    await call.wait_for(CallState.HOLD)
    assert call.media is not None
    await until(lambda: call.media is not None and call.media.on_hold)
    await until(
        lambda: all(
            t.currentDirection == "inactive"
            for p in call.media.peers.values()  # type: ignore[union-attr]
            for t in p.pc.getTransceivers()
        )
    )
    frames_on_hold = probe.frames
    audio_on_hold = devices.speakers["door"].frames
    # The camera goes on capturing 10 more frames, and none of them arrives at the flat
    # (one may have been in flight).
    encoder = passthrough_camera.encoder
    assert encoder is not None
    captured = encoder.pattern.index
    await until(lambda: encoder.pattern.index > captured + 10)
    assert probe.frames <= frames_on_hold + 1
    assert devices.speakers["door"].frames <= audio_on_hold + 3
    requests_before = encoder.force_requests
    back = Recorder(inc.onCallStateChanged)
    await unhold()
    await back.wait_for(lambda s: s[0] is CallState.IN_CALL)
    await until(lambda: probe.frames > frames_on_hold + 5)
    await until(lambda: devices.speakers["door"].frames > audio_on_hold + 5)
    # Re-offers keep the payload types and header-extension ids first negotiated.
    reoffer = next(iter(call.media.peers.values())).pc.localDescription.sdp

    def lines(sdp: str, prefix: str) -> set[str]:
        return {line for line in sdp.splitlines() if line.startswith(prefix)}

    assert lines(reoffer, "a=rtpmap:") <= lines(first_offer, "a=rtpmap:")
    assert lines(reoffer, "a=extmap:") == lines(first_offer, "a=extmap:")
    # resuming asked the encoder for a keyframe
    assert encoder.force_requests > requests_before
    await call.hangUp()


async def test_a_resume_right_after_the_hold_still_resumes(
    login: Connector, passthrough_camera: SyntheticCamera, probe: FrameProbe
) -> None:
    """The resume comes while the hold's re-offer is still out: it is offered once the hold's
    answer is in, instead of being lost (media would stay inactive)."""
    devices = Devices()
    door, flat, call, inc = await video_call(login, devices)
    await until(lambda: probe.frames > 5)
    await call.hold()
    await call.unHold()  # no waiting for the hold's renegotiation
    assert call.media is not None
    frames, audio = probe.frames, devices.speakers["door"].frames
    await until(lambda: probe.frames > frames + 10)
    await until(lambda: devices.speakers["door"].frames > audio + 25)
    await until(
        lambda: all(
            t.currentDirection == "sendrecv"
            for p in call.media.peers.values()  # type: ignore[union-attr]
            for t in p.pc.getTransceivers()
        )
    )
    await call.hangUp()


@pytest.mark.parametrize("method", ["signalling", "rtp", "inband"])
async def test_every_dtmf_key_through_each_path(
    login: Connector, passthrough_camera: SyntheticCamera, probe: FrameProbe, method: str
) -> None:
    devices = Devices()
    door, flat, call, inc = await video_call(login, devices, inband_dtmf=True)
    digits = Recorder(call.onDtmfReceived)
    keys = "0123456789*#"
    await inc.send_dtmf(keys, method=method)
    await digits.wait_for(lambda d: d.key == "#", timeout=15)
    got = [d for d in digits.items]
    assert "".join(d.key for d in got) == keys, [d.key for d in got]
    assert {d.source for d in got} == {method}
    assert {d.sender for d in got} == {"201"}
    await call.hangUp()
