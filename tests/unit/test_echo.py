"""Echo cancellation: the stage's wiring, and Speex's canceller on a synthetic room echo."""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack, mono_frame
from intercom.media.echo import EchoCancelledMicrophone, SpeexEchoCanceller, TeeSink


class Subtract:
    """A perfect canceller for a perfect echo: near minus far."""

    sample_rate = 16000
    frame_samples = 320

    def process(
        self, near: np.ndarray[Any, Any], far: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        cleaned: np.ndarray[Any, Any] = (near.astype(np.int32) - far.astype(np.int32)).astype(
            np.int16
        )
        return cleaned


async def test_the_stage_lines_the_speaker_up_with_the_microphone() -> None:
    mic = GeneratedAudioTrack()
    mic.play_tone((700.0,), 2.0)
    cleaned = EchoCancelledMicrophone(mic, Subtract())
    speaker = CountingAudioSink()
    tee = TeeSink(speaker, cleaned.reference)
    # What the speaker plays is, here, exactly what the microphone then picks up.
    echo = GeneratedAudioTrack()
    echo.play_tone((700.0,), 2.0)
    for _ in range(12):
        tee.push(await echo.recv())
    frames = [await cleaned.recv() for _ in range(10)]  # 200 ms of the 240 ms played
    assert speaker.frames == 12
    assert all(f.sample_rate == 16000 and f.samples == 320 for f in frames)
    residual = np.concatenate([f.to_ndarray().reshape(-1) for f in frames[2:]]).astype(float)
    assert np.sqrt(np.mean(residual**2)) < 60  # the tone itself is ~7000 rms
    assert hasattr(cleaned, "play_dtmf")  # the microphone's own controls stay reachable
    cleaned.stop()
    echo.stop()


def test_speex_removes_a_room_echo() -> None:
    rate, n = 16000, 16000 * 6
    rng = np.random.default_rng(3)
    far = rng.normal(0, 3000, n)
    far = np.convolve(far, np.ones(4) / 4, mode="same")  # speech-like: no high hiss
    room = np.zeros(1600)
    room[480] = 0.6  # 30 ms to the wall and back
    room[480:1600] += 0.2 * np.exp(-np.arange(1120) / 200) * rng.normal(0, 1, 1120)
    near = np.convolve(far, room)[:n]
    canceller = SpeexEchoCanceller(rate, 20, 200)
    out = []
    for i in range(0, n, canceller.frame_samples):
        near_block = np.clip(near[i : i + 320], -32768, 32767).astype(np.int16)
        far_block = np.clip(far[i : i + 320], -32768, 32767).astype(np.int16)
        out.append(canceller.process(near_block, far_block))
    cleaned = np.concatenate(out).astype(float)
    last = slice(n - 2 * rate, n)  # after convergence
    erle = 10 * np.log10(np.mean(near[last] ** 2) / np.mean(cleaned[last] ** 2))
    assert erle > 10, erle
    canceller.close()


def test_mono_frame_shape() -> None:
    frame = mono_frame(np.zeros(320, dtype=np.int16), 0, 16000)
    assert isinstance(frame, av.AudioFrame) and frame.samples == 320
