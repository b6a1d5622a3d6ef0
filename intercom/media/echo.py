"""Acoustic echo cancellation as a pluggable stage between the microphone and the call.

A door station's loudspeaker sits a few centimetres from its microphone. The sturdiest fix is
the sound server's own canceller (PipeWire's or PulseAudio's ``echo-cancel`` module, see
docs/AUDIO.md), which sees exact playback timing. This stage is the in-process alternative:
the microphone's audio is cleaned with what the speaker was given as the reference. It uses
Speex's canceller from Debian's ``libspeexdsp1`` when present. ``echo_canceller_for`` chooses
one by the name configuration gives it (``ECHO_CANCELLERS``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .audio import AudioSink, Resampler, mono_frame


class EchoCanceller(Protocol):
    sample_rate: int
    frame_samples: int

    def process(
        self, near: np.ndarray[Any, Any], far: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        """One frame of microphone (``near``) and speaker (``far``) samples, int16 mono."""
        ...


SPEEX_ECHO_SET_SAMPLING_RATE = 24


class SpeexEchoCanceller:
    """Speex's adaptive echo canceller (libspeexdsp), through ctypes."""

    def __init__(self, sample_rate: int = 16000, frame_ms: int = 20, tail_ms: int = 200) -> None:
        name = ctypes.util.find_library("speexdsp")
        if name is None:
            raise RuntimeError("libspeexdsp is not installed (Debian: libspeexdsp1)")
        self._lib = ctypes.CDLL(name)
        self._lib.speex_echo_state_init.restype = ctypes.c_void_p
        self._lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        self._lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] + [
            ctypes.POINTER(ctypes.c_int16)
        ] * 3
        self._lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        self._lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self._state = self._lib.speex_echo_state_init(
            self.frame_samples, sample_rate * tail_ms // 1000
        )
        rate = ctypes.c_int(sample_rate)
        self._lib.speex_echo_ctl(self._state, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))

    def process(
        self, near: np.ndarray[Any, Any], far: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        near16 = np.ascontiguousarray(near, dtype=np.int16)
        far16 = np.ascontiguousarray(far, dtype=np.int16)
        out = np.empty_like(near16)
        pointer = ctypes.POINTER(ctypes.c_int16)
        self._lib.speex_echo_cancellation(
            self._state,
            near16.ctypes.data_as(pointer),
            far16.ctypes.data_as(pointer),
            out.ctypes.data_as(pointer),
        )
        return out

    def close(self) -> None:
        if self._state:
            self._lib.speex_echo_state_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


class _Reference:
    """What the speaker plays, resampled to the canceller's rate, waiting to be matched."""

    def __init__(self, rate: int) -> None:
        self._resampler = Resampler(rate)
        self.samples: deque[np.ndarray[Any, Any]] = deque()
        self.count = 0
        self._limit = rate  # keep at most a second: older audio can no longer echo

    def push(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            data = out.to_ndarray().reshape(-1).astype(np.int16)
            self.samples.append(data)
            self.count += len(data)
        while self.count > self._limit:
            self.count -= len(self.samples.popleft())

    def take(self, n: int) -> np.ndarray[Any, Any]:
        out = np.zeros(n, dtype=np.int16)
        filled = 0
        while filled < n and self.samples:
            chunk = self.samples[0]
            k = min(n - filled, len(chunk))
            out[filled : filled + k] = chunk[:k]
            if k == len(chunk):
                self.samples.popleft()
            else:
                self.samples[0] = chunk[k:]
            self.count -= k
            filled += k
        return out


class TeeSink:
    """Gives each received frame to the speaker and to the canceller's reference."""

    def __init__(self, *sinks: AudioSink) -> None:
        self.sinks = sinks

    def push(self, frame: av.AudioFrame) -> None:
        for sink in self.sinks:
            sink.push(frame)


class EchoCancelledMicrophone(MediaStreamTrack):
    """A microphone track with the speaker's echo taken out."""

    kind = "audio"

    def __init__(self, microphone: MediaStreamTrack, canceller: EchoCanceller) -> None:
        super().__init__()
        self._source = microphone
        self.canceller = canceller
        self.reference = _Reference(canceller.sample_rate)
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=canceller.sample_rate)
        self._pending = np.zeros(0, dtype=np.int16)
        self._pts = 0

    def __getattr__(self, name: str) -> Any:
        # play_dtmf and the like of the microphone underneath
        return getattr(self.__dict__["_source"], name)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        n = self.canceller.frame_samples
        while len(self._pending) < n:
            frame = await self._source.recv()
            assert isinstance(frame, av.AudioFrame)
            for out in self._resampler.resample(frame):
                self._pending = np.concatenate([self._pending, out.to_ndarray().reshape(-1)])
        near, self._pending = self._pending[:n], self._pending[n:]
        cleaned = self.canceller.process(near, self.reference.take(n))
        result = mono_frame(cleaned, self._pts, self.canceller.sample_rate)
        self._pts += n
        return result

    def stop(self) -> None:
        super().stop()
        self._source.stop()


#: Every in-process canceller by the name configuration gives it; "none" where the sound
#: server cancels echo, or nothing needs cancelling.
ECHO_CANCELLERS: dict[str, Callable[[], EchoCanceller] | None] = {
    "none": None,
    "speex": SpeexEchoCanceller,
}


def echo_canceller_for(kind: str) -> Callable[[], EchoCanceller] | None:
    """What makes the canceller ``kind`` names, for ``MediaOptions.echo_canceller``."""
    if kind not in ECHO_CANCELLERS:
        raise ValueError(f"unknown echo canceller {kind!r}: {', '.join(sorted(ECHO_CANCELLERS))}")
    return ECHO_CANCELLERS[kind]
