"""RFC 4733 between two aiortc peers over loopback at 8000 and at 48000 Hz, in both directions,
with the far end's SDP trimmed the way Firefox (and SIP phones) trim it: /8000 alone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from intercom.media.callmedia import CallMedia, MediaOptions
from intercom.media.patches import TELEPHONE_EVENT_PTS

pytestmark = pytest.mark.integration

Rewrite = Callable[[str], str]


def keep(sdp: str) -> str:
    return sdp


def only_8000(sdp: str) -> str:
    """Drop telephone-event/48000 from the SDP, as a Firefox offer or answer carries none."""
    pt = str(TELEPHONE_EVENT_PTS[48000])
    lines = []
    for line in sdp.split("\r\n"):
        if line.startswith("m=audio "):
            line = " ".join(f for f in line.split(" ") if f != pt)
        elif re.match(rf"a=(rtpmap|fmtp):{pt} ", line):
            continue
        lines.append(line)
    return "\r\n".join(lines)


class Party:
    """One CallMedia and the digits it received over RTP, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.digits: list[str] = []
        self.other: Party | None = None
        self.rewrite: Rewrite = keep  # applied to what this party signals
        self._arrived = asyncio.Condition()
        self.media = CallMedia(
            MediaOptions(), [], video=False, send_signal=self._signal, on_dtmf=self._dtmf
        )

    async def _signal(self, kind: str, sdp: str, peer: str | None) -> None:
        other = self.other
        assert other is not None
        sdp = self.rewrite(sdp)
        other.media.post(lambda: other.media.handle_signal(self.name, kind, sdp))

    def _dtmf(self, key: str, source: str, peer: str) -> None:
        assert source == "rtp"
        self.digits.append(key)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    async def wait_for(self, count: int, timeout: float = 15) -> None:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.digits) >= count)

    def event_clock(self) -> int | None:
        (peer,) = self.media.peers.values()
        event = self.media._telephone_event(peer)
        return None if event is None else event[1]


async def call(offer: Rewrite, answer: Rewrite) -> tuple[Party, Party]:
    """The door offers (its offer passed through ``offer``), the flat answers."""
    door, flat = Party("door"), Party("flat")
    door.other, flat.other = flat, door
    door.rewrite, flat.rewrite = offer, answer
    await door.media.add_peer("flat")
    async with asyncio.timeout(15):
        await door.media.connected.wait()
        await flat.media.connected.wait()
    return door, flat


async def exchange_digits(sender: Party, receiver: Party, keys: str) -> None:
    """``keys`` arrive once each and in order: a last digit sent after them shows that no
    repeated end packet of any of them became a digit of its own."""
    await sender.media.send_dtmf_rtp(keys)
    await sender.media.send_dtmf_rtp("D")
    await receiver.wait_for(len(keys) + 1)
    assert "".join(receiver.digits) == keys + "D"


@pytest.mark.parametrize(
    ("offer", "answer", "door_sends", "flat_sends"),
    [
        pytest.param(keep, keep, 48000, 48000, id="both-offered-both-answered"),
        pytest.param(keep, only_8000, 8000, None, id="answer-with-8000-alone"),
        pytest.param(only_8000, keep, 8000, 8000, id="offer-with-8000-alone"),
    ],
)
async def test_digits_arrive_once_each_at_the_negotiated_rate(
    offer: Rewrite, answer: Rewrite, door_sends: int, flat_sends: int | None
) -> None:
    door, flat = await call(offer, answer)
    try:
        offered = door.media.peers["flat"].pc.localDescription.sdp
        assert "telephone-event/8000" in offered and "telephone-event/48000" in offered
        assert door.event_clock() == door_sends
        await exchange_digits(door, flat, "0123456789*#")
        if flat_sends is not None:
            # The flat received the door's offer: with /8000 alone in it, it answers with /8000.
            assert flat.event_clock() == flat_sends
            await exchange_digits(flat, door, "#91")
    finally:
        await door.media.close()
        await flat.media.close()
