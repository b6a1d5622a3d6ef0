"""The wrong-code lockout survives restarts and grows: counts and deadlines live in SQLite,
committed before the door answers, and each further lockout lasts twice as long, up to a cap."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.client import OzWebClient
from intercom.exchange.server import Exchange
from intercom.station.app import Station
from intercom.station.config import load_station_config
from intercom.station.status import format_status
from intercom.station.unlock import Decision, Outcome, UnlockPolicy, hash_code
from tests.conftest import PASSWORD
from tests.station.test_station import answered, station_config

CODES = {"door": [hash_code("1234")]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0  # wall-clock time, as persisted deadlines use

    def __call__(self) -> float:
        return self.now


def policy(path: Path, clock: Clock, **settings: float) -> UnlockPolicy:
    options: dict[str, float] = {"max_wrong": 2, "lockout_seconds": 60, **settings}
    return UnlockPolicy(CODES, database=path, clock=clock, **options)  # type: ignore[arg-type]


def enter(p: UnlockPolicy, keys: str) -> Decision:
    decision = Decision(Outcome.PENDING)
    for key in keys:
        decision = p.digit(key, True)
    return decision


def test_a_lockout_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    first = policy(tmp_path / "unlock.db", clock)
    assert enter(first, "1111#").outcome is Outcome.WRONG
    locked = enter(first, "2222#")
    assert locked.outcome is Outcome.LOCKED_OUT and locked.locked_until == clock.now + 60
    first.close()
    clock.now += 30
    restarted = policy(tmp_path / "unlock.db", clock)  # the station came back up
    assert enter(restarted, "1234#").outcome is Outcome.LOCKED_OUT  # still refused
    assert restarted.lockout_until() == locked.locked_until
    clock.now += 31
    assert enter(restarted, "1234#").outcome is Outcome.UNLOCK
    restarted.close()


def test_wrong_counts_survive_a_restart_and_are_committed_before_the_answer(
    tmp_path: Path,
) -> None:
    clock = Clock()
    p = policy(tmp_path / "unlock.db", clock, max_wrong=3)
    assert enter(p, "1111#").outcome is Outcome.WRONG
    # Before the door beeps, the attempt is on disk: another connection (as after kill -9)
    # sees it.
    other = sqlite3.connect(tmp_path / "unlock.db")
    assert other.execute("SELECT wrong FROM lockout").fetchone() == (1,)
    other.close()
    p.close()
    again = policy(tmp_path / "unlock.db", clock, max_wrong=3)
    assert enter(again, "2222#").attempts_left == 1  # the first wrong code still counts
    again.close()


def test_each_further_lockout_doubles_up_to_the_cap(tmp_path: Path) -> None:
    clock = Clock()
    p = policy(tmp_path / "unlock.db", clock, max_lockout_seconds=200)
    lengths = []
    for _ in range(4):
        enter(p, "1111#")
        locked = enter(p, "1111#")
        assert locked.outcome is Outcome.LOCKED_OUT and locked.locked_until is not None
        lengths.append(locked.locked_until - clock.now)
        clock.now = locked.locked_until
    assert lengths == [60, 120, 200, 200]
    p.close()


def test_an_authorised_unlock_resets_the_escalation(tmp_path: Path) -> None:
    clock = Clock()
    p = policy(tmp_path / "unlock.db", clock)
    for _ in range(2):  # two lockouts: the next would last 240 s
        enter(p, "1111#")
        clock.now = enter(p, "1111#").locked_until or 0.0
    assert enter(p, "1234#").outcome is Outcome.UNLOCK  # the right code
    enter(p, "1111#")
    locked = enter(p, "1111#")
    assert locked.locked_until == clock.now + 60  # back to the first length
    p.reset()  # a door holder's unlock command
    assert p.lockout_until() is None
    assert enter(p, "1234#").outcome is Outcome.UNLOCK
    p.close()


def test_a_clock_set_back_does_not_stretch_a_lockout(tmp_path: Path) -> None:
    clock = Clock()
    p = policy(tmp_path / "unlock.db", clock)
    enter(p, "1111#")
    enter(p, "1111#")
    clock.now -= 365 * 86400  # no real-time clock, and the time not yet synchronised
    until = p.lockout_until()
    assert until is not None and until - clock.now <= 60
    p.close()


def test_status_shows_the_lockout() -> None:
    status = {
        "name": "Front door", "extension": "100", "exchange": "x", "online": True,
        "screen": "idle", "call": None, "relays": {"door": False}, "door_open": None,
        "lockout": {"until": 4_000_000_000.0},
    }  # fmt: skip
    assert "lockout: codes refused until" in format_status(status, [])
    status["lockout"] = None
    assert "lockout" not in format_status(status, [])


@pytest.fixture
async def exchange(config_path: object) -> AsyncIterator[Exchange]:
    ex = Exchange.from_file(config_path())  # type: ignore[operator]
    await ex.start()
    yield ex
    await ex.stop()


async def start_station(exchange: Exchange, tmp_path: Path, pins: MockFactory) -> Station:
    path = station_config(tmp_path, exchange.port)  # max_wrong 2, lockout 60 s
    s = Station(load_station_config(path), path, pin_factory=pins)
    await s.start()
    await s.wait_until(s.online.is_set)
    return s



@pytest.mark.integration
async def test_restarting_the_station_during_a_lockout_keeps_the_door_shut(
    exchange: Exchange, tmp_path: Path
) -> None:
    pins = MockFactory()
    flat = OzWebClient(media=False)
    await flat.connect(exchange.url, "201", password=PASSWORD.format("201"))
    s = await start_station(exchange, tmp_path, pins)
    try:
        call = await answered(s, flat)
        await call.send_dtmf("1111#")
        await call.send_dtmf("2222#")
        await s.wait_until(lambda: any(e["kind"] == "lockout" for e in s.events.since()))
        lockout = next(e for e in s.events.since() if e["kind"] == "lockout")
        assert lockout["seconds"] == 60 and lockout["until"] > 0
        assert s.status()["lockout"]["until"] == lockout["until"]
        await call.hangUp()
        await s.wait_until(s.idle.is_set)
    finally:
        await s.stop()
    s = await start_station(exchange, tmp_path, MockFactory())
    try:
        assert s.status()["lockout"]["until"] == lockout["until"]
        call = await answered(s, flat)
        await call.send_dtmf("1234#")  # the right code, but still locked out
        await s.wait_until(lambda: sum(e["kind"] == "lockout" for e in s.events.since()) == 2)
        assert not any(e["kind"] == "unlock" for e in s.events.since())
        assert s.relays["door"].is_open is False
        await call.unlock()  # 201 holds the door privilege: an authorised unlock resets
        await s.wait_until(lambda: s.relays["door"].is_open)
        assert s.status()["lockout"] is None
    finally:
        await s.stop()
        await flat.disconnect()
