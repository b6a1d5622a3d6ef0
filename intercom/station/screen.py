"""What the station's small screen shows, as a model that tests read; ``devices.screen`` turns
its lines into pixels."""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class ScreenState(StrEnum):
    IDLE = "idle"
    CALLING = "calling"
    IN_CALL = "in_call"
    ON_HOLD = "on_hold"
    DOOR_OPEN = "door_open"
    OFFLINE = "offline"
    NOTICE = "notice"  # busy, no answer, wrong code...
    MESSAGE = "message"  # text from the resident


class Shown(NamedTuple):
    """What the screen says, as the station announces it when it changes."""

    state: ScreenState
    title: str
    text: str


@dataclass
class ScreenModel:
    greeting: str = "Please ring"
    width_chars: int = 20
    state: ScreenState = ScreenState.IDLE
    title: str = ""
    text: str = ""
    since: float = field(default_factory=time.monotonic)
    until: float | None = None  # when a notice or message gives way
    _underneath: tuple[ScreenState, str, str] | None = None

    def show(
        self, state: ScreenState, title: str, text: str = "", seconds: float | None = None
    ) -> None:
        if seconds is not None and self._underneath is None and self.until is None:
            self._underneath = (self.state, self.title, self.text)
        if seconds is None:
            self._underneath = None
        self.state, self.title, self.text = state, title, text
        self.since = time.monotonic()
        self.until = None if seconds is None else self.since + seconds

    def idle(self) -> None:
        self.show(ScreenState.IDLE, self.greeting)

    def shown(self) -> Shown:
        return Shown(self.state, self.title, self.text)

    def set_greeting(self, greeting: str) -> None:
        """A new greeting (a reload): shown at once if the screen is idle."""
        if greeting == self.greeting:
            return
        self.greeting = greeting
        if self.state is ScreenState.IDLE:
            self.idle()

    def expire(self, now: float | None = None) -> bool:
        """Return to what was underneath once a timed text ran out; True when it changed."""
        now = time.monotonic() if now is None else now
        if self.until is None or now < self.until:
            return False
        state, title, text = self._underneath or (ScreenState.IDLE, self.greeting, "")
        self._underneath, self.until = None, None
        self.state, self.title, self.text = state, title, text
        self.since = now
        return True

    def lines(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        out = [self.title]
        if self.state is ScreenState.CALLING:
            out.append(f"{int(now - self.since)} s")
        if self.text:
            out += textwrap.wrap(self.text, self.width_chars) or [""]
        return out
