"""The seams we need inside aiortc, in one place and pinned to the version they were written for.

1. A keyframe on PLI/FIR also for pre-encoded video: aiortc only forces keyframes on frames it
   encodes itself, so a passthrough track (hardware H.264) would make a new or recovering viewer
   wait up to a whole GOP. We forward the request to ``track.request_keyframe()``.
2. RFC 4733 telephone-events: aiortc neither negotiates nor parses them. We add
   ``telephone-event`` at both clocks, 48000 (Opus's, what Chromium sends with Opus) and 8000
   (the only one Firefox, SIP phones and gateways know), on payload types aiortc does not use,
   and take those packets out of the receive path before the jitter buffer, handing each one
   to the receiver's ``dtmf_handler`` (which copes with either clock, see ``dtmf.py``).

3. aioice starts its consent-freshness task when ICE completes, even when the connection was
   closed in the meantime (a call rejected or hung up while ICE finished); that task then lives
   on for half a minute. We make it end at once on a closing connection.

4. aiortc holds received audio for a fixed four 20 ms packets before decoding. A door station
   talks over a LAN, so we hold two: 40 ms less between a resident answering and the door
   hearing them (``AUDIO_PREFETCH_FRAMES``; raise it for lossy Wi-Fi).

5. A peer connection closed while aiortc's background ``__connect`` task was still starting its
   transports makes that task fail with "RTCIceTransport is closed"; nobody awaits it, so the
   error is logged as never retrieved, and the logged traceback keeps the closed connection
   alive. A call hung up or rejected during setup does exactly that. We let the task end
   quietly when its connection is closed.

Every patch is applied at most once: the versions are checked before anything is touched, and
a function already wrapped is not wrapped again, so a retried ``install()`` (after a version
error, or from a second media stack in the same process) never stacks a second wrapper.

``tests/unit/test_media_patches.py``, ``tests/unit/test_media_parts.py`` and
``tests/media/test_teardown.py`` cover them; a new aiortc or aioice version must pass them
before the pins in pyproject.toml move.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import aioice
import aioice.ice
import aiortc
from aiortc import RTCPeerConnection, RTCRtpCodecParameters, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import CODECS
from aiortc.rtp import RtpPacket

SUPPORTED_AIORTC = ("1.16.",)
SUPPORTED_AIOICE = ("0.13.",)
TELEPHONE_EVENT = "audio/telephone-event"
#: payload type of telephone-event by clock rate; the offer lists them in this order. 126 for
#: 48000 is what earlier versions offered (re-offers keep their payload types); both lie above
#: every payload type aiortc assigns itself (96..102), as BUNDLE needs them unique.
TELEPHONE_EVENT_PTS = {48000: 126, 8000: 127}
TELEPHONE_EVENT_PT = TELEPHONE_EVENT_PTS[48000]

AUDIO_PREFETCH_FRAMES = 2

_installed = False
#: set on each wrapper we install, so that a second install() recognises it
_PATCHED = "__intercom_patch__"


def _request_keyframe(track: Any) -> None:
    """Walk through relays and gates to the track that can make a keyframe."""
    seen = 0
    while track is not None and seen < 8:
        request = getattr(track, "request_keyframe", None)
        if callable(request):
            request()
            return
        track = getattr(track, "_source", None)
        seen += 1


def _check_versions() -> None:
    """Refuse versions the patches were not written for, before any of them is applied: a
    half-patched aiortc would otherwise be left behind by the error."""
    if not aiortc.__version__.startswith(SUPPORTED_AIORTC):
        raise RuntimeError(
            f"intercom's aiortc patches were written for aiortc {SUPPORTED_AIORTC}, "
            f"not {aiortc.__version__}"
        )
    if not aioice.__version__.startswith(SUPPORTED_AIOICE):
        raise RuntimeError(
            f"intercom's aioice patch was written for aioice {SUPPORTED_AIOICE}, "
            f"not {aioice.__version__}"
        )


def is_patched(function: Any) -> bool:
    """Whether ``function`` is one of our wrappers (its original is ``function.__wrapped__``)."""
    return bool(getattr(function, _PATCHED, False))


def _wrap(owner: type, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
    """Replace ``owner.name`` with ``make(original)``, unless it is our wrapper already."""
    original = getattr(owner, name)
    if is_patched(original):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, _PATCHED, True)
    setattr(owner, name, wrapper)


def _send_keyframe(original: Callable[[RTCRtpSender], None]) -> Callable[..., Any]:
    def send_keyframe(self: RTCRtpSender) -> None:
        original(self)
        _request_keyframe(self.track)

    return send_keyframe


def _handle_rtp(original: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    async def handle_rtp(self: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int) -> None:
        codecs: dict[int, RTCRtpCodecParameters] = self._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        codec = codecs.get(packet.payload_type)
        if codec is not None and codec.mimeType.lower() == TELEPHONE_EVENT:
            handler: Callable[[RtpPacket], None] | None = getattr(self, "dtmf_handler", None)
            if handler is not None and self._enabled:
                handler(packet)
            return
        await original(self, packet, arrival_time_ms)

    return handle_rtp


def _receiver_init(original: Callable[..., None]) -> Callable[..., Any]:
    from aiortc.jitterbuffer import JitterBuffer

    def receiver_init(self: RTCRtpReceiver, kind: str, transport: Any) -> None:
        original(self, kind, transport)
        if kind == "audio":
            self._RTCRtpReceiver__jitter_buffer = JitterBuffer(  # type: ignore[attr-defined]
                capacity=16, prefetch=AUDIO_PREFETCH_FRAMES
            )

    return receiver_init


def _connect(original: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    async def connect(self: RTCPeerConnection) -> None:
        try:
            await original(self)
        except Exception:
            if not self._RTCPeerConnection__isClosed:  # type: ignore[attr-defined]
                raise

    return connect


def _query_consent(original: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    async def query_consent(self: aioice.ice.Connection) -> None:
        if getattr(self, "_closing", False):
            return
        await original(self)

    return query_consent


def install() -> None:
    """Apply the patches (numbered as in this module's docstring); safe to call again."""
    global _installed
    if _installed:
        return
    _check_versions()
    _wrap(RTCRtpSender, "_send_keyframe", _send_keyframe)  # 1
    for clock_rate, payload_type in TELEPHONE_EVENT_PTS.items():  # 2
        if not any(
            c.mimeType == TELEPHONE_EVENT and c.clockRate == clock_rate for c in CODECS["audio"]
        ):
            CODECS["audio"].append(
                RTCRtpCodecParameters(
                    mimeType=TELEPHONE_EVENT,
                    clockRate=clock_rate,
                    channels=1,
                    payloadType=payload_type,
                    parameters={"0-15": None},
                )
            )
    _wrap(RTCRtpReceiver, "_handle_rtp_packet", _handle_rtp)  # 2
    _wrap(aioice.ice.Connection, "query_consent", _query_consent)  # 3
    _wrap(RTCRtpReceiver, "__init__", _receiver_init)  # 4
    _wrap(RTCPeerConnection, "_RTCPeerConnection__connect", _connect)  # 5
    _installed = True
