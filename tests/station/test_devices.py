"""Devices on simulated pins (gpiozero's MockFactory): relay levels and timing, bells,
door contact and tamper."""

from __future__ import annotations

import asyncio

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.devices.inputs import Bell, Tamper
from intercom.devices.lock import DoorContact, LockRelay


@pytest.fixture
def pins() -> MockFactory:
    return MockFactory()


async def test_relay_is_off_at_start_pulses_and_lets_go(pins: MockFactory) -> None:
    pin = pins.pin(27)
    pin.drive_high()  # as a crashed run might have left it
    changes: list[bool] = []
    released = asyncio.Event()
    with LockRelay(27, pulse_seconds=1.0, pin_factory=pins) as lock:
        assert pin.state is False  # off as soon as the firmware starts
        def changed(opened: bool) -> None:
            changes.append(opened)
            if not opened:
                released.set()

        lock.when_changed = changed
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        lock.open()
        assert pin.state is True and lock.is_open
        async with asyncio.timeout(3):
            await released.wait()
        assert 0.95 <= loop.time() - t0 <= 1.5
        assert pin.state is False
        lock.open()
    assert pin.state is False  # closing lets go even mid-pulse
    assert changes[:2] == [True, False]


async def test_active_low_relay_and_bistable(pins: MockFactory) -> None:
    lock = LockRelay(22, active_high=False, bistable=True, pin_factory=pins)
    assert pins.pin(22).state is True  # active low: high is off
    lock.open()
    assert pins.pin(22).state is False and lock.is_open
    lock.release()
    assert pins.pin(22).state is True
    lock.close()
    with pytest.raises(ValueError):
        LockRelay(23, pulse_seconds=45, pin_factory=pins)


async def test_door_contact_ends_the_pulse_and_warns_when_left_open(pins: MockFactory) -> None:
    lock = LockRelay(27, pulse_seconds=10, pin_factory=pins)
    contact = DoorContact(5, lock, open_too_long=0.3, pin_factory=pins)
    too_long = asyncio.Event()
    opened = asyncio.Event()
    contact.when_open_too_long = too_long.set
    contact.when_opened = opened.set
    lock.open()
    pins.pin(5).drive_low()  # the magnet moves away: door open
    async with asyncio.timeout(2):
        await opened.wait()
    assert not lock.is_open and pins.pin(27).state is False
    async with asyncio.timeout(2):
        await too_long.wait()
    contact.close()
    lock.close()


async def test_bell_press_is_debounced_and_reaches_the_loop(pins: MockFactory) -> None:
    presses: asyncio.Queue[int] = asyncio.Queue()
    bell = Bell(2, 17, bounce_time=0.1, pin_factory=pins)
    bell.when_pressed = presses.put_nowait
    pin = pins.pin(17)
    pin.drive_low()
    pin.drive_high()
    pin.drive_low()  # contact bounce within 100 ms: one press
    assert await asyncio.wait_for(presses.get(), 2) == 2
    await asyncio.sleep(0.2)  # the bounce window is the thing under test
    assert presses.empty()
    bell.press()
    assert await asyncio.wait_for(presses.get(), 1) == 2
    bell.close()


async def test_tamper(pins: MockFactory) -> None:
    pin = pins.pin(6)
    tamper = Tamper(6, pin_factory=pins)
    pin.drive_low()  # front fitted: switch closed
    hit = asyncio.Event()
    tamper.when_tampered = hit.set
    pin.drive_high()
    async with asyncio.timeout(2):
        await hit.wait()
    tamper.close()
