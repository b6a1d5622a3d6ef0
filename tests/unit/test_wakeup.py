"""The server's side of the switch's timers: one loop timer, armed for the switch's next
deadline, that ticks the switch and arms itself again."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from intercom.exchange.server import Wakeup

EARLY = 0.001


class StubSwitch:
    """A switch's driving surface: deadlines in its timer clock's time (monotonic), and
    ticks recorded."""

    def __init__(self, *deadlines: float) -> None:
        self.deadlines = sorted(deadlines)
        self.ticks: list[float] = []
        self.ticked = asyncio.Event()
        self.fail = False

    def timer_clock(self) -> float:
        return time.monotonic()

    def next_deadline(self) -> float | None:
        return self.deadlines[0] if self.deadlines else None

    def tick(self) -> None:
        now = self.timer_clock()
        self.ticks.append(now)
        # A loop timer may fire a clock resolution early: the switch would find nothing due
        # and ask again; the stub counts that tick as the deadline's.
        self.deadlines = [d for d in self.deadlines if d > now + EARLY]
        self.ticked.set()
        if self.fail:
            raise RuntimeError("a timer failed")


async def next_tick(switch: StubSwitch) -> float:
    switch.ticked.clear()
    async with asyncio.timeout(5):
        await switch.ticked.wait()
    return switch.ticks[-1]


async def test_ticks_at_each_deadline_then_rests() -> None:
    start = time.monotonic()
    switch = StubSwitch(start + 0.02, start + 0.05)
    wakeup = Wakeup(switch)  # type: ignore[arg-type]
    wakeup.rearm()
    assert await next_tick(switch) >= start + 0.02 - EARLY
    assert await next_tick(switch) >= start + 0.05 - EARLY
    assert switch.next_deadline() is None
    assert wakeup._handle is None  # nothing left to wake up for


async def test_rearming_for_the_same_deadline_keeps_the_one_timer() -> None:
    switch = StubSwitch(time.monotonic() + 60)
    wakeup = Wakeup(switch)  # type: ignore[arg-type]
    wakeup.rearm()
    armed = wakeup._handle
    wakeup.rearm()
    assert wakeup._handle is armed
    switch.deadlines.insert(0, time.monotonic() + 30)  # an earlier deadline replaces it
    wakeup.rearm()
    assert wakeup._handle is not armed and armed is not None and armed.cancelled()
    wakeup.cancel()


async def test_a_failing_timer_is_logged_and_the_next_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    start = time.monotonic()
    switch = StubSwitch(start + 0.01, start + 0.03)
    switch.fail = True
    wakeup = Wakeup(switch)  # type: ignore[arg-type]
    wakeup.rearm()
    await next_tick(switch)
    switch.fail = False
    assert await next_tick(switch) >= start + 0.03 - EARLY
    assert "a call timer failed" in caplog.text
