"""The door's screen after every way a call from it ends: once the notices shown during or at
the end of the call have run out, the screen greets the next visitor, and it stays that way (a
notice that expires never brings back the call's screen)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.client import Call, CallState, OzWebClient
from intercom.exchange.server import Exchange
from intercom.station.app import Station
from intercom.station.changes import Change
from intercom.station.config import load_station_config
from intercom.station.screen import ScreenState, Shown
from tests.conftest import Recorder
from tests.station.test_station import answered, resident, station_config
from tests.station.test_station import exchange as exchange  # the station tests' exchange

pytestmark = pytest.mark.integration

#: Screens that only make sense while the call lasts.
CALL_SCREENS = {ScreenState.CALLING, ScreenState.IN_CALL, ScreenState.ON_HOLD}
#: Short texts, so that every notice runs out within a second or two.
SCREEN = {"greeting": "Please ring", "message_seconds": 1.0, "notice_seconds": 1.0}
IDLE = Shown(ScreenState.IDLE, "Please ring", "")


StationMaker = Callable[..., Awaitable[Station]]


@pytest.fixture
async def make_station(exchange: Exchange, tmp_path: Path) -> AsyncIterator[StationMaker]:
    """A station on simulated pins whose ``calls`` settings the test chooses."""
    started: list[Station] = []

    async def make(**calls: Any) -> Station:
        path = station_config(tmp_path, exchange.port, screen=SCREEN, **calls)
        s = Station(load_station_config(path), path, pin_factory=MockFactory())
        await s.start()
        started.append(s)
        await s.wait_until(s.online.is_set)
        return s

    yield make
    for s in started:
        await s.stop()


@pytest.fixture
async def flat(exchange: Exchange) -> AsyncIterator[OzWebClient]:
    client = await resident(exchange)
    yield client
    await client.disconnect()


class AfterTheCall:
    """What the screen showed from the moment the station logged the end of its call."""

    def __init__(self, s: Station) -> None:
        self.at_end: Shown | None = None  # the screen as the call ended
        self.cause: str | None = None
        self.screens: list[Shown] = []  # every screen shown after that
        s.on_changed(self._follow)
        self._station = s

    def _follow(self, change: Change) -> None:
        if change.event is not None and change.event.get("kind") == "call_ended":
            self.cause = change.event["cause"]
            self.at_end = self._station.screen.shown()
        elif self.at_end is not None and "screen" in change:
            self.screens.append(change.state["screen"])

    async def comes_to_rest(self) -> None:
        """The screen reaches its greeting with no call, having shown nothing of the call on the
        way, and stays there: no timed text is left to give way to anything else."""
        s = self._station
        await s.wait_until(lambda: s.call is None and s.screen.shown() == IDLE, timeout=5)
        assert s.screen.until is None
        assert not [shown for shown in self.screens if shown.state in CALL_SCREENS]
        # Stays idle for longer than any notice of these calls would last.
        with pytest.raises(TimeoutError):
            await s.wait_until(lambda: s.screen.shown() != IDLE, timeout=1.5)
        assert s.call is None and s.idle.is_set()


async def test_station_hangs_up_after_unlock(make_station: StationMaker, flat: OzWebClient) -> None:
    s = await make_station(hangup_after_unlock=0.3)
    after = AfterTheCall(s)
    call = await answered(s, flat)
    await call.send_dtmf("1234#")
    await call.wait_for(CallState.COMPLETED)  # the station hung up once the door was open
    await s.wait_until(lambda: after.at_end is not None)
    assert after.at_end is not None and after.at_end.state is ScreenState.DOOR_OPEN
    await after.comes_to_rest()


async def test_resident_hangs_up(make_station: StationMaker, flat: OzWebClient) -> None:
    s = await make_station()
    after = AfterTheCall(s)
    call = await answered(s, flat)
    await call.hangUp()
    await s.wait_until(lambda: after.at_end is not None)
    assert after.cause == "remote_hung_up"
    await after.comes_to_rest()


async def test_resident_hangs_up_during_a_message(
    make_station: StationMaker, flat: OzWebClient
) -> None:
    s = await make_station()
    after = AfterTheCall(s)
    call = await answered(s, flat)
    await call.sendMessage("I'm coming")
    await s.wait_until(lambda: s.screen.state is ScreenState.MESSAGE)
    await call.hangUp()
    await s.wait_until(lambda: after.at_end is not None)
    # The visitor still reads the message after the call; then the greeting, not the call.
    assert s.screen.state is ScreenState.MESSAGE and "I'm coming" in s.screen.lines()
    await after.comes_to_rest()


async def test_resident_hangs_up_while_the_door_is_open(
    make_station: StationMaker, flat: OzWebClient
) -> None:
    s = await make_station(hangup_after_unlock=60)  # the resident is quicker than the station
    after = AfterTheCall(s)
    call = await answered(s, flat)
    await call.send_dtmf("1234#")
    await s.wait_until(lambda: s.screen.state is ScreenState.DOOR_OPEN)
    await call.hangUp()
    await s.wait_until(lambda: after.at_end is not None)
    assert s.screen.state is ScreenState.DOOR_OPEN
    await after.comes_to_rest()


async def test_ring_timeout(make_station: StationMaker, flat: OzWebClient) -> None:
    s = await make_station(ring_timeout=1.0)
    after = AfterTheCall(s)
    s.press(1)  # and nobody answers
    await s.wait_until(lambda: after.at_end is not None)
    assert after.cause == "no_answer"
    await s.wait_until(lambda: s.screen.title == "No answer")
    await after.comes_to_rest()


async def test_rejection(make_station: StationMaker, flat: OzWebClient) -> None:
    s = await make_station()
    after = AfterTheCall(s)
    incoming = Recorder(flat.onIncomingCall)
    s.press(1)
    call: Call = await incoming.wait_for(lambda c: True)
    await s.wait_until(lambda: s.screen.state is ScreenState.CALLING)
    await call.reject()
    await s.wait_until(lambda: after.at_end is not None)
    assert after.cause == "rejected"
    await s.wait_until(lambda: s.screen.title == "No answer")
    await after.comes_to_rest()


async def test_maximum_call_time(make_station: StationMaker, flat: OzWebClient) -> None:
    s = await make_station(max_call=2.0)  # the exchange warns a second before the end
    after = AfterTheCall(s)
    await answered(s, flat)
    await s.wait_until(lambda: s.screen.title == "Call ends soon")
    await s.wait_until(lambda: after.at_end is not None, timeout=5)
    assert after.cause == "max_duration"
    await after.comes_to_rest()
