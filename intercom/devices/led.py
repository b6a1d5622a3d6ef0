"""The status LED: off when idle, blinking while ringing, on in a call, flickering offline."""

from __future__ import annotations

from enum import StrEnum

from gpiozero import LED, Factory


class LedMode(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    IN_CALL = "in_call"
    OFFLINE = "offline"


class StatusLed:
    def __init__(self, pin: int, *, pin_factory: Factory | None = None) -> None:
        self._led = LED(pin, pin_factory=pin_factory)
        self.mode = LedMode.IDLE

    def show(self, mode: LedMode) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        if mode is LedMode.IDLE:
            self._led.off()
        elif mode is LedMode.IN_CALL:
            self._led.on()
        elif mode is LedMode.RINGING:
            self._led.blink(on_time=0.5, off_time=0.5)
        else:
            self._led.blink(on_time=0.1, off_time=0.4)

    @property
    def is_lit(self) -> bool:
        return bool(self._led.is_lit)

    def close(self) -> None:
        self._led.close()
