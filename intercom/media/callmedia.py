"""The media of one call leg: one aiortc peer connection per remote party.

The party that created a peer connection offers on it and is the only one that ever re-offers
(hold and resume), so there is never glare, and a browser that offered first is never sent an
aiortc re-offer. While a call rings the caller's video already flows (early media) and both
microphones are gated to silence; answering opens the gates, with no new negotiation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import (
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import ice, patches
from .audio import AudioSink, CountingAudioSink, GatedTrack, GeneratedAudioTrack
from .camera import CameraSource
from .displays import Display, NullDisplay
from .dtmf import GoertzelDetector, Rfc4733Receiver, RtpDtmfSender, choose_telephone_event
from .echo import EchoCancelledMicrophone, EchoCanceller, TeeSink

log = logging.getLogger(__name__)

SignalSender = Callable[[str, str, str | None], Awaitable[None]]
#: (key, source "rtp" or "inband", the id of the peer connection it came from): who may enter
#: a door code depends on which party the digit came from, so the peer is never dropped.
DtmfHandler = Callable[[str, str, str], None]


@dataclass
class MediaOptions:
    """How a client's calls carry media. The defaults are the simulated devices."""

    microphone: Callable[[], MediaStreamTrack] = GeneratedAudioTrack
    speaker: Callable[[], AudioSink] = CountingAudioSink
    video_codec: str = "H264"  # for raw-frame cameras; encoded cameras are always H.264
    host_addresses: Sequence[str] | None = None  # None: all but loopback, or loopback alone
    inband_dtmf: bool = False
    #: False for video-only legs (a camera viewer, the sending-CPU benchmark)
    audio: bool = True
    #: An in-process echo canceller (e.g. ``SpeexEchoCanceller``); None where the sound
    #: server cancels echo (PipeWire/PulseAudio echo-cancel, see docs/AUDIO.md) or none is needed.
    echo_canceller: Callable[[], EchoCanceller] | None = None


@dataclass(eq=False)
class Peer:
    peer_id: str
    pc: RTCPeerConnection
    offerer: bool
    audio: RTCRtpTransceiver | None = None
    video: RTCRtpTransceiver | None = None
    video_gate: GatedTrack | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


_HOLD = {"CALLEEONHOLD", "CALLERONHOLD", "ONHOLD", "ONHOLDINACTIVE"}


class CallMedia:
    def __init__(
        self,
        options: MediaOptions,
        ice_servers: Sequence[dict[str, Any]],
        video: bool,
        send_signal: SignalSender,
        on_dtmf: DtmfHandler,
    ) -> None:
        patches.install()
        if options.host_addresses is not None:
            ice.use_host_addresses(options.host_addresses)
        elif ice.only_loopback():
            ice.use_host_addresses(["127.0.0.1"])
        self.options = options
        self.configuration = ice.configuration(ice_servers)
        self.video = video
        self._send_signal = send_signal
        self._on_dtmf = on_dtmf
        self.peers: dict[str, Peer] = {}
        microphone = options.microphone()
        speaker = options.speaker()
        if options.echo_canceller is not None:
            cleaned = EchoCancelledMicrophone(microphone, options.echo_canceller())
            microphone, speaker = cleaned, TeeSink(speaker, cleaned.reference)
        self.microphone = microphone
        self.mic_gate = GatedTrack(self.microphone)
        self._mic_relay = MediaRelay()
        self.camera: CameraSource | None = None
        self.display: Display = NullDisplay()
        self.speaker: AudioSink = speaker
        self.answered = False
        self.on_hold = False
        self._direction: str | None = None  # what the last hold or resume asked peers for
        self._closing = False
        self.closed = False
        self._closed_event = asyncio.Event()
        self.first_video_at: float | None = None
        self.first_audio_at: float | None = None
        self.connected = asyncio.Event()  # some peer's media is up
        self._inbox: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._worker = asyncio.create_task(self._work())

    # ---------------------------------------------------------------- queue

    def post(self, job: Callable[[], Awaitable[None]]) -> None:
        """Negotiation steps run one at a time, in arrival order."""
        if not self._closing:
            self._inbox.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self._inbox.get()
            if job is None:
                return
            try:
                await job()
            except Exception:
                log.exception("media step failed")

    # --------------------------------------------------------------- tracks

    def attach_camera(self, source: CameraSource) -> None:
        self.camera = source
        for peer in self.peers.values():
            if peer.video is not None and peer.video_gate is None:
                self._send_camera(peer)

    def _send_camera(self, peer: Peer) -> None:
        assert self.camera is not None and peer.video is not None
        # The caller's video is early media; the callee's waits for the answer.
        gate = GatedTrack(
            self.camera.subscribe(),
            open_=not self.on_hold and (peer.offerer or self.answered),
        )
        peer.video_gate = gate
        peer.video.sender.replaceTrack(gate)

    def set_display(self, display: Display) -> None:
        self.display = display

    # ----------------------------------------------------------------- peers

    def _new_pc(self, peer_id: str, offerer: bool) -> Peer:
        pc = RTCPeerConnection(self.configuration)
        peer = Peer(peer_id, pc, offerer)
        self.peers[peer_id] = peer

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                task = asyncio.create_task(self._consume_video(track))
            else:
                task = asyncio.create_task(self._consume_audio(track, peer_id))
            peer.tasks.add(task)
            task.add_done_callback(peer.tasks.discard)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected":
                self.connected.set()
                if self.camera is not None:
                    # Frames sent before the connection was up were dropped, the keyframe
                    # asked for at subscription among them: ask again as sending starts.
                    self.camera.request_keyframe()
            if pc.connectionState == "failed":
                log.warning("media to %s failed; closing it", peer_id)
                await self._close_peer(peer_id)

        return peer

    def _wire_dtmf(self, peer: Peer) -> None:
        if peer.audio is not None:
            receiver = peer.audio.receiver
            peer_id = peer.peer_id
            receiver.dtmf_handler = Rfc4733Receiver(  # type: ignore[attr-defined]
                lambda key: self._on_dtmf(key, "rtp", peer_id)
            )

    def _prefer_codec(self, transceiver: RTCRtpTransceiver) -> None:
        wanted = (
            "video/H264"
            if self.camera is not None and self.camera.encoded
            else (f"video/{self.options.video_codec}")
        )
        codecs = [
            c
            for c in RTCRtpSender.getCapabilities("video").codecs
            if c.mimeType.lower() == wanted.lower()
        ]
        if codecs:
            transceiver.setCodecPreferences(codecs)

    async def add_peer(self, peer_id: str) -> None:
        """We are the caller: offer to a newly ringing (or newly reached) party."""
        if peer_id in self.peers or self._closing:
            return
        peer = self._new_pc(peer_id, offerer=True)
        if self.options.audio:
            mic = self._mic_relay.subscribe(self.mic_gate, buffered=False)
            peer.audio = peer.pc.addTransceiver(mic, direction="sendrecv")
            self._wire_dtmf(peer)
        if self.video:
            peer.video = peer.pc.addTransceiver("video", direction="sendrecv")
            self._prefer_codec(peer.video)
            if self.camera is not None:
                self._send_camera(peer)
        await self._offer(peer)

    async def add_listener(self, conn: int) -> None:
        """A supervisor listens: send it our microphone (and camera), receive nothing."""
        peer_id = f"listener:{conn}"
        if peer_id in self.peers or self._closing:
            return
        peer = self._new_pc(peer_id, offerer=True)
        mic = self._mic_relay.subscribe(self.mic_gate, buffered=False)
        peer.audio = peer.pc.addTransceiver(mic, direction="sendonly")
        if self.camera is not None:
            peer.video = peer.pc.addTransceiver("video", direction="sendonly")
            self._prefer_codec(peer.video)
            self._send_camera(peer)
        await self._offer(peer)

    async def _offer(self, peer: Peer) -> None:
        offer = await peer.pc.createOffer()
        await peer.pc.setLocalDescription(offer)
        await self._send_signal("offer", peer.pc.localDescription.sdp, peer.peer_id)

    async def handle_signal(self, peer_id: str, kind: str, sdp: str) -> None:
        if kind == "answer":
            peer = self.peers.get(peer_id)
            if peer is not None and peer.pc.signalingState == "have-local-offer":
                await peer.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
                # A hold or resume that came while this offer was out is offered now.
                if peer.offerer and self._direction is not None and any(
                    t.direction != self._wanted(peer) for t in peer.pc.getTransceivers()
                ):
                    await self._offer_direction(peer)
            return
        if kind == "bye":
            await self._close_peer(peer_id)
            return
        if kind != "offer" or self._closing:
            return
        peer = self.peers.get(peer_id)
        fresh = peer is None
        if peer is None:
            peer = self._new_pc(peer_id, offerer=False)
        try:
            await self._answer(peer, sdp, fresh)
        except Exception:
            # A failed negotiation must not leave a half-made peer connection behind.
            log.exception("negotiation with %s failed", peer_id)
            await self._close_peer(peer_id)
            await self._send_signal("bye", "", peer_id)

    async def _answer(self, peer: Peer, sdp: str, fresh: bool) -> None:
        await peer.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        if not peer.pc.getTransceivers():
            raise ValueError("the offer has no audio or video we can use")
        if fresh:
            for transceiver in peer.pc.getTransceivers():
                if transceiver.kind == "audio" and peer.audio is None:
                    peer.audio = transceiver
                    transceiver.sender.replaceTrack(
                        self._mic_relay.subscribe(self.mic_gate, buffered=False)
                    )
                    transceiver.direction = "sendrecv"
                elif transceiver.kind == "video" and peer.video is None:
                    peer.video = transceiver
                    transceiver.direction = "sendrecv"
                    if self.camera is not None:
                        self._send_camera(peer)
            self._wire_dtmf(peer)
        answer = await peer.pc.createAnswer()
        await peer.pc.setLocalDescription(answer)
        await self._send_signal("answer", peer.pc.localDescription.sdp, peer.peer_id)

    async def remove_peer(self, peer_id: str) -> None:
        await self._close_peer(peer_id)

    async def _close_peer(self, peer_id: str) -> None:
        peer = self.peers.pop(peer_id, None)
        if peer is None:
            return
        for task in list(peer.tasks):
            task.cancel()
        await peer.pc.close()
        for task in list(peer.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------ receiving

    async def _consume_video(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                if self.first_video_at is None:
                    self.first_video_at = time.perf_counter()
                self.display.push(frame)

    async def _consume_audio(self, track: MediaStreamTrack, peer_id: str) -> None:
        # In-band tones are detected per peer: one detector fed two parties' audio would mix
        # their tones, and could not tell whose digit it heard.
        inband = (
            GoertzelDetector(lambda key: self._on_dtmf(key, "inband", peer_id))
            if self.options.inband_dtmf
            else None
        )
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                if self.first_audio_at is None and self.answered:
                    self.first_audio_at = time.perf_counter()
                self.speaker.push(frame)
                if inband is not None:
                    for low in resampler.resample(frame):
                        inband.feed(low.to_ndarray().reshape(-1))

    # ---------------------------------------------------------------- state

    async def on_state(self, call_state: str, session_state: str | None) -> None:
        if call_state in ("NOT_FOUND", "REJECTED", "COMPLETED", "BUSY"):
            await self.close()
            return
        holding = session_state in _HOLD
        if call_state == "RINGING" and self.answered:
            # Transferred or forwarded: ringing a new party, which must not hear us yet.
            self.answered = False
            self._apply_gates()
        elif call_state == "IN_CALL" and not holding:
            resumed = self.on_hold
            self.answered, self.on_hold = True, False
            self._apply_gates()
            if resumed:
                await self._renegotiate("sendrecv")
                if self.camera is not None:
                    self.camera.request_keyframe()
        elif holding and not self.on_hold:
            self.on_hold = True
            self._apply_gates()  # mute at once; the re-offer follows
            await self._renegotiate("inactive")

    def _apply_gates(self) -> None:
        """Microphones are heard in a conversation only; the caller's video also while it
        rings (early media); nothing while on hold."""
        talking = self.answered and not self.on_hold
        self.mic_gate.set_open(talking)
        for peer in self.peers.values():
            if peer.video_gate is not None:
                peer.video_gate.set_open(talking or (peer.offerer and not self.on_hold))

    async def _renegotiate(self, direction: str) -> None:
        """Re-offer ``direction`` on the peers this side offered to. A peer still waiting for
        the answer to an earlier offer gets it once that answer is in (``handle_signal``)."""
        self._direction = direction
        for peer in list(self.peers.values()):
            if peer.offerer and peer.pc.signalingState == "stable":
                await self._offer_direction(peer)

    def _wanted(self, peer: Peer) -> str:
        direction = self._direction or "sendrecv"
        listening = peer.peer_id.startswith("listener:")
        return "sendonly" if listening and direction != "inactive" else direction

    async def _offer_direction(self, peer: Peer) -> None:
        for transceiver in peer.pc.getTransceivers():
            transceiver.direction = self._wanted(peer)
        await self._offer(peer)

    # ----------------------------------------------------------------- DTMF

    def _telephone_event(self, peer: Peer) -> tuple[int, int] | None:
        """(payload type, clock rate) of the telephone-event the far end accepts, if any."""
        description = peer.pc.remoteDescription
        if description is None or peer.audio is None:
            return None
        return choose_telephone_event(description.sdp, peer.audio.mid)

    async def send_dtmf_rtp(self, digits: str, timeout: float = 10.0) -> None:
        """RFC 4733 telephone-events to every connected party (normally the one answered).
        Waits for the media to connect first: an answer can come before the negotiation ends."""
        async with asyncio.timeout(timeout):
            await self.connected.wait()
        sent = False
        for peer in list(self.peers.values()):
            event = self._telephone_event(peer)
            if event is None or peer.audio is None:
                continue
            payload_type, clock_rate = event
            await RtpDtmfSender(peer.audio.sender, payload_type, clock_rate).send(digits)
            sent = True
        if not sent:
            raise RuntimeError("no party negotiated telephone-event")

    async def send_dtmf_inband(self, digits: str, timeout: float = 10.0) -> None:
        """Tones in the audio, for far ends that only listen (the generated microphone only)."""
        play = getattr(self.microphone, "play_dtmf", None)
        if play is None:
            raise RuntimeError("in-band DTMF needs the generated microphone")
        async with asyncio.timeout(timeout):
            await self.connected.wait()
        done = asyncio.Event()

        async def after_pending_steps() -> None:  # so that an answer's gate opening comes first
            done.set()

        self.post(after_pending_steps)
        await done.wait()
        play(digits)

    # ---------------------------------------------------------------- close

    async def wait_closed(self) -> None:
        await self._closed_event.wait()

    async def close(self) -> None:
        """Release every peer connection, track and task; ``closed`` once all are gone."""
        if self._closing:
            if self._worker is not asyncio.current_task():
                await self._closed_event.wait()
            return
        self._closing = True
        for peer_id in list(self.peers):
            await self._close_peer(peer_id)
        self.mic_gate.stop()
        self.microphone.stop()
        self._inbox.put_nowait(None)
        if self._worker is not asyncio.current_task():
            await self._worker
        self.closed = True
        self._closed_event.set()
