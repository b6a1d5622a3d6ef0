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
    """Two layers: the *steady* screen says what is true now (idle, calling, in a call, on
    hold, offline) and stays until the next one; a *notice* (a message, "Door open", "Wrong
    code", "No answer"...) is shown over it for some seconds and then gives way to the steady
    screen as it is at that moment. A notice therefore never brings back a screen that stopped
    being true while it was up: the call that ended under "Door open" leaves the greeting."""

    greeting: str = "Please ring"
    width_chars: int = 20
    state: ScreenState = ScreenState.IDLE
    title: str = ""
    text: str = ""
    since: float = field(default_factory=time.monotonic)
    until: float | None = None  # when a notice or message gives way
    #: the steady screen under a notice; None: idle, with the greeting as it is then
    _steady: Shown | None = None
    #: the notice up is about the call ("Call ends soon") and goes when the call ends
    _ends_with_call: bool = False

    def show(
        self,
        state: ScreenState,
        title: str,
        text: str = "",
        seconds: float | None = None,
        *,
        ends_with_call: bool = False,
    ) -> None:
        """Without ``seconds``: the steady screen, replacing whatever is shown. With them: a
        notice over the steady screen, which it leaves alone."""
        if seconds is None:
            steady = Shown(state, title, text)
            self._steady = None if state is ScreenState.IDLE and title == self.greeting else steady
        self._ends_with_call = ends_with_call and seconds is not None
        self.state, self.title, self.text = state, title, text
        self.since = time.monotonic()
        self.until = None if seconds is None else self.since + seconds

    def idle(self) -> None:
        self.show(ScreenState.IDLE, self.greeting)

    def call_over(self) -> None:
        """The call ended: from now on the steady screen is idle. A notice still up stays for
        its time (the visitor still reads "Door open", or the resident's last message) and then
        gives way to the greeting; one about the call itself goes at once."""
        self._steady = None
        if self.until is None or self._ends_with_call:
            self.idle()

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
        """Give way to the steady screen once a notice ran out; True when it changed."""
        now = time.monotonic() if now is None else now
        if self.until is None or now < self.until:
            return False
        steady = self._steady or Shown(ScreenState.IDLE, self.greeting, "")
        self.until, self._ends_with_call = None, False
        self.state, self.title, self.text = steady
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
