"""Session.startListen/stopListen: the listener hears both parties without being heard."""

from __future__ import annotations

import pytest

from intercom.client import Call, CallState, CallType, OzWebClient, Session
from intercom.media.audio import CountingAudioSink, GeneratedAudioTrack
from intercom.media.callmedia import MediaOptions
from tests.conftest import Connector, Recorder
from tests.media.helpers import ring, until

pytestmark = pytest.mark.integration


def speaking(name: str, speakers: dict[str, CountingAudioSink]) -> MediaOptions:
    def mic() -> GeneratedAudioTrack:
        track = GeneratedAudioTrack()
        track.play_tone((523.0,), 60.0)
        return track

    def speaker() -> CountingAudioSink:
        speakers[name] = CountingAudioSink()
        return speakers[name]

    return MediaOptions(microphone=mic, speaker=speaker)


async def monitored_call(login: Connector) -> tuple[OzWebClient, Session, Call, Call]:
    """A concierge watching an answered audio call from the door to flat 201."""
    speakers: dict[str, CountingAudioSink] = {}
    concierge = await login("900", media=speaking("concierge", speakers))
    created = Recorder(concierge.onSessionCreated)
    door = await login("100", media=speaking("door", speakers))
    flat = await login("201", media=speaking("flat", speakers))
    call, (inc,) = await ring(door, "201", flat, call_type=CallType.AUDIO)
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    session: Session = await created.wait_for(lambda s: True)
    return concierge, session, call, inc


async def test_listener_hears_both_parties_and_is_not_heard(login: Connector) -> None:
    concierge, session, call, inc = await monitored_call(login)
    await session.startListen()
    media = session.listen_media
    assert media is not None
    await until(lambda: media.parties_heard == {"100", "201"})
    listener_sink = media.speaker
    assert isinstance(listener_sink, CountingAudioSink)
    await until(lambda: listener_sink.loud_frames > 10)
    for pc in media.peers.values():
        assert {t.currentDirection for t in pc.getTransceivers()} == {"recvonly"}
    assert call.media is not None and inc.media is not None
    assert any(p.startswith("listener:") for p in call.media.peers)
    assert any(p.startswith("listener:") for p in inc.media.peers)

    await session.stopListen()
    assert session.listen_media is None
    await until(lambda: not any(p.startswith("listener:") for p in call.media.peers))  # type: ignore[union-attr]
    await until(lambda: not any(p.startswith("listener:") for p in inc.media.peers))  # type: ignore[union-attr]
    assert call.getCallState() is CallState.IN_CALL
    await call.hangUp()


async def test_listener_leaving_abruptly_is_dropped_by_the_parties(login: Connector) -> None:
    concierge, session, call, inc = await monitored_call(login)
    await session.startListen()
    await until(lambda: call.media is not None and len(call.media.peers) == 2)
    await concierge.disconnect()
    await until(lambda: call.media is not None and len(call.media.peers) == 1)
    assert call.getCallState() is CallState.IN_CALL
