"""Camera and audio device backends at their library seams, and the ICE configuration."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection

from intercom.client import OzWebClient
from intercom.exchange.server import Exchange
from intercom.media import ice
from intercom.media.audio import PyAudioMicrophone, PyAudioSpeaker
from intercom.media.camera import V4L2Camera
from intercom.media.video import CameraMode
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


async def test_v4l2_camera_reads_through_pyav() -> None:
    """The V4L2 path is PyAV's demuxer; an FFmpeg test source stands in for /dev/video0."""
    camera = V4L2Camera(
        "testsrc2=size=320x240:rate=15", CameraMode(320, 240, 15), input_format="lavfi"
    )
    track = camera.subscribe()
    frame = await asyncio.wait_for(track.recv(), 5)
    assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (320, 240)
    camera.close()


class FakeStream:
    def __init__(self, callback: Any, rate: int, frames: int, is_input: bool) -> None:
        self.callback, self.rate, self.frames, self.is_input = callback, rate, frames, is_input
        self.closed = False
        self.played = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:  # PortAudio calls back from its own thread
        for n in range(10):
            if self.closed:
                return
            if self.is_input:
                block = (np.full(self.frames, 1000 + n, dtype=np.int16)).tobytes()
                self.callback(block, self.frames, {}, 0)
            else:
                data, _ = self.callback(None, self.frames, {}, 0)
                self.played += data
            time.sleep(self.frames / self.rate)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_pyaudio(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("pyaudio")
    module.paInt16 = 8  # type: ignore[attr-defined]
    module.paContinue = 0  # type: ignore[attr-defined]
    module.paComplete = 1  # type: ignore[attr-defined]
    streams: list[FakeStream] = []

    class PyAudio:
        def open(
            self,
            *,
            rate: int,
            frames_per_buffer: int,
            stream_callback: Any,
            input: bool = False,
            **_: Any,
        ) -> FakeStream:
            streams.append(FakeStream(stream_callback, rate, frames_per_buffer, input))
            return streams[-1]

        def terminate(self) -> None:
            pass

    module.PyAudio = PyAudio  # type: ignore[attr-defined]
    module.streams = streams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyaudio", module)
    return module


async def test_pyaudio_microphone_frames(fake_pyaudio: types.ModuleType) -> None:
    mic = PyAudioMicrophone(rate=16000)
    frames = [await asyncio.wait_for(mic.recv(), 2) for _ in range(3)]
    assert [f.samples for f in frames] == [320, 320, 320]
    assert [f.pts for f in frames] == [0, 320, 640]
    assert frames[0].sample_rate == 16000 and frames[0].to_ndarray()[0][0] == 1000
    mic.stop()
    assert fake_pyaudio.streams[0].closed


def test_pyaudio_speaker_converts_opus_output_to_the_device(fake_pyaudio: types.ModuleType) -> None:
    speaker = PyAudioSpeaker(rate=16000, max_buffer_ms=60)
    stereo = av.AudioFrame.from_ndarray(
        np.full((1, 960 * 2), 3000, dtype=np.int16), format="s16", layout="stereo"
    )
    stereo.sample_rate, stereo.pts = 48000, 0
    for _ in range(10):  # 200 ms arrives; only 60 ms may wait for the card
        speaker.push(stereo)
    assert len(speaker._buffer) <= 16000 * 2 * 60 // 1000
    stream = fake_pyaudio.streams[0]
    stream.thread.join()
    played = np.frombuffer(bytes(stream.played), dtype=np.int16).astype(int)
    # Underruns played silence; what did play is the stereo input, downmixed and resampled,
    # and no more of it than the 60 ms the buffer keeps.
    heard = int(np.sum(np.abs(played - 3000) < 300))
    assert 0 < heard <= 16000 * 60 // 1000 + 320
    assert set(np.unique(played[np.abs(played - 3000) >= 300])) <= {0} | set(range(1, 3000))
    speaker.close()


def test_ice_configuration_never_falls_back_to_public_stun() -> None:
    config = ice.configuration([])
    assert config.iceServers == []  # an explicit empty list, not None (which means Google)
    config = ice.configuration([{"urls": ["stun:stun.example.lan:3478"]}])
    assert config.iceServers is not None and config.iceServers[0].urls == [
        "stun:stun.example.lan:3478"
    ]


async def test_host_addresses_choose_the_candidates() -> None:
    ice.use_host_addresses(["127.0.0.1"])
    pc = RTCPeerConnection(ice.configuration([]))
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    candidates = [
        line.split()[4]
        for line in pc.localDescription.sdp.splitlines()
        if line.startswith("a=candidate:")
    ]
    assert candidates and set(candidates) == {"127.0.0.1"}
    await pc.close()


async def test_ice_servers_come_from_the_exchange(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(
        config_path(
            ice_servers=[
                {"urls": ["turn:turn.example.lan:3478"], "username": "u", "credential": "c"}
            ]
        )
    )
    await exchange.start()
    client = OzWebClient(media=False)
    try:
        await client.connect(exchange.url, "201", password=PASSWORD.format("201"))
        assert client.ice_servers == [
            {"urls": ["turn:turn.example.lan:3478"], "username": "u", "credential": "c"}
        ]
    finally:
        await client.disconnect()
        await exchange.stop()


async def test_a_call_through_the_echo_canceller(login) -> None:  # type: ignore[no-untyped-def]
    from intercom.client import Call, CallState, CallType
    from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack
    from intercom.media.callmedia import MediaOptions
    from intercom.media.echo import SpeexEchoCanceller
    from tests.conftest import Recorder
    from tests.media.helpers import until

    heard = CountingAudioSink()

    def talking() -> GeneratedAudioTrack:
        mic = GeneratedAudioTrack()
        mic.play_tone((600.0,), 20.0)
        return mic

    door = await login("100", media=MediaOptions(speaker=lambda: heard))
    flat = await login(
        "201", media=MediaOptions(microphone=talking, echo_canceller=SpeexEchoCanceller)
    )
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.AUDIO)
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.accept()
    await until(lambda: heard.loud_frames > 10)  # the resident is heard through the canceller
    await call.hangUp()
    await inc.wait_for(CallState.COMPLETED)


async def test_camera_preview_on_a_display(passthrough_camera, probe) -> None:  # type: ignore[no-untyped-def]
    from intercom.client import OzCamera
    from tests.media.helpers import until

    cam = OzCamera.getCameraByName("door-camera")
    assert cam is not None
    cam.setDisplay("probe")
    await until(lambda: probe.frames > 3)
    assert (probe.width, probe.height) == (320, 240)
    cam.setDisplay(None)
    with pytest.raises(ValueError):
        cam.setDisplay("no-such-display")


async def test_file_microphone_and_recording_speaker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import wave

    from intercom.media.audio import WavFileSink, file_microphone

    source = tmp_path / "greeting.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        t = np.arange(16000) / 16000
        out.writeframes((8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes())
    mic = file_microphone(str(source))
    recording = WavFileSink(str(tmp_path / "heard.wav"), rate=16000)
    for _ in range(10):
        frame = await asyncio.wait_for(mic.recv(), 5)
        assert isinstance(frame, av.AudioFrame)
        assert np.abs(frame.to_ndarray()).max() > 1000
        recording.push(frame)
    mic.stop()
    recording.close()
    with wave.open(str(tmp_path / "heard.wav")) as heard:
        assert heard.getframerate() == 16000 and heard.getnframes() > 1000


def test_speaker_takes_call_audio_and_station_beeps(fake_pyaudio: types.ModuleType) -> None:
    from intercom.media.audio import mono_frame

    speaker = PyAudioSpeaker(rate=16000)
    stereo = av.AudioFrame.from_ndarray(
        np.full((1, 960 * 2), 3000, dtype=np.int16), format="s16", layout="stereo"
    )
    stereo.sample_rate, stereo.pts = 48000, 0
    speaker.push(stereo)
    speaker.push(mono_frame(np.full(960, 2000, dtype=np.int16), 0))  # a beep: another format
    speaker.push(stereo)
    assert len(speaker._buffer) > 0
    speaker.close()
