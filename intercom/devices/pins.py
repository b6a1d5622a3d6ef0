"""Which pins: the board's (lgpio on a Pi, imported only then) or simulated ones."""

from __future__ import annotations

from gpiozero import Factory
from gpiozero.pins.mock import MockFactory


def pin_factory(simulated: bool) -> Factory:
    if simulated:
        return MockFactory()
    from gpiozero.pins.lgpio import LGPIOFactory  # Pi only

    return LGPIOFactory()
