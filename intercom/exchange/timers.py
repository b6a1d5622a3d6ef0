"""Call timers as data: the switch says which deadlines it wants; whoever drives it keeps time.

The switch never touches an event loop or the system clock. It asks ``Timers`` for a deadline
(``start``) and cancels deadlines it no longer wants (``stop``, the one way to cancel). Its
driver (the server's event loop, or a test's fake clock) asks for ``next_deadline()`` after
each step, arranges to wake up then, and calls ``switch.tick()``, which runs what is due.

Deadlines are absolute times of the switch's clock, so a call's timers can be read, compared
and moved (``call.extend``) as plain numbers.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

#: Rebuild the heap once this many entries are dead and they are the majority: a cancelled
#: call timer would otherwise stay until its time came (a call's maximum duration: an hour).
_COMPACT_AT = 64


@dataclass(eq=False, slots=True)
class Timer:
    when: float
    name: str
    action: Callable[[], None]
    owner: dict[str, Timer] = field(repr=False)
    cancelled: bool = False


class Timers:
    """All pending deadlines of one switch, earliest first.

    Each timer belongs to a name in an owner's table (a session's ``timers``): starting a
    name replaces the timer it had, and a timer leaves its table when it fires or is stopped,
    so the table always says what is pending."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._dead = 0

    def __len__(self) -> int:
        return len(self._heap) - self._dead

    def start(
        self, owner: dict[str, Timer], name: str, when: float, action: Callable[[], None]
    ) -> Timer:
        self.stop(owner, name)
        timer = owner[name] = Timer(when, name, action, owner)
        heapq.heappush(self._heap, (when, next(self._order), timer))
        return timer

    def stop(self, owner: dict[str, Timer], *names: str) -> None:
        """Cancel the named timers of ``owner`` (all of them when no name is given); a name
        with no timer is skipped."""
        for name in names or list(owner):
            timer = owner.pop(name, None)
            if timer is not None and not timer.cancelled:
                timer.cancelled = True
                self._dead += 1
        if self._dead > _COMPACT_AT and self._dead * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
            self._dead = 0

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
            self._dead -= 1
        return heap[0][0] if heap else None

    def run_due(self, now: float) -> int:
        """Run every timer due at ``now``, earliest first (those a running one starts too, if
        they are due). Returns how many ran."""
        ran = 0
        while (when := self.next_deadline()) is not None and when <= now:
            _, _, timer = heapq.heappop(self._heap)
            timer.cancelled = True  # fired: stopping it now does nothing
            if timer.owner.get(timer.name) is timer:
                del timer.owner[timer.name]
            timer.action()
            ran += 1
        return ran
