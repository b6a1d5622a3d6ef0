"""DTMF on the media path: RFC 4733 telephone-events (parse and send) and in-band tones
(a Goertzel detector). Signalling DTMF needs no media and is handled by the exchange."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiortc import RTCRtpSender
from aiortc.rtp import RtpPacket
from aiortc.sdp import SessionDescription

from .audio import DTMF_FREQUENCIES

EVENT_KEYS = "0123456789*#ABCD"


@dataclass(frozen=True)
class TelephoneEvent:
    key: str
    end: bool
    volume: int
    duration: int  # in RTP clock units


def parse_event(payload: bytes) -> TelephoneEvent | None:
    """RFC 4733 §2.3: event, E|R|volume, duration. Events above 15 are not DTMF."""
    if len(payload) < 4:
        return None
    event, flags, duration = struct.unpack("!BBH", payload[:4])
    if event >= len(EVENT_KEYS):
        return None
    return TelephoneEvent(EVENT_KEYS[event], bool(flags & 0x80), flags & 0x3F, duration)


def build_event(key: str, end: bool, duration: int, volume: int = 10) -> bytes:
    return struct.pack("!BBH", EVENT_KEYS.index(key), (0x80 if end else 0) | volume, duration)


class Rfc4733Receiver:
    """Turns telephone-event packets into one digit per event, at any clock rate.

    An event is named by its RTP timestamp, which every packet of it repeats (RFC 4733
    §2.5.1.2), and reported on its first end packet: later ends of the same event (sent three
    times, or retransmitted) are dropped, and an end whose start packets were lost still counts.
    The duration field is never read. That makes 8000 and 48000 Hz alike (durations are in the
    clock's units) and makes harmless the end packets Chromium sends at 8000 Hz with a wrong or
    zero duration."""

    #: ended events remembered per receiver; far more than can be in flight at once
    MEMORY = 64

    def __init__(self, on_digit: Callable[[str], None]) -> None:
        self._on_digit = on_digit
        self._done: dict[tuple[int, int], None] = {}

    def __call__(self, packet: RtpPacket) -> None:
        event = parse_event(packet.payload)
        if event is None or not event.end:
            return
        key = (packet.ssrc, packet.timestamp)
        if key in self._done:
            return
        self._done[key] = None
        if len(self._done) > self.MEMORY:
            self._done.pop(next(iter(self._done)))
        self._on_digit(event.key)


def choose_telephone_event(sdp: str, mid: str | None = None) -> tuple[int, int] | None:
    """The (payload type, clock rate) to send telephone-events with, from the far end's SDP.

    Of the telephone-events the audio section lists, the one at the clock of the audio codec
    (the first other codec listed) wins, as in libwebrtc: Opus gets 48000, PCMU or G.722 get
    8000. Otherwise the first one listed: an answer from Firefox carries /8000 alone."""
    for media in SessionDescription.parse(sdp).media:
        if media.kind != "audio" or (mid is not None and media.rtp.muxId != mid):
            continue
        events = [
            (c.payloadType, c.clockRate)
            for c in media.rtp.codecs
            if c.mimeType.lower() == "audio/telephone-event" and c.payloadType is not None
        ]
        if not events:
            return None
        audio = [c.clockRate for c in media.rtp.codecs if c.mimeType.lower() not in _NOT_AUDIO]
        return next((e for e in events if audio and e[1] == audio[0]), events[0])
    return None


#: codecs in an audio section that do not carry the voice
_NOT_AUDIO = {"audio/telephone-event", "audio/cn", "audio/red", "audio/rtx"}


class RtpDtmfSender:
    """Sends digits as RFC 4733 packet trains next to a call's audio, like a browser's
    ``RTCDTMFSender``. It uses its own SSRC (aiortc keeps the audio sequence private), which
    receivers route by the MID header extension. Durations and timestamps count in the
    negotiated event clock (8000 or 48000 Hz)."""

    def __init__(self, sender: RTCRtpSender, payload_type: int, clock_rate: int = 48000) -> None:
        self._sender = sender
        self._pt = payload_type
        self._clock = clock_rate
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)

    async def _send(self, payload: bytes, marker: bool) -> None:
        packet = RtpPacket(
            payload_type=self._pt,
            sequence_number=self._seq,
            timestamp=self._timestamp,
            ssrc=self._ssrc,
            payload=payload,
            marker=int(marker),
        )
        packet.extensions.mid = self._sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        ext_map = self._sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        await self._sender.transport._send_rtp(packet.serialize(ext_map))
        self._seq = (self._seq + 1) & 0xFFFF

    async def send(self, digits: str, tone_ms: int = 100, gap_ms: int = 70) -> None:
        step = self._clock // 50  # a packet every 20 ms
        for key in digits.upper():
            total = self._clock * tone_ms // 1000
            duration = step
            first = True
            while duration < total:
                await self._send(build_event(key, False, duration), first)
                first = False
                duration += step
                await asyncio.sleep(0.02)
            for _ in range(3):  # the end packet, three times
                await self._send(build_event(key, True, total), False)
            self._timestamp = (self._timestamp + total + self._clock * gap_ms // 1000) & 0xFFFFFFFF
            await asyncio.sleep(gap_ms / 1000)


class GoertzelDetector:
    """In-band DTMF on 8 kHz mono audio, 205-sample blocks (ITU's classic size), with a
    tone-to-total energy check, twist limits and one report per key press."""

    ROWS = (697, 770, 852, 941)
    COLS = (1209, 1336, 1477, 1633)
    BLOCK = 205
    RATE = 8000

    def __init__(self, on_digit: Callable[[str], None]) -> None:
        self._on_digit = on_digit
        self._pending = np.zeros(0, dtype=np.float64)
        self._current: str | None = None
        self._streak = 0
        self._coeffs = {f: 2 * np.cos(2 * np.pi * f / self.RATE) for f in self.ROWS + self.COLS}
        self._keys = {v: k for k, v in DTMF_FREQUENCIES.items()}

    def _power(self, block: np.ndarray[Any, Any], freq: int) -> float:
        coeff = self._coeffs[freq]
        s1 = s2 = 0.0
        for x in block:
            s0 = x + coeff * s1 - s2
            s2, s1 = s1, s0
        return float(s1 * s1 + s2 * s2 - coeff * s1 * s2)

    def _classify(self, block: np.ndarray[Any, Any]) -> str | None:
        energy = float(np.dot(block, block)) * len(block) / 2
        if energy < 1e6:
            return None
        rows = [self._power(block, f) for f in self.ROWS]
        cols = [self._power(block, f) for f in self.COLS]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        if rows[r] + cols[c] < 0.5 * energy:
            return None  # not mostly two tones
        if not 0.1 < rows[r] / max(cols[c], 1e-9) < 10:
            return None  # twist too large
        return self._keys.get((self.ROWS[r], self.COLS[c]))

    def feed(self, samples: np.ndarray[Any, Any]) -> None:
        self._pending = np.concatenate([self._pending, samples.astype(np.float64)])
        while len(self._pending) >= self.BLOCK:
            block, self._pending = self._pending[: self.BLOCK], self._pending[self.BLOCK :]
            key = self._classify(block)
            if key is not None and key == self._current:
                self._streak += 1
                if self._streak == 2:  # at least ~50 ms of the same key
                    self._on_digit(key)
            else:
                self._current, self._streak = key, 1 if key else 0
