"""Video tracks: a synthetic moving test pattern, and pre-encoded H.264 packets fed from an
encoder thread (picamera2's hardware encoder, or a PyAV stand-in with the same interface)."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import counter


@dataclass(frozen=True)
class CameraMode:
    width: int = 640
    height: int = 480
    fps: int = 30


VIDEO_CLOCK = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
MICROSECONDS = fractions.Fraction(1, 1_000_000)


class PatternGenerator:
    """Frames of a moving, textured test pattern with the frame counter painted in (yuv420p).

    The texture is there so that encoders work about as hard as on a camera's picture: a flat
    gradient costs x264 next to nothing and would flatter every CPU figure."""

    def __init__(self, width: int, height: int, seed: int = 7) -> None:
        self.width = width - width % 32
        self.height = height - height % 2
        self.index = 0
        rng = np.random.default_rng(seed)
        coarse = rng.integers(40, 210, (self.height // 8 + 2, (self.width + 256) // 8 + 2))
        texture = np.kron(coarse, np.ones((8, 8)))[: self.height, : self.width + 256]
        fine = rng.integers(-12, 12, texture.shape)
        self._texture = np.clip(texture + fine, 16, 235).astype(np.uint8)
        self._chroma = np.full((self.height // 2, self.width), 128, dtype=np.uint8)

    def next_frame(self) -> av.VideoFrame:
        h, w = self.height, self.width
        shift = (self.index * 2) % 256
        luma = self._texture[:, shift : shift + w].copy()
        bar = (self.index * 8) % max(1, h - 40) + 32
        luma[bar : bar + 8, :] = 200
        counter.paint(luma, self.index)
        frame = av.VideoFrame.from_ndarray(np.vstack([luma, self._chroma]), format="yuv420p")
        self.index += 1
        return frame


class SyntheticVideoTrack(MediaStreamTrack):
    """Raw frames at a steady rate; aiortc encodes them (VP8 or H.264)."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        self.fps = fps
        self.pattern = PatternGenerator(width, height)
        self.capture_times: dict[int, float] = {}  # counter -> time.perf_counter() at capture
        self.cpu_seconds = 0.0  # spent drawing the pattern, reported apart in benchmarks
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.perf_counter()
        index = self.pattern.index
        due = self._start + index / self.fps
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        cpu = time.thread_time()
        frame = self.pattern.next_frame()
        self.cpu_seconds += time.thread_time() - cpu
        frame.pts = int(index * VIDEO_CLOCK / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        self._note_capture(index & 0xFFFF)
        return frame

    def _note_capture(self, value: int) -> None:
        self.capture_times[value] = time.perf_counter()
        if len(self.capture_times) > 4096:
            self.capture_times.pop(next(iter(self.capture_times)))


class PacketOutput:
    """picamera2's ``Output`` interface: ``outputframe`` is called from the encoder's thread.

    Packets cross into the event loop through ``call_soon_threadsafe`` and wait in a bounded
    queue; when a stalled consumer lets it fill, the oldest packet is dropped (and the next
    keyframe repairs the picture)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 30) -> None:
        self._loop = loop
        self.queue: asyncio.Queue[av.Packet[Any]] = asyncio.Queue(maxsize)
        self.recording = True

    def outputframe(
        self,
        frame: bytes,
        keyframe: bool = True,
        timestamp: int | None = None,
        packet: Any = None,
        audio: bool = False,
    ) -> None:
        if audio:
            return
        pkt = av.Packet(frame)
        pkt.pts = pkt.dts = timestamp or 0  # µs from the first frame
        pkt.time_base = MICROSECONDS  # aiortc's pack() needs pts and time_base
        pkt.is_keyframe = keyframe
        self._loop.call_soon_threadsafe(self._put, pkt)

    def _put(self, pkt: av.Packet[Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(pkt)

    # picamera2 calls these on its outputs
    def start(self) -> None:
        self.recording = True

    def stop(self) -> None:
        self.recording = False


class EncodedVideoTrack(MediaStreamTrack):
    """Pre-encoded Annex-B H.264 ``av.Packet``s, passed through aiortc without re-encoding."""

    kind = "video"

    def __init__(self, output: PacketOutput, request_keyframe: Callable[[], None]) -> None:
        super().__init__()
        self._output = output
        self._request = request_keyframe
        self.keyframe_requests = 0

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._output.queue.get()

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._request()


class StandInH264Encoder:
    """Encodes the synthetic pattern with libx264 on its own thread and hands the bytes to an
    output exactly as picamera2's ``H264Encoder`` does (baseline, headers repeated, µs stamps,
    ``force_key_frame()``). It makes the passthrough path run without a Pi."""

    def __init__(
        self, width: int, height: int, fps: int, bitrate: int = 1_500_000, iperiod: int = 60
    ) -> None:
        self.pattern = PatternGenerator(width, height)
        self.fps = fps
        self.bitrate = bitrate
        self.iperiod = iperiod
        self.output: PacketOutput | None = None
        self.capture_times: dict[int, float] = {}
        self.cpu_seconds = 0.0  # thread CPU time spent encoding, reported apart in benchmarks
        self.force_requests = 0
        self._force = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def force_key_frame(self) -> None:
        self.force_requests += 1
        self._force.set()

    def start(self, output: PacketOutput) -> None:
        self.output = output
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="h264-stand-in", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _codec(self) -> Any:
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height = self.pattern.width, self.pattern.height
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = MICROSECONDS
        ctx.framerate = fractions.Fraction(self.fps, 1)
        ctx.bit_rate = self.bitrate
        ctx.profile = "baseline"
        # One thread: x264's own worker threads would hide the stand-in's cost from the
        # thread-CPU figure that benchmarks report apart (a Pi's encoder is hardware).
        ctx.thread_count = 1
        ctx.options = {
            "threads": "1",
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={self.iperiod}:min-keyint={self.iperiod}:repeat-headers=1"
            ":scenecut=0",
        }
        return ctx

    def _run(self) -> None:
        ctx = self._codec()
        start = time.perf_counter()
        n = 0
        while not self._stop.is_set():
            due = start + n / self.fps
            delay = due - time.perf_counter()
            if delay > 0 and self._stop.wait(delay):
                break
            t_cpu = time.thread_time()
            index = self.pattern.index
            frame = self.pattern.next_frame()
            self.capture_times[index & 0xFFFF] = time.perf_counter()
            if len(self.capture_times) > 4096:
                self.capture_times.pop(next(iter(self.capture_times)))
            stamp = int((time.perf_counter() - start) * 1_000_000)
            frame.pts = stamp
            frame.time_base = MICROSECONDS
            if self._force.is_set():
                self._force.clear()
                frame.pict_type = av.video.frame.PictureType.I
            for packet in ctx.encode(frame):
                data = bytes(packet)
                if self.output is not None:
                    self.output.outputframe(data, bool(packet.is_keyframe), stamp)
            self.cpu_seconds += time.thread_time() - t_cpu
            n += 1
