"""Camera sources behind ``OzCamera``: picamera2 (Pi), V4L2/USB (PyAV), and a synthetic pattern;
``camera_for`` makes the one a configuration names, from ``CAMERAS``.

A source produces one stream and shares it through aiortc's ``MediaRelay`` with every peer that
shows it (forked ringing, listeners), so it is captured and encoded once. Encoded sources
(picamera2's hardware H.264, the stand-in encoder, a UVC camera's own H.264) are passed through
aiortc without re-encoding; a keyframe is requested on PLI/FIR and for every new viewer.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from .video import (
    CameraMode,
    EncodedVideoTrack,
    PacketOutput,
    StandInH264Encoder,
    SyntheticVideoTrack,
)

log = logging.getLogger(__name__)


def encoder_bitrate(mode: CameraMode, bandwidth: int, quality: int) -> int:
    """``OzCamera.setQuality`` in encoder terms: bandwidth is bytes per second (0: as needed),
    quality 1..100 (0: let it vary to keep the bandwidth)."""
    if bandwidth > 0:
        return bandwidth * 8
    pixels_per_second = mode.width * mode.height * mode.fps
    q = quality or 60
    return int(pixels_per_second * (0.02 + 0.13 * q / 100))


class CameraSource(ABC):
    """One physical (or simulated) camera."""

    #: True when the source hands aiortc H.264 packets rather than raw frames.
    encoded: bool = False

    def __init__(self, mode: CameraMode | None = None) -> None:
        self.mode = mode or CameraMode()
        self.bitrate = encoder_bitrate(self.mode, 0, 0)
        self._relay = MediaRelay()
        self._track: MediaStreamTrack | None = None
        self.viewers = 0

    def configure(self, mode: CameraMode, bandwidth: int, quality: int) -> None:
        """Applies from the next start: a running stream is shared and is not disturbed."""
        self.mode = mode
        self.bitrate = encoder_bitrate(mode, bandwidth, quality)

    def subscribe(self) -> MediaStreamTrack:
        """A track for one more viewer; starts the camera on first use."""
        if self._track is None:
            self._track = self._open()
        self.viewers += 1
        self.request_keyframe()  # a new viewer cannot decode until the next keyframe
        return self._relay.subscribe(self._track, buffered=False)

    @abstractmethod
    def _open(self) -> MediaStreamTrack: ...

    def request_keyframe(self) -> None:  # noqa: B027 - raw sources: aiortc makes keyframes
        """Ask the encoder for a keyframe (encoded sources)."""

    def close(self) -> None:
        if self._track is not None:
            self._track.stop()
            self._track = None


class SyntheticCamera(CameraSource):
    """A moving test pattern with a frame counter, as raw frames (aiortc encodes them) or as
    H.264 from a stand-in encoder thread (the Pi's passthrough path, without a Pi)."""

    def __init__(self, mode: CameraMode | None = None, encoded: bool = False) -> None:
        super().__init__(mode)
        self.encoded = encoded
        self.encoder: StandInH264Encoder | None = None
        self.raw_track: SyntheticVideoTrack | None = None

    def _open(self) -> MediaStreamTrack:
        m = self.mode
        if not self.encoded:
            self.raw_track = SyntheticVideoTrack(m.width, m.height, m.fps)
            return self.raw_track
        self.encoder = StandInH264Encoder(m.width, m.height, m.fps, self.bitrate, iperiod=2 * m.fps)
        output = PacketOutput(asyncio.get_running_loop())
        self.encoder.start(output)
        return EncodedVideoTrack(output, self.encoder.force_key_frame)

    def request_keyframe(self) -> None:
        if self.encoder is not None:
            self.encoder.force_key_frame()

    def capture_times(self) -> dict[int, float]:
        if self.encoder is not None:
            return self.encoder.capture_times
        return self.raw_track.capture_times if self.raw_track is not None else {}

    def close(self) -> None:
        if self.encoder is not None:
            self.encoder.stop()
            self.encoder = None
        super().close()


class V4L2Camera(CameraSource):
    """A USB/V4L2 camera through PyAV; ``encoded=True`` takes the camera's own H.264."""

    def __init__(
        self,
        device: str = "/dev/video0",
        mode: CameraMode | None = None,
        encoded: bool = False,
        input_format: str = "v4l2",
    ) -> None:
        super().__init__(mode)
        self.device = device
        self.encoded = encoded
        self.input_format = input_format  # "v4l2"; other FFmpeg inputs for bring-up and tests
        self._player: MediaPlayer | None = None

    def _open(self) -> MediaStreamTrack:
        m = self.mode
        options = {"video_size": f"{m.width}x{m.height}", "framerate": str(m.fps)}
        if self.encoded:
            options["input_format"] = "h264"
        if self.input_format != "v4l2":
            options = {}
        self._player = MediaPlayer(
            self.device, format=self.input_format, options=options, decode=not self.encoded
        )
        assert self._player.video is not None
        return self._player.video

    def close(self) -> None:
        super().close()
        self._player = None


class PiCamera2Camera(CameraSource):
    """The Pi camera: picamera2's H.264 encoder (hardware on a Pi 4, libx264 on a Pi 5) feeding
    aiortc as packets. picamera2 is imported only here, when the camera starts."""

    encoded = True

    def __init__(self, index: int = 0, mode: CameraMode | None = None) -> None:
        super().__init__(mode)
        self.index = index
        self._camera: Any = None
        self._encoder: Any = None

    def _open(self) -> MediaStreamTrack:
        from picamera2 import Picamera2  # Pi only
        from picamera2.encoders import H264Encoder
        from picamera2.outputs import Output

        m = self.mode
        loop = asyncio.get_running_loop()

        class AiortcOutput(PacketOutput, Output):  # type: ignore[misc]
            def __init__(self) -> None:
                Output.__init__(self)
                PacketOutput.__init__(self, loop)

        camera = Picamera2(self.index)
        camera.configure(
            camera.create_video_configuration(
                main={"size": (m.width, m.height), "format": "YUV420"},
                controls={"FrameRate": m.fps},
            )
        )
        encoder = H264Encoder(
            bitrate=self.bitrate, repeat=True, iperiod=2 * m.fps, profile="baseline"
        )
        output = AiortcOutput()
        camera.start_recording(encoder, output)
        self._camera, self._encoder = camera, encoder
        return EncodedVideoTrack(output, self.request_keyframe)

    def request_keyframe(self) -> None:
        if self._encoder is not None:
            self._encoder.force_key_frame()

    def close(self) -> None:
        if self._camera is not None:
            self._camera.stop_recording()
            self._camera.close()
            self._camera = self._encoder = None
        super().close()


#: Every camera by the name configuration gives it, as the station uses it. Each is made only
#: when chosen, and picamera2 (Pi-only) is imported only when its camera starts.
CAMERAS: dict[str, Callable[[], CameraSource | None]] = {
    "picamera2": lambda: PiCamera2Camera(0, CameraMode(1280, 720, 30)),
    "v4l2": lambda: V4L2Camera("/dev/video0"),
    "synthetic": lambda: SyntheticCamera(CameraMode(640, 480, 30), encoded=True),
    "none": lambda: None,
}


def camera_for(kind: str) -> CameraSource | None:
    """The camera ``kind`` names (None for "none")."""
    factory = CAMERAS.get(kind)
    if factory is None:
        raise ValueError(f"unknown camera {kind!r}: {', '.join(sorted(CAMERAS))}")
    return factory()
