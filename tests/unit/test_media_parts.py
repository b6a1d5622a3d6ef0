"""Media parts without a network: counters, RFC 4733, Goertzel, gates, the aiortc seams,
the picamera2 seam (with a stand-in encoder thread), and camera settings."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import types
from typing import Any

import av
import numpy as np
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import CODECS
from aiortc.rtp import RtpPacket

from intercom.client import OzCamera
from intercom.media import counter, patches
from intercom.media.audio import DTMF_FREQUENCIES, GatedTrack, GeneratedAudioTrack
from intercom.media.camera import PiCamera2Camera, SyntheticCamera, encoder_bitrate
from intercom.media.dtmf import GoertzelDetector, Rfc4733Receiver, build_event, parse_event
from intercom.media.video import CameraMode, PacketOutput, PatternGenerator


def test_counter_round_trips() -> None:
    luma = np.zeros((240, 320), dtype=np.uint8)
    for value in (0, 1, 255, 4096, 65535, 70000):
        counter.paint(luma, value)
        assert counter.read(luma) == value & 0xFFFF


def test_counter_survives_h264() -> None:
    pattern = PatternGenerator(320, 240)
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
    enc.options = {"preset": "ultrafast", "tune": "zerolatency"}
    dec = av.CodecContext.create("h264", "r")
    seen = []
    for _ in range(10):
        for packet in enc.encode(pattern.next_frame()):
            for frame in dec.decode(packet):
                gray: Any = frame.to_ndarray(format="gray")
                seen.append(counter.read(gray))
    assert seen == list(range(len(seen))) and len(seen) >= 5


def test_rfc4733_events() -> None:
    payload = build_event("#", True, 4800)
    event = parse_event(payload)
    assert event is not None and (event.key, event.end, event.duration) == ("#", True, 4800)
    assert parse_event(b"\x10\x80\x00\x10") is None  # event 16 is not DTMF
    assert parse_event(b"\x01") is None
    got: list[str] = []
    receive = Rfc4733Receiver(got.append)
    for ts, key in ((1000, "1"), (9000, "2")):
        for end in (False, False, True, True, True):  # start, continuation, end x3
            receive(
                RtpPacket(
                    payload_type=126, timestamp=ts, ssrc=7, payload=build_event(key, end, 960)
                )
            )
    assert got == ["1", "2"]


def dtmf_samples(keys: str, rate: int = 8000) -> np.ndarray[Any, Any]:
    out = []
    for key in keys:
        low, high = DTMF_FREQUENCIES[key]
        t = np.arange(int(0.08 * rate)) / rate
        out.append(6000 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)))
        out.append(np.zeros(int(0.06 * rate)))
    return np.concatenate(out)


def test_goertzel_detects_every_key_and_ignores_noise() -> None:
    got: list[str] = []
    detector = GoertzelDetector(got.append)
    keys = "0123456789*#ABCD"
    rng = np.random.default_rng(1)
    samples = dtmf_samples(keys)
    detector.feed(samples + rng.normal(0, 800, len(samples)))
    assert "".join(got) == keys
    got.clear()
    detector.feed(rng.normal(0, 3000, 8000))  # a second of loud noise
    detector.feed(3000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000))  # a single tone
    assert got == []


async def test_gate_gives_silence_of_the_same_timing() -> None:
    mic = GeneratedAudioTrack()
    mic.play_tone((1000.0,), 1.0)
    gate = GatedTrack(mic)
    closed = await gate.recv()
    assert not closed.to_ndarray().any() and closed.samples == 960
    gate.set_open(True)
    opened = await gate.recv()
    assert opened.to_ndarray().any() and opened.pts == closed.pts + 960
    gate.stop()
    mic.stop()


def test_patches_install_telephone_event_and_keyframe_forwarding() -> None:
    patches.install()
    patches.install()  # idempotent
    events = [c for c in CODECS["audio"] if c.mimeType == patches.TELEPHONE_EVENT]
    assert [(c.clockRate, c.payloadType) for c in events] == [(48000, 126), (8000, 127)]

    class Source:
        requests = 0

        def request_keyframe(self) -> None:
            Source.requests += 1

    class Relay:  # as aiortc's relay proxy: the source behind ``_source``
        kind = "video"
        _source = Source()

    receiver = RTCRtpReceiver("audio", types.SimpleNamespace(state="new"))  # type: ignore[arg-type]
    assert receiver._RTCRtpReceiver__jitter_buffer._prefetch == patches.AUDIO_PREFETCH_FRAMES  # type: ignore[attr-defined]

    sender = RTCRtpSender.__new__(RTCRtpSender)
    sender._RTCRtpSender__force_keyframe = False  # type: ignore[attr-defined]
    sender._RTCRtpSender__track = Relay()  # type: ignore[attr-defined]
    sender._send_keyframe()
    assert Source.requests == 1


async def test_packet_output_takes_frames_from_another_thread() -> None:
    output = PacketOutput(asyncio.get_running_loop(), maxsize=3)

    def encoder_thread() -> None:  # as picamera2's encoder: bytes, keyframe, µs stamp
        for n in range(5):
            output.outputframe(b"\x00\x00\x00\x01\x65" + bytes([n]), n == 0, n * 33_333)

    thread = threading.Thread(target=encoder_thread)
    thread.start()
    thread.join()
    packets = [await asyncio.wait_for(output.queue.get(), 1) for _ in range(3)]
    # bounded: the two oldest were dropped, order kept, stamps in µs
    assert [bytes(p)[-1] for p in packets] == [2, 3, 4]
    assert packets[0].pts == 66_666 and packets[0].time_base.denominator == 1_000_000
    assert output.queue.empty()


async def test_picamera2_source_uses_the_hardware_encoder_path(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """picamera2 is Pi-only; a stand-in module with its API shape checks our use of it."""
    calls: dict[str, Any] = {}

    class Output:
        def __init__(self) -> None:
            calls["output_init"] = True

    class H264Encoder:
        def __init__(self, **kwargs: Any) -> None:
            calls["encoder"] = kwargs
            self.forced = 0

        def force_key_frame(self) -> None:
            self.forced += 1

    class Picamera2:
        def __init__(self, index: int) -> None:
            calls["index"] = index

        def create_video_configuration(self, **kwargs: Any) -> dict[str, Any]:
            return kwargs

        def configure(self, config: dict[str, Any]) -> None:
            calls["config"] = config

        def start_recording(self, encoder: H264Encoder, output: Any) -> None:
            calls["encoder_obj"] = encoder
            # the encoder thread delivers a frame
            threading.Thread(
                target=output.outputframe, args=(b"\x00\x00\x00\x01\x67", True, 0)
            ).start()

        def stop_recording(self) -> None:
            calls["stopped"] = True

        def close(self) -> None:
            calls["closed"] = True

    root = types.ModuleType("picamera2")
    root.Picamera2 = Picamera2  # type: ignore[attr-defined]
    encoders = types.ModuleType("picamera2.encoders")
    encoders.H264Encoder = H264Encoder  # type: ignore[attr-defined]
    outputs = types.ModuleType("picamera2.outputs")
    outputs.Output = Output  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", root)
    monkeypatch.setitem(sys.modules, "picamera2.encoders", encoders)
    monkeypatch.setitem(sys.modules, "picamera2.outputs", outputs)

    camera = PiCamera2Camera(0, CameraMode(1280, 720, 30))
    track = camera.subscribe()
    packet = await asyncio.wait_for(track.recv(), 2)
    assert isinstance(packet, av.Packet)
    assert bytes(packet) == b"\x00\x00\x00\x01\x67"
    assert calls["encoder"]["profile"] == "baseline" and calls["encoder"]["repeat"] is True
    assert calls["config"]["main"]["size"] == (1280, 720)
    assert calls["encoder_obj"].forced >= 1  # a new viewer asked for a keyframe
    camera.close()
    assert calls["stopped"] and calls["closed"]


def test_pi_and_audio_packages_are_imported_lazily() -> None:
    code = (
        "import sys, intercom.client, intercom.media.camera, intercom.media.audio, "
        "intercom.media.callmedia; "
        "print(sorted(m for m in ('picamera2', 'pyaudio', 'gpiozero') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_camera_quality_reaches_the_source() -> None:
    source = SyntheticCamera(CameraMode(640, 480, 30), encoded=True)
    OzCamera.register("quality-test", source, source.mode)
    try:
        cam = OzCamera.getCameraByName("quality-test")
        assert cam is not None
        cam.setQuality(125_000, 0)  # bytes per second
        assert source.bitrate == 1_000_000
        cam.setMode(1280, 720, 15)
        cam.setQuality(0, 100)
        assert source.mode == CameraMode(1280, 720, 15)
        assert source.bitrate == encoder_bitrate(source.mode, 0, 100)
        assert encoder_bitrate(source.mode, 0, 10) < source.bitrate
    finally:
        OzCamera.unregister("quality-test")


def test_snapshot_display_keeps_the_latest_frame(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from intercom.media.displays import SnapshotDisplay

    display = SnapshotDisplay()
    assert display.save(tmp_path / "none.jpg") is False
    pattern = PatternGenerator(320, 240)
    display.push(pattern.next_frame())
    display.push(pattern.next_frame())
    assert display.save(tmp_path / "door.jpg")
    assert Image.open(tmp_path / "door.jpg").size == (320, 240)
