"""The door lock: a relay (or MOSFET) output, and an optional door contact.

Invariant: the relay is off when this object is made and when it is closed, whatever happened
in between, so the firmware starting, stopping or crashing never leaves a door open. (A
crash that kills the process leaves the pin where it was until the next start switches it off;
the systemd unit's ExecStopPost does the same.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from gpiozero import Button, Factory, OutputDevice


class LockRelay:
    """Monostable (pulse for N seconds) or bistable (stays as set) lock output."""

    def __init__(
        self,
        pin: int,
        *,
        active_high: bool = True,
        pulse_seconds: float = 5.0,
        bistable: bool = False,
        pin_factory: Factory | None = None,
    ) -> None:
        if not 1.0 <= pulse_seconds <= 30.0:
            raise ValueError("pulse_seconds must be between 1 and 30")
        self.pulse_seconds = pulse_seconds
        self.bistable = bistable
        self._out = OutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )
        self._release: asyncio.TimerHandle | None = None
        self.opened_at: float | None = None
        #: called with True when the relay opens the door, False when it lets go
        self.when_changed: Callable[[bool], None] | None = None

    @property
    def is_open(self) -> bool:
        return bool(self._out.value)

    def open(self, seconds: float | None = None) -> None:
        """Energise the strike; a monostable lock lets go after ``seconds`` (default pulse)."""
        if self._release is not None:
            self._release.cancel()
            self._release = None
        self._out.on()
        self.opened_at = time.monotonic()
        if not self.bistable:
            delay = self.pulse_seconds if seconds is None else seconds
            self._release = asyncio.get_running_loop().call_later(delay, self.release)
        if self.when_changed is not None:
            self.when_changed(True)

    def release(self) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None
        was_open = self.is_open
        self._out.off()
        self.opened_at = None
        if was_open and self.when_changed is not None:
            self.when_changed(False)

    def close(self) -> None:
        self.release()
        self._out.close()

    def __enter__(self) -> LockRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DoorContact:
    """A reed contact: it ends a lock pulse early once the door opens, and raises
    ``when_open_too_long`` if the door stays open."""

    def __init__(
        self,
        pin: int,
        lock: LockRelay | None = None,
        *,
        pull_up: bool = True,
        open_too_long: float = 60.0,
        pin_factory: Factory | None = None,
    ) -> None:
        # Pressed = contact open = door open (the magnet moved away).
        self._button = Button(pin, pull_up=pull_up, bounce_time=0.05, pin_factory=pin_factory)
        self._lock = lock
        self.open_too_long = open_too_long
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self.when_opened: Callable[[], None] | None = None
        self.when_closed: Callable[[], None] | None = None
        self.when_open_too_long: Callable[[], None] | None = None
        self._button.when_pressed = lambda: self._loop.call_soon_threadsafe(self._opened)
        self._button.when_released = lambda: self._loop.call_soon_threadsafe(self._closed)

    @property
    def is_open(self) -> bool:
        return bool(self._button.is_pressed)

    def _opened(self) -> None:
        if self._lock is not None and self._lock.is_open and not self._lock.bistable:
            self._lock.release()  # the visitor is through: stop buzzing
        self._timer = self._loop.call_later(self.open_too_long, self._too_long)
        if self.when_opened is not None:
            self.when_opened()

    def _closed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.when_closed is not None:
            self.when_closed()

    def _too_long(self) -> None:
        self._timer = None
        if self.when_open_too_long is not None:
            self.when_open_too_long()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._button.close()
