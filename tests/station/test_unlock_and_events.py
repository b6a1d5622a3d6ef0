"""The unlock policy (codes, lockout, who may) and the event log."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercom.station.events import EventLog
from intercom.station.unlock import Outcome, UnlockPolicy, code_matches, hash_code


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock) -> UnlockPolicy:
    return UnlockPolicy(
        {"front": [hash_code("1234")], "garage": [hash_code("9")]},
        max_wrong=3,
        lockout_seconds=60,
        clock=clock,
    )


def enter(p: UnlockPolicy, keys: str, answered: bool = True):  # type: ignore[no-untyped-def]
    decision = None
    for key in keys:
        decision = p.digit(key, answered)
    return decision


def test_codes_are_hashed_and_checked() -> None:
    stored = hash_code("1234")
    assert "1234" not in stored and stored.startswith("pbkdf2$")
    assert code_matches(stored, "1234") and not code_matches(stored, "1235")
    assert not code_matches("garbage", "1234")
    for bad in ("", "123456789", "12a4"):
        with pytest.raises(ValueError):
            hash_code(bad)


def test_right_code_opens_its_relay() -> None:
    p = policy(Clock())
    assert enter(p, "12").outcome is Outcome.PENDING
    decision = enter(p, "34#")
    assert (decision.outcome, decision.relay) == (Outcome.UNLOCK, "front")
    assert enter(p, "9#").relay == "garage"
    assert enter(p, "12*1234#").outcome is Outcome.UNLOCK  # '*' starts over


def test_only_the_answered_party_counts() -> None:
    p = policy(Clock())
    assert enter(p, "1234#", answered=False).outcome is Outcome.REFUSED


def test_wrong_codes_lock_out_then_recover() -> None:
    clock = Clock()
    p = policy(clock)
    assert enter(p, "1111#").attempts_left == 2
    assert enter(p, "2222#").outcome is Outcome.WRONG
    locked = enter(p, "3333#")
    assert locked.outcome is Outcome.LOCKED_OUT and locked.locked_until == 1060
    assert enter(p, "1234#").outcome is Outcome.LOCKED_OUT  # even the right code
    clock.now = 1061
    assert enter(p, "1234#").outcome is Outcome.UNLOCK


def test_event_log(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.db")
    first = log.add("bell", bell=1, target="200")
    log.add("unlock", relay="front", who="201", how="dtmf")
    with pytest.raises(ValueError):
        log.add("party")
    events = log.since()
    assert [e["kind"] for e in events] == ["bell", "unlock"]
    assert events[0]["id"] == first and events[0]["bell"] == 1
    assert events[1]["how"] == "dtmf"
    log.close()
    again = EventLog(tmp_path / "events.db")  # survives a restart
    assert len(again.since()) == 2
    again.close()


def test_screen_messages_wrap_and_expire() -> None:
    from intercom.station.screen import ScreenModel, ScreenState

    screen = ScreenModel(greeting="Welcome", width_chars=12)
    screen.idle()
    screen.show(ScreenState.IN_CALL, "Flat 1")
    screen.show(ScreenState.MESSAGE, "Message", "Leave it at the door, merci 🙂", seconds=30)
    now = screen.since
    assert screen.lines(now) == ["Message", "Leave it at", "the door,", "merci 🙂"]
    assert not screen.expire(now + 29)
    assert screen.expire(now + 31)
    assert (screen.state, screen.title) == (ScreenState.IN_CALL, "Flat 1")  # back to the call
    screen.idle()
    screen.show(ScreenState.NOTICE, "Wrong code", seconds=5)
    assert screen.expire(screen.since + 6) and screen.title == "Welcome"


def test_station_audio_from_configuration() -> None:
    from intercom.media.audio import CountingAudioSink
    from intercom.media.echo import SpeexEchoCanceller
    from intercom.station.config import StationConfig
    from intercom.station.hardware import media_options

    def config(**audio: object) -> StationConfig:
        return StationConfig.model_validate({
            "station": {"extension": "100", "password": "x", "simulated": True},
            "audio": audio,
        })  # fmt: skip

    simulated = media_options(config())
    assert isinstance(simulated.speaker(), CountingAudioSink)
    assert simulated.echo_canceller is None
    assert media_options(config(echo_canceller="speex")).echo_canceller is SpeexEchoCanceller
    hardware = media_options(config(kind="pyaudio", input_device=2))
    assert hardware.microphone is not simulated.microphone  # a PyAudio device, opened on use
