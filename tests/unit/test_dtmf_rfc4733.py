"""RFC 4733 on the receiving side with crafted packets, and the choice of event clock to send."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtpPacket

from intercom.media.dtmf import Rfc4733Receiver, build_event, choose_telephone_event


def packet(
    key: str, end: bool, duration: int, timestamp: int, seq: int, ssrc: int = 7
) -> RtpPacket:
    return RtpPacket(
        payload_type=127,
        sequence_number=seq,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=build_event(key, end, duration),
    )


def receive(packets: list[RtpPacket]) -> str:
    got: list[str] = []
    receiver = Rfc4733Receiver(got.append)
    for p in packets:
        receiver(p)
    return "".join(got)


@pytest.mark.parametrize("clock", [8000, 48000])
def test_a_well_formed_train_gives_each_digit_once(clock: int) -> None:
    """Starts and updates every 20 ms, three ends: one digit per event at either clock."""
    step, packets, seq = clock // 50, [], 0
    for n, key in enumerate("159#"):
        timestamp = 1000 + n * clock  # one event a second
        for duration in (step, 2 * step, 3 * step, 4 * step):
            packets.append(packet(key, False, duration, timestamp, seq))
            seq += 1
        for _ in range(3):
            packets.append(packet(key, True, 5 * step, timestamp, seq))
            seq += 1
    assert receive(packets) == "159#"


def test_malformed_ends_at_8000_still_give_each_digit_once() -> None:
    """As Chromium sends at 8000 Hz: ends with zero or nonsense durations, ends repeated and
    retransmitted long after, an end whose start was lost, a start arriving after its end."""
    packets = [
        # "1": a start, then ends with a zero duration
        packet("1", False, 160, 8000, 1),
        packet("1", True, 0, 8000, 2),
        packet("1", True, 0, 8000, 3),
        packet("1", True, 0, 8000, 4),
        # "2": ends only (its starts were lost), durations that disagree (48000 units in one)
        packet("2", True, 800, 16000, 5),
        packet("2", True, 4800, 16000, 6),
        packet("2", True, 65535, 16000, 7),
        # "1" again, a new key press: a new timestamp, so a new digit
        packet("1", False, 160, 24000, 8),
        packet("1", True, 800, 24000, 9),
        # a late retransmission of the first "1" and of "2", and a start after its end
        packet("1", True, 0, 8000, 10),
        packet("2", True, 800, 16000, 11),
        packet("1", False, 320, 24000, 12),
        # "#": a single end, nothing else
        packet("#", True, 0, 32000, 13),
    ]
    assert receive(packets) == "121#"


def test_the_same_timestamp_from_two_sources_is_two_events() -> None:
    """Events are keyed by source and timestamp: two senders (two SSRCs) never mask each other."""
    packets = [packet("4", True, 800, 500, 1, ssrc=1), packet("4", True, 800, 500, 1, ssrc=2)]
    assert receive(packets) == "44"


def test_starts_alone_report_nothing_and_other_events_are_ignored() -> None:
    """A digit is reported when it ends (a press still held is not yet a digit); events above
    15 (flash, tones) and short payloads are not DTMF."""
    flash = RtpPacket(payload_type=127, timestamp=9, payload=bytes([16, 0x80, 0, 160]))
    short = RtpPacket(payload_type=127, timestamp=10, payload=b"\x01\x80")
    assert receive([packet("5", False, 160, 1, 1), flash, short]) == ""


SDP = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


def audio(formats: dict[int, str], mid: str = "0") -> str:
    lines = [f"m=audio 9 UDP/TLS/RTP/SAVPF {' '.join(map(str, formats))}", f"a=mid:{mid}"]
    lines += [f"a=rtpmap:{pt} {name}" for pt, name in formats.items()]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("formats", "chosen"),
    [
        # Firefox answers with /8000 only
        ({109: "opus/48000/2", 101: "telephone-event/8000"}, (101, 8000)),
        # both, whatever the order: the one at Opus's clock
        (
            {96: "opus/48000/2", 127: "telephone-event/8000", 126: "telephone-event/48000"},
            (126, 48000),
        ),
        # a SIP gateway on PCMU: the 8000 one
        ({0: "PCMU/8000", 126: "telephone-event/48000", 127: "telephone-event/8000"}, (127, 8000)),
        # only a clock that matches nothing: still that one
        ({0: "PCMU/8000", 126: "telephone-event/48000"}, (126, 48000)),
        # none at all
        ({96: "opus/48000/2"}, None),
    ],
)
def test_the_event_clock_follows_the_audio_codec(
    formats: dict[int, str], chosen: tuple[int, int] | None
) -> None:
    assert choose_telephone_event(SDP + audio(formats), "0") == chosen


def test_the_event_is_taken_from_the_audio_section_with_our_mid() -> None:
    sdp = (
        SDP
        + audio({96: "opus/48000/2"}, "0")
        + audio({0: "PCMU/8000", 101: "telephone-event/8000"}, "1")
    )
    assert choose_telephone_event(sdp, "0") is None
    assert choose_telephone_event(sdp, "1") == (101, 8000)
