"""Buttons that matter to a door station: bells and the tamper switch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gpiozero import Button, Factory


class Bell:
    """One bell push. ``when_pressed(bell_id)`` runs on the event loop, once per press
    (debounced, 100 ms by default)."""

    def __init__(
        self,
        bell_id: int,
        pin: int,
        *,
        pull_up: bool = True,
        bounce_time: float = 0.1,
        pin_factory: Factory | None = None,
    ) -> None:
        self.bell_id = bell_id
        self.bounce_time = bounce_time
        self._last_press = -1e9
        self._loop = asyncio.get_running_loop()
        self._button = Button(
            pin, pull_up=pull_up, bounce_time=bounce_time, pin_factory=pin_factory
        )
        self.when_pressed: Callable[[int], None] | None = None
        self._button.when_pressed = lambda: self._loop.call_soon_threadsafe(self._pressed)

    def _pressed(self) -> None:
        # Debounced here as well as by the pin driver, so that every pin factory (the
        # simulated one included, which keeps no bounce time) behaves the same.
        now = self._loop.time()
        if now - self._last_press < self.bounce_time:
            return
        self._last_press = now
        if self.when_pressed is not None:
            self.when_pressed(self.bell_id)

    def press(self) -> None:
        """A press from software (``intercom bell``, SIGUSR2)."""
        self._last_press = -1e9
        self._pressed()

    def close(self) -> None:
        self._button.close()


class Tamper:
    """A switch that opens when the station's front is removed."""

    def __init__(
        self, pin: int, *, pull_up: bool = True, pin_factory: Factory | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._button = Button(pin, pull_up=pull_up, bounce_time=0.05, pin_factory=pin_factory)
        self.when_tampered: Callable[[], None] | None = None
        self._button.when_released = lambda: self._loop.call_soon_threadsafe(self._tampered)

    def _tampered(self) -> None:
        if self.when_tampered is not None:
            self.when_tampered()

    def close(self) -> None:
        self._button.close()
