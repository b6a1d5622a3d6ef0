"""A listener's media (``Session.startListen``): one receive-only peer connection per party,
each offered by that party, so the listener hears (and sees) the call without being heard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import ice, patches
from .audio import AudioSink, CountingAudioSink
from .displays import Display, NullDisplay

log = logging.getLogger(__name__)

Answer = Callable[[str, str, str], Awaitable[None]]  # peer, kind, sdp


class ListenMedia:
    def __init__(
        self, ice_servers: Sequence[dict[str, Any]], send: Answer, speaker: AudioSink | None = None
    ) -> None:
        patches.install()
        if ice.only_loopback():
            ice.use_host_addresses(["127.0.0.1"])
        self.configuration = ice.configuration(ice_servers)
        self._send = send
        self.peers: dict[str, RTCPeerConnection] = {}
        self.speaker: AudioSink = speaker or CountingAudioSink()
        self.display: Display = NullDisplay()
        self.parties_heard: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.closed = False

    async def handle_signal(self, peer: str, party: str, kind: str, sdp: str) -> None:
        async with self._lock:
            if kind == "bye":
                pc = self.peers.pop(peer, None)
                if pc is not None:
                    await pc.close()
                return
            if kind != "offer" or self.closed:
                return
            pc = self.peers.get(peer)
            if pc is None:
                pc = self.peers[peer] = RTCPeerConnection(self.configuration)

                @pc.on("track")
                def on_track(track: MediaStreamTrack) -> None:
                    task = asyncio.create_task(self._consume(track, party))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

            await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            for transceiver in pc.getTransceivers():
                transceiver.direction = "recvonly"  # never heard
            await pc.setLocalDescription(await pc.createAnswer())
            await self._send(peer, "answer", pc.localDescription.sdp)

    async def _consume(self, track: MediaStreamTrack, party: str) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.parties_heard.add(party)
                    self.speaker.push(frame)
                elif isinstance(frame, av.VideoFrame):
                    self.display.push(frame)

    async def close(self) -> None:
        self.closed = True
        async with self._lock:
            for task in list(self._tasks):
                task.cancel()
            for pc in self.peers.values():
                await pc.close()
            self.peers.clear()
