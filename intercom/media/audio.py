"""Audio: generated sources (silence, tones, DTMF tones), gating for early media and hold,
sinks, and the PyAudio devices (the ``audio`` extra, imported only when used); ``audio_devices``
chooses a microphone and speaker by the name configuration gives them (``AUDIO_DEVICES``).

aiortc hands us decoded Opus as 48 kHz stereo s16 in 20 ms frames and accepts mono or stereo s16
at any rate; conversion to and from a device's format is done with ``av.AudioResampler``.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)

# DTMF: (low, high) Hz for each key
DTMF_FREQUENCIES = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


def mono_frame(samples: np.ndarray[Any, Any], pts: int, rate: int = SAMPLE_RATE) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, rate)
    return frame


class GeneratedAudioTrack(MediaStreamTrack):
    """The simulated microphone: silence, unless told to play tones or DTMF digits.

    Segments are synthesised a frame at a time as they are played, so a long tone costs
    nothing up front. Paced by the clock like a sound card, 20 ms a frame."""

    kind = "audio"

    def __init__(self, amplitude: float = 0.3) -> None:
        super().__init__()
        self.amplitude = amplitude
        self._segments: deque[list[Any]] = deque()  # [frequencies, samples left, position]
        self._samples = 0
        self._start: float | None = None

    def play_tone(self, frequencies: tuple[float, ...], seconds: float) -> None:
        self._segments.append([frequencies, int(seconds * SAMPLE_RATE), 0])

    def play_silence(self, seconds: float) -> None:
        self.play_tone((), seconds)

    def play_dtmf(self, digits: str, tone: float = 0.1, gap: float = 0.08) -> None:
        for key in digits.upper():
            self.play_tone(DTMF_FREQUENCIES[key], tone)
            self.play_silence(gap)

    def _next_samples(self) -> np.ndarray[Any, Any]:
        out = np.zeros(FRAME_SAMPLES, dtype=np.float64)
        filled = 0
        while filled < FRAME_SAMPLES and self._segments:
            segment = self._segments[0]
            frequencies, left, position = segment
            n = min(left, FRAME_SAMPLES - filled)
            t = (position + np.arange(n)) / SAMPLE_RATE
            for f in frequencies:
                out[filled : filled + n] += np.sin(2 * math.pi * f * t) / len(frequencies)
            segment[1], segment[2] = left - n, position + n
            filled += n
            if segment[1] == 0:
                self._segments.popleft()
        return (out * self.amplitude * 32767).astype(np.int16)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.perf_counter()
        due = self._start + self._samples / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        frame = mono_frame(self._next_samples(), self._samples)
        self._samples += FRAME_SAMPLES
        return frame


class GatedTrack(MediaStreamTrack):
    """Passes its source through while open. Closed audio becomes silence of the same timing
    (so the far end's decoder keeps its clock); closed video is dropped."""

    def __init__(self, source: MediaStreamTrack, open_: bool = False) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self.is_open = open_
        self._opened = asyncio.Event()
        if open_:
            self._opened.set()

    def set_open(self, value: bool) -> None:
        self.is_open = value
        if value:
            self._opened.set()
        else:
            self._opened.clear()

    def request_keyframe(self) -> None:
        from .patches import _request_keyframe

        _request_keyframe(self._source)

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        while True:
            item = await self._source.recv()
            if self.is_open:
                return item
            if isinstance(item, av.AudioFrame):
                silent = np.zeros(item.samples * len(item.layout.channels), dtype=np.int16)
                frame = av.AudioFrame.from_ndarray(
                    silent.reshape(1, -1), format="s16", layout=item.layout.name
                )
                frame.sample_rate, frame.pts, frame.time_base = (
                    item.sample_rate,
                    item.pts,
                    item.time_base,
                )
                return frame

    def stop(self) -> None:
        super().stop()
        self._opened.set()


def open_pyaudio(
    rate: int, device_index: int | None, callback: Any, *, output: bool
) -> tuple[Any, Any]:
    """A 16-bit mono PortAudio stream of 20 ms blocks driven by ``callback`` (the ``audio``
    extra, imported only here); returns the PyAudio instance and the stream."""
    import pyaudio

    pa = pyaudio.PyAudio()
    direction = "output" if output else "input"
    stream = pa.open(
        format=pyaudio.paInt16,
        channels=1,
        rate=rate,
        frames_per_buffer=rate // 50,
        stream_callback=callback,
        **{direction: True, f"{direction}_device_index": device_index},
    )
    return pa, stream


class Resampler:
    """``av.AudioResampler`` for a stream whose input format may change (a call's stereo Opus,
    then the station's own mono beeps): one resampler per input format."""

    def __init__(self, rate: int, layout: str = "mono") -> None:
        self.rate, self.layout = rate, layout
        self._by_input: dict[tuple[str, str, int], av.AudioResampler] = {}

    def resample(self, frame: av.AudioFrame) -> list[av.AudioFrame]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        resampler = self._by_input.get(key)
        if resampler is None:
            resampler = self._by_input[key] = av.AudioResampler(
                format="s16", layout=self.layout, rate=self.rate
            )
        return list(resampler.resample(frame))


class AudioSink(Protocol):
    """Where received audio goes: the door speaker, a file, or nowhere."""

    def push(self, frame: av.AudioFrame) -> None: ...


class CountingAudioSink:
    """Discards audio, keeping counts and the level: the simulated speaker."""

    def __init__(self) -> None:
        self.frames = 0
        self.first_frame_at: float | None = None
        self.last_rms = 0.0
        self.loud_frames = 0
        self.listeners: list[Callable[[av.AudioFrame], None]] = []

    def push(self, frame: av.AudioFrame) -> None:
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
        self.frames += 1
        data = frame.to_ndarray().astype(np.float32)
        self.last_rms = float(np.sqrt(np.mean(data * data))) if data.size else 0.0
        if self.last_rms > 300:
            self.loud_frames += 1
        for listener in self.listeners:
            listener(frame)


class PyAudioSpeaker:
    """Plays received audio on a sound card through PortAudio (``pip install intercom[audio]``).

    A small ring buffer sits between aiortc (which has no playout clock) and the card's output
    callback: underruns play silence, overruns drop the oldest audio, keeping delay bounded."""

    def __init__(
        self, device_index: int | None = None, rate: int = 48000, max_buffer_ms: int = 60
    ) -> None:
        self._resampler = Resampler(rate)
        self._buffer = bytearray()
        self._max = rate * 2 * max_buffer_ms // 1000
        self._pa, self._stream = open_pyaudio(rate, device_index, self._callback, output=True)

    def _callback(self, _in: Any, count: int, _info: Any, _status: Any) -> tuple[bytes, int]:
        import pyaudio

        need = count * 2
        chunk = bytes(self._buffer[:need]).ljust(need, b"\0")
        del self._buffer[:need]
        return chunk, pyaudio.paContinue

    def push(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            self._buffer += bytes(out.planes[0])[: out.samples * 2]
        if len(self._buffer) > self._max:
            del self._buffer[: len(self._buffer) - self._max]

    def close(self) -> None:
        self._stream.close()
        self._pa.terminate()


class PyAudioMicrophone(MediaStreamTrack):
    """Captures from a sound card through PortAudio; the card's clock paces the frames."""

    kind = "audio"

    def __init__(self, device_index: int | None = None, rate: int = 48000) -> None:
        super().__init__()
        self._rate = rate
        self._event_loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10)
        self._samples = 0
        self._pa, self._stream = open_pyaudio(rate, device_index, self._callback, output=False)

    def _callback(self, data: bytes, _c: int, _i: Any, _s: Any) -> tuple[None, int]:
        import pyaudio

        if self._event_loop.is_closed():  # a last block after the loop ended
            return None, pyaudio.paComplete
        self._event_loop.call_soon_threadsafe(self._put, bytes(data))
        return None, pyaudio.paContinue

    def _put(self, data: bytes) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # bound the delay: drop the oldest block
        self._queue.put_nowait(data)

    async def recv(self) -> av.AudioFrame:
        data = await self._queue.get()
        samples = np.frombuffer(data, dtype=np.int16)
        frame = mono_frame(samples, self._samples, self._rate)
        self._samples += len(samples)
        return frame

    def stop(self) -> None:
        super().stop()
        self._stream.close()
        self._pa.terminate()


def file_microphone(path: str, loop: bool = True) -> MediaStreamTrack:
    """A sound file (WAV, MP3, Opus...) played as the microphone, paced in real time."""
    from aiortc.contrib.media import MediaPlayer

    player = MediaPlayer(path, loop=loop)
    if player.audio is None:
        raise ValueError(f"{path} has no audio")
    return player.audio


class WavFileSink:
    """Writes received audio to a 16-bit mono WAV file at ``rate`` (a recording speaker)."""

    def __init__(self, path: str, rate: int = 16000) -> None:
        import wave

        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        self._file = wave.open(path, "wb")  # noqa: SIM115 - open for the sink's lifetime
        self._file.setnchannels(1)
        self._file.setsampwidth(2)
        self._file.setframerate(rate)
        self.frames = 0

    def push(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            self._file.writeframes(out.to_ndarray().astype(np.int16).tobytes())
        self.frames += 1

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class AudioDevices:
    """How a station's microphone and speaker are made (when a call, or the station, needs
    them: nothing is opened by choosing)."""

    microphone: Callable[[], MediaStreamTrack]
    speaker: Callable[[], AudioSink]


#: (input device, output device, sample rate) -> the devices; PortAudio indices, None: default.
AudioFactory = Callable[[int | None, int | None, int], AudioDevices]


def _simulated(_input: int | None, _output: int | None, _rate: int) -> AudioDevices:
    return AudioDevices(microphone=GeneratedAudioTrack, speaker=CountingAudioSink)


def _pyaudio(input_device: int | None, output_device: int | None, rate: int) -> AudioDevices:
    return AudioDevices(
        microphone=lambda: PyAudioMicrophone(input_device, rate),
        speaker=lambda: PyAudioSpeaker(output_device, rate),
    )


#: Every kind of audio device by the name configuration gives it.
AUDIO_DEVICES: dict[str, AudioFactory] = {"simulated": _simulated, "pyaudio": _pyaudio}


def audio_devices(
    kind: str, input_device: int | None = None, output_device: int | None = None, rate: int = 48000
) -> AudioDevices:
    """The microphone and speaker ``kind`` names."""
    factory = AUDIO_DEVICES.get(kind)
    if factory is None:
        raise ValueError(f"unknown audio devices {kind!r}: {', '.join(sorted(AUDIO_DEVICES))}")
    return factory(input_device, output_device, rate)
