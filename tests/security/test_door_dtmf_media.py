"""The client tells which peer connection each media digit came from, and whether that peer is
the other party of the call (RFC 4733 and in-band tones alike, in-band detected per peer)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from intercom.client import Call, CallType, DtmfEvent, OzWebClient
from intercom.media.audio import FRAME_SAMPLES, GeneratedAudioTrack, mono_frame
from intercom.media.callmedia import CallMedia, MediaOptions
from intercom.media.dtmf import build_event


class Paced(MediaStreamTrack):
    """The generated microphone playing digits, frame by frame (yielding between frames so two
    peers' audio interleaves), ending after the digits."""

    kind = "audio"

    def __init__(self, digits: str) -> None:
        super().__init__()
        self._source = GeneratedAudioTrack()
        self._source.play_dtmf(digits)
        self._frames = 20 * len(digits)  # 0.18 s of tone and gap per digit, 20 ms frames
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self._frames == 0:
            raise MediaStreamError
        self._frames -= 1
        await asyncio.sleep(0)
        frame = mono_frame(self._source._next_samples(), self._pts)
        self._pts += FRAME_SAMPLES
        return frame


async def media(on_dtmf: Any, inband: bool = False) -> CallMedia:
    async def send_signal(kind: str, sdp: str, peer: str | None) -> None:
        return None

    return CallMedia(
        MediaOptions(inband_dtmf=inband), [], video=False, send_signal=send_signal, on_dtmf=on_dtmf
    )


async def test_rfc4733_digits_name_their_peer() -> None:
    got: list[tuple[str, str, str]] = []
    m = await media(lambda key, source, peer: got.append((key, source, peer)))
    try:
        await m.add_peer("leg-a")
        await m.add_peer("leg-b")
        for stamp, (peer, key) in enumerate([("leg-b", "1"), ("leg-a", "#")]):
            audio = m.peers[peer].audio
            assert audio is not None
            handler = audio.receiver.dtmf_handler  # type: ignore[attr-defined]
            handler(
                RtpPacket(payload_type=101, timestamp=stamp, payload=build_event(key, True, 960))
            )
        assert got == [("1", "rtp", "leg-b"), ("#", "rtp", "leg-a")]
    finally:
        await m.close()


async def test_inband_digits_are_detected_per_peer() -> None:
    """Two peers' tones at once: each peer's digits are detected whole, and named."""
    got: list[tuple[str, str, str]] = []
    m = await media(lambda key, source, peer: got.append((key, source, peer)), inband=True)
    try:
        await asyncio.gather(
            m._consume_audio(Paced("12"), "leg-a"),
            m._consume_audio(Paced("9#"), "listener:3"),
        )
        assert [(k, p) for k, s, p in got if p == "leg-a"] == [("1", "leg-a"), ("2", "leg-a")]
        assert [(k, p) for k, s, p in got if p == "listener:3"] == [
            ("9", "listener:3"),
            ("#", "listener:3"),
        ]
        assert {s for _, s, _ in got} == {"inband"}
    finally:
        await m.close()


class FakeClient:
    media_options = None


def call(other_leg: str | None) -> Call:
    c = Call(cast(OzWebClient, FakeClient()), "201", CallType.VIDEO)
    c.other_party = "201"
    c.other_privileges = frozenset({"call", "door"})
    c.other_leg = other_leg
    return c


@pytest.mark.parametrize("source", ["rtp", "inband"])
def test_media_digits_from_another_peer_are_not_the_other_partys(source: str) -> None:
    c = call("leg-a")
    got: list[DtmfEvent] = []
    c.onDtmfReceived(got.append)
    c._media_dtmf("1", source, "leg-a")
    c._media_dtmf("2", source, "listener:3")
    c._media_dtmf("3", source, "leg-b")  # a party ringing, transferred away, ...
    first, *others = got
    assert (first.sender, first.from_other_party, first.peer) == ("201", True, "leg-a")
    assert first.privileges == frozenset({"call", "door"})
    assert [(e.from_other_party, e.privileges) for e in others] == [(False, frozenset())] * 2
    assert [e.sender for e in others] == ["listener:3", "leg-b"]


def test_media_digits_before_there_is_another_party_are_not_the_other_partys() -> None:
    c = call(None)  # ringing: nobody answered yet
    got: list[DtmfEvent] = []
    c.onDtmfReceived(got.append)
    c._media_dtmf("1", "rtp", "leg-a")
    assert got[0].from_other_party is False


def test_other_leg_follows_the_call_state() -> None:
    c = call(None)
    c.apply_state({"state": "IN_CALL", "call_id": "me", "other_leg": "leg-a"})
    assert c.other_leg == "leg-a"
    c.apply_state({"state": "RINGING", "call_id": "me"})  # transferred: a new party rings
    assert c.other_leg is None


def test_signalling_and_session_digits_from_the_exchange() -> None:
    """A ``call.dtmf`` frame as the client decodes it: signalling digits come from the other
    party; a supervisor's session digits do not, and carry the supervisor's privileges."""
    client = OzWebClient(media=False)
    c = Call(client, "201", CallType.VIDEO, call_id="me")
    client.calls["me"] = c
    got: list[DtmfEvent] = []
    c.onDtmfReceived(got.append)
    for key, source, sender, privileges in (
        ("1", "signalling", "201", ["call", "door"]),
        ("2", "session", "901", ["call", "modify", "monitor"]),
    ):
        data = {"call_id": "me", "key": key, "source": source, "from": sender}
        client._handle({"type": "call.dtmf", "data": {**data, "privileges": privileges}})
    assert [(e.sender, e.from_other_party) for e in got] == [("201", True), ("901", False)]
    assert got[1].privileges == frozenset({"call", "modify", "monitor"})
    assert got[1].source == "session"


def test_positional_construction_still_works() -> None:
    event = DtmfEvent("5", "signalling", "201")
    assert (event.key, event.source, event.sender) == ("5", "signalling", "201")
    assert event.from_other_party is False and event.privileges == frozenset()
