"""``intercom bench media``: call media against two bare aiortc peers measured in the same run.

Figures, all on loopback with the synthetic camera (640x480 at 30 fps, its frame counter read
back at the receiver):

- start of a call to the first decoded video frame at the callee while it rings, and the same
  from ``createOffer`` for two bare peers;
- glass-to-glass latency (capture to decoded frame at the receiver), ours and bare;
- ``accept()`` to the first audio frame at the caller;
- CPU seconds per minute of sending video, H.264 passthrough versus aiortc encoding the same
  frames; the receiver runs in another process so only the sender is counted, and the stand-in
  encoder's (and pattern generator's) own cost is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tomli_w
from aiortc import RTCPeerConnection, RTCRtpSender

from intercom.client import Call, CallState, CallType, OzCamera, OzWebClient
from intercom.exchange.server import Exchange
from intercom.media import ice, patches
from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.displays import FrameProbe, register_display, unregister_display
from intercom.media.video import CameraMode

from . import format_table

PASSWORD = "bench-media"
MODE = CameraMode(640, 480, 30)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def write_config(directory: Path) -> Path:
    config = {
        "exchange": {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": str(directory),
            "ring_timeout": 60.0,
            # Plain ws://, as the bare aiortc baseline has no signalling server at all.
            "tls": {"enabled": False},
        },
        "extensions": [
            {"number": n, "password": PASSWORD, "privileges": ["call"]} for n in ("100", "201")
        ],
    }
    path = directory / "bench.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def latencies(probe: FrameProbe, capture_times: dict[int, float], since: float) -> list[float]:
    return [
        arrived - capture_times[value]
        for value, arrived in probe.counters
        if arrived >= since and value in capture_times and arrived > capture_times[value]
    ]


# ------------------------------------------------------------------ bare aiortc


async def bare_call(camera: SyntheticCamera, probe: FrameProbe, hold: float) -> float:
    """Two bare peers: returns createOffer -> first decoded frame, then streams ``hold`` s."""
    first = asyncio.Event()
    consumers: set[asyncio.Task[None]] = set()
    pc1, pc2 = RTCPeerConnection(ice.configuration([])), RTCPeerConnection(ice.configuration([]))

    @pc2.on("track")
    def on_track(track: Any) -> None:
        async def consume() -> None:
            try:
                while True:
                    probe.push(await track.recv())
                    first.set()
            except Exception:
                return

        consumers.add(asyncio.ensure_future(consume()))

    t0 = time.perf_counter()
    transceiver = pc1.addTransceiver(camera.subscribe(), direction="sendonly")
    transceiver.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    )
    await pc1.setLocalDescription(await pc1.createOffer())
    await pc2.setRemoteDescription(pc1.localDescription)
    await pc2.setLocalDescription(await pc2.createAnswer())
    await pc1.setRemoteDescription(pc2.localDescription)
    async with asyncio.timeout(10):
        await first.wait()
    setup = (probe.first_frame_at or 0) - t0
    await asyncio.sleep(hold)
    await pc1.close()
    await pc2.close()
    for task in consumers:
        task.cancel()
    return setup


# -------------------------------------------------------------------- our calls


class Station:
    """The exchange, a door (caller) and a flat (callee) in this process."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.flat_speaker = CountingAudioSink()
        self.door_speaker = CountingAudioSink()
        self.flat_mic = GeneratedAudioTrack()

        def door_speaker() -> CountingAudioSink:
            self.door_speaker = CountingAudioSink()
            return self.door_speaker

        def flat_mic() -> GeneratedAudioTrack:
            self.flat_mic = GeneratedAudioTrack()
            self.flat_mic.play_tone((440.0,), 600.0)  # the resident speaks as soon as heard
            return self.flat_mic

        self.door = OzWebClient(media=MediaOptions(speaker=door_speaker))
        self.flat = OzWebClient(media=MediaOptions(microphone=flat_mic))

    async def connect(self) -> None:
        address = self.exchange.url
        await self.door.connect(address, "100", password=PASSWORD)
        await self.flat.connect(address, "201", password=PASSWORD)

    async def call(self, probe: FrameProbe, hold: float) -> dict[str, float]:
        incoming: asyncio.Queue[Call] = asyncio.Queue()
        sub = self.flat.onIncomingCall(incoming.put_nowait)
        probe.first_frame_at = None
        call = self.door.createCall("201", CallType.VIDEO)
        call.attachCamera(OzCamera.getCameraByName("bench-camera"))
        t0 = time.perf_counter()
        await call.start()
        inc = await asyncio.wait_for(incoming.get(), 10)
        sub.unsubscribe()
        inc.setRemoteDisplay("bench-probe")
        async with asyncio.timeout(10):
            while probe.first_frame_at is None:  # noqa: ASYNC110 - frames are a stream
                await asyncio.sleep(0.002)
        setup = probe.first_frame_at - t0
        ringing = inc.getCallState() is CallState.RINGING
        loud_before = self.door_speaker.loud_frames
        first_loud: list[float] = []
        self.door_speaker.listeners.append(
            lambda frame: (
                first_loud.append(time.perf_counter())
                if not first_loud and self.door_speaker.loud_frames > loud_before
                else None
            )
        )
        t_accept = time.perf_counter()
        await inc.accept()
        async with asyncio.timeout(10):
            while not first_loud:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
        await asyncio.sleep(hold)
        await call.hangUp()
        await inc.wait_for(CallState.COMPLETED)
        return {
            "setup": setup,
            "ringing_at_first_frame": float(ringing),
            "accept_to_audio": first_loud[0] - t_accept,
        }


# ------------------------------------------------------------------------ CPU


def source_cpu(camera: SyntheticCamera | None) -> float:
    """CPU the synthetic source itself has used: the stand-in encoder or the pattern drawing."""
    if camera is None:
        return 0.0
    if camera.encoder is not None:
        return camera.encoder.cpu_seconds
    return camera.raw_track.cpu_seconds if camera.raw_track is not None else 0.0


async def sending_cpu(
    exchange: Exchange, camera: SyntheticCamera | None, seconds: float
) -> tuple[float, float]:
    """CPU seconds this process spends in ``seconds`` of one video-only call whose receiver is
    another process (the exchange here is idle meanwhile). Without a camera: no call at all,
    the idle floor that the figures are taken over. Also returns the source's own share."""
    peer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom.bench.media", "answer",
        "--address", exchange.url,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert peer.stdout is not None and peer.stdin is not None
    await peer.stdout.readline()  # "ready"
    door = OzWebClient(media=MediaOptions(audio=False))
    await door.connect(exchange.url, "100", password=PASSWORD)
    call = None
    if camera is not None:
        call = door.createCall("201", CallType.VIDEO)
        call.attachCamera(OzCamera.getCameraByName("bench-camera"))
        await call.start()
        await call.wait_for(CallState.IN_CALL, timeout=10)
        assert call.media is not None
        async with asyncio.timeout(10):
            await call.media.connected.wait()
    await asyncio.sleep(1.0)  # past the first keyframe and the bitrate ramp
    usage0, own0 = resource.getrusage(resource.RUSAGE_SELF), source_cpu(camera)
    await asyncio.sleep(seconds)
    usage1, own1 = resource.getrusage(resource.RUSAGE_SELF), source_cpu(camera)
    if call is not None:
        await call.hangUp()
    await door.disconnect()
    peer.stdin.close()
    await peer.wait()
    total = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    return total, own1 - own0


async def answer(address: str) -> None:
    """The receiving side of the CPU measurement: answers every call, shows nothing."""
    client = OzWebClient(media=MediaOptions())
    client.onIncomingCall(lambda call: asyncio.ensure_future(call.accept()))
    await client.connect(address, "201", password=PASSWORD)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await client.disconnect()


# ------------------------------------------------------------------------ main


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    patches.install()
    if ice.only_loopback():
        ice.use_host_addresses(["127.0.0.1"])
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="intercom-bench-media-") as tmp:
        exchange = Exchange.from_file(write_config(Path(tmp)))
        await exchange.start()
        probe = FrameProbe()
        register_display("bench-probe", probe)
        camera = SyntheticCamera(MODE, encoded=True)
        OzCamera.register("bench-camera", camera, MODE)
        bare_camera = SyntheticCamera(MODE, encoded=True)
        try:
            station = Station(exchange)
            await station.connect()
            # Warm both paths once (imports, first encoder start).
            await station.call(probe, 0.2)
            await bare_call(bare_camera, FrameProbe(), 0.2)

            ours, bare = [], []
            ours_g2g: list[float] = []
            bare_g2g: list[float] = []
            for _ in range(args.calls):
                probe.counters.clear()
                t = time.perf_counter()
                ours.append(await station.call(probe, args.hold))
                assert camera.encoder is not None
                ours_g2g += latencies(probe, camera.encoder.capture_times, t + 0.5)
                bare_probe = FrameProbe()
                t = time.perf_counter()
                bare.append(await bare_call(bare_camera, bare_probe, args.hold))
                assert bare_camera.encoder is not None
                bare_g2g += latencies(bare_probe, bare_camera.encoder.capture_times, t + 0.5)

            setups = [o["setup"] for o in ours]
            audio = [o["accept_to_audio"] for o in ours]
            result["call_start_to_first_video_frame_while_ringing"] = {
                "calls": len(ours),
                "all_while_ringing": all(o["ringing_at_first_frame"] for o in ours),
                "p50_ms": ms(statistics.median(setups)),
                "p90_ms": ms(percentile(setups, 0.9)),
                "bare_aiortc_offer_to_first_frame_p50_ms": ms(statistics.median(bare)),
                "target_p50_ms": 300,
            }
            g50, b50 = statistics.median(ours_g2g), statistics.median(bare_g2g)
            result["glass_to_glass"] = {
                "frames": len(ours_g2g),
                "p50_ms": ms(g50),
                "p95_ms": ms(percentile(ours_g2g, 0.95)),
                "bare_aiortc_p50_ms": ms(b50),
                "bare_aiortc_frames": len(bare_g2g),
                "ratio_p50": round(g50 / b50, 2),
                "target_ratio": 1.2,
            }
            result["accept_to_first_audio_at_caller"] = {
                "p50_ms": ms(statistics.median(audio)),
                "max_ms": ms(max(audio)),
                "target_ms": 100,
            }
            await station.door.disconnect()
            await station.flat.disconnect()

            # CPU, with every other source stopped: idle (the floor, before and after),
            # passthrough, and aiortc encoding the same frames.
            camera.close()
            bare_camera.close()
            floor_before, _ = await sending_cpu(exchange, None, args.cpu_seconds)
            encoded = SyntheticCamera(MODE, encoded=True)
            OzCamera.register("bench-camera", encoded, MODE)
            passthrough, stand_in = await sending_cpu(exchange, encoded, args.cpu_seconds)
            encoded.close()
            raw = SyntheticCamera(MODE, encoded=False)
            OzCamera.register("bench-camera", raw, MODE)
            transcode, generate = await sending_cpu(exchange, raw, args.cpu_seconds)
            raw.close()
            floor_after, _ = await sending_cpu(exchange, None, args.cpu_seconds)
            floor = (floor_before + floor_after) / 2
            per_minute = 60.0 / args.cpu_seconds
            pt = (passthrough - stand_in - floor) * per_minute
            tc = (transcode - generate - floor) * per_minute
            result["sending_cpu_seconds_per_minute"] = {
                # a video-only call minus the idle floor (and minus the stand-in encoder or the
                # pattern generator, reported apart)
                "passthrough": round(pt, 2),
                "aiortc_encoding": round(tc, 2),
                "idle_floor": round(floor * per_minute, 2),
                "floor_spread": round(abs(floor_before - floor_after) * per_minute, 2),
                "raw_passthrough_call": round(passthrough * per_minute, 2),
                "raw_aiortc_encoding_call": round(transcode * per_minute, 2),
                "ratio": round(max(0.0, pt) / tc, 3) if tc > 0 else None,
                "stand_in_encoder_apart": round(stand_in * per_minute, 2),
                "pattern_generator_apart": round(generate * per_minute, 2),
                "target_ratio": 0.25,
            }
        finally:
            unregister_display("bench-probe")
            OzCamera.unregister("bench-camera")
            camera.close()
            bare_camera.close()
            await exchange.stop()
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    return result


def table(result: dict[str, Any]) -> str:
    s = result["call_start_to_first_video_frame_while_ringing"]
    g = result["glass_to_glass"]
    a = result["accept_to_first_audio_at_caller"]
    c = result["sending_cpu_seconds_per_minute"]
    rows = [
        (
            "call start -> first video frame (ringing)",
            f"p50 {s['p50_ms']} ms (bare aiortc {s['bare_aiortc_offer_to_first_frame_p50_ms']} ms)",
            "<= 300 ms",
        ),
        (
            "glass-to-glass 640x480@30",
            f"p50 {g['p50_ms']} ms (bare aiortc {g['bare_aiortc_p50_ms']} ms, x{g['ratio_p50']})",
            "<= 1.2 x bare",
        ),
        (
            "accept() -> first audio at caller",
            f"p50 {a['p50_ms']} ms, max {a['max_ms']} ms",
            "<= 100 ms",
        ),
        (
            "sending CPU s/min, passthrough vs aiortc encoding",
            f"{c['passthrough']} vs {c['aiortc_encoding']} (x{c['ratio']}; stand-in encoder "
            f"{c['stand_in_encoder_apart']} apart)",
            "<= 0.25 x",
        ),
    ]
    return format_table(rows)


def main(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(args))
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    ans = sub.add_parser("answer")
    ans.add_argument("--address", required=True)
    parsed = parser.parse_args()
    if ice.only_loopback():
        ice.use_host_addresses(["127.0.0.1"])
    asyncio.run(answer(parsed.address))
