"""Admission control: how many connections an address may hold, how often a password may be
tried, and how fast a connection may send.

Everything here is bounded in memory (a flood of addresses evicts the oldest entries) and
costs O(1) per decision, so refusing a stranger is always cheaper than serving one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

Clock = Callable[[], float]


class TokenBucket:
    """Allows ``rate`` messages a second with bursts of ``burst``."""

    __slots__ = ("burst", "clock", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.clock = clock
        self.last = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class ConnectionCounter:
    """Open connections in total and per address, and of those, the ones not logged in yet.

    ``open`` returns a refusal reason or None; every accepted ``open`` is matched by one
    ``close`` (the server calls it in a ``finally``)."""

    def __init__(self, total: int, per_address: int, pending_per_address: int) -> None:
        self.set_limits(total, per_address, pending_per_address)
        self.total = 0
        self._empty = asyncio.Event()
        self._empty.set()
        self.by_address: dict[str, int] = {}
        self.pending: dict[str, int] = {}

    def set_limits(self, total: int, per_address: int, pending_per_address: int) -> None:
        """New limits (a reload): connections already open stay; new ones meet these."""
        self.total_limit = total
        self.per_address_limit = per_address
        self.pending_limit = pending_per_address

    def open(self, address: str) -> str | None:
        if self.total >= self.total_limit:
            return "the exchange is full; try again later"
        if self.by_address.get(address, 0) >= self.per_address_limit:
            return "too many connections from this address"
        if self.pending.get(address, 0) >= self.pending_limit:
            return "too many connections from this address waiting to log in"
        self.total += 1
        self._empty.clear()
        self.by_address[address] = self.by_address.get(address, 0) + 1
        self.pending[address] = self.pending.get(address, 0) + 1
        return None

    def logged_in(self, address: str) -> None:
        _decrement(self.pending, address)

    async def drained(self) -> None:
        """Until no connection is open (a stop that waits for its clients to go)."""
        await self._empty.wait()

    def close(self, address: str, logged_in: bool) -> None:
        self.total -= 1
        if self.total == 0:
            self._empty.set()
        _decrement(self.by_address, address)
        if not logged_in:
            _decrement(self.pending, address)


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class _BackoffTable:
    """Failures per key: after ``free`` failures the key waits ``base`` seconds, and each
    further failure doubles the wait (up to ``cap``); ``forget`` seconds without a failure
    clear the key."""

    def __init__(
        self, free: int, base: float, cap: float, forget: float, size: int, clock: Clock
    ) -> None:
        self.free, self.base, self.cap, self.forget = free, base, cap, forget
        self.size = size
        self.clock = clock
        self.entries: OrderedDict[str, _Failures] = OrderedDict()

    def _get(self, key: str) -> _Failures | None:
        entry = self.entries.get(key)
        if entry is not None and self.clock() - entry.last > self.forget:
            del self.entries[key]
            return None
        return entry

    def wait(self, key: str) -> float:
        entry = self._get(key)
        return 0.0 if entry is None else max(0.0, entry.blocked_until - self.clock())

    def failed(self, key: str) -> None:
        now = self.clock()
        entry = self._get(key) or _Failures()
        entry.count += 1
        entry.last = now
        over = entry.count - self.free
        if over >= 0:
            entry.blocked_until = now + min(self.cap, self.base * 2 ** min(over, 30))
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def clear(self, key: str) -> None:
        self.entries.pop(key, None)


class LoginThrottle:
    """Backoff after failed logins, per address and per extension, one check at a time.

    Per address: after three failures 1 s, doubling with each further one up to five
    minutes. Per extension (guessing one flat's password from many addresses): after ten
    failures 1 s, doubling up to a minute. An address that has logged in to an extension
    before is not held back by that extension's backoff, so someone guessing a flat's
    password from elsewhere cannot keep the flat's own devices out (a device the flat never
    used before waits out the backoff like everyone else). A success forgets nothing: a
    neighbour's own login does not wash away the failures of guesses from the same address.

    Checks take turns (``turn``): one at a time per address and per extension, so that many
    guesses sent at once are judged one after another, each seeing the failures before it."""

    def __init__(self, clock: Clock = time.monotonic, size: int = 10_000) -> None:
        self.addresses = _BackoffTable(3, 1.0, 300.0, 900.0, size, clock)
        self.extensions = _BackoffTable(10, 1.0, 60.0, 900.0, size, clock)
        self.known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.size = size
        self._turns: dict[str, _Turn] = {}

    def wait(self, address: str, extension: str | None) -> float:
        """Seconds before this address may try this extension again (0: now)."""
        wait = self.addresses.wait(address)
        if extension is not None and (address, extension) not in self.known:
            wait = max(wait, self.extensions.wait(extension))
        return wait

    def failed(self, address: str, extension: str | None) -> None:
        self.addresses.failed(address)
        if extension is not None:
            self.extensions.failed(extension)

    def succeeded(self, address: str, extension: str) -> None:
        self.known[(address, extension)] = None
        self.known.move_to_end((address, extension))
        while len(self.known) > self.size:
            self.known.popitem(last=False)

    @contextlib.asynccontextmanager
    async def turn(self, address: str, extension: str | None) -> AsyncIterator[None]:
        """Wait for this address's (and this extension's) earlier checks to finish. Always
        the address first, then the extension, so that two turns never wait on each other."""
        keys = [f"a:{address}"] + ([f"e:{extension}"] if extension is not None else [])
        async with contextlib.AsyncExitStack() as stack:
            for key in keys:
                turn = self._turns.get(key)
                if turn is None:
                    turn = self._turns[key] = _Turn()
                turn.users += 1
                stack.callback(self._leave, key, turn)
                await stack.enter_async_context(turn.lock)
            yield

    def _leave(self, key: str, turn: _Turn) -> None:
        turn.users -= 1
        if turn.users == 0:
            self._turns.pop(key, None)  # nobody waits: the table holds only live turns


class _Turn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class QuietLog:
    """At most ``burst`` lines per ``period`` seconds for each kind of refusal (each message
    template); the rest are counted and reported with the next line of that kind that gets
    through. A flood of bad frames cannot flood the journal, nor hide a quieter kind (a
    password being guessed) behind its own."""

    def __init__(
        self, logger: logging.Logger, burst: int = 10, period: float = 60.0,
        clock: Clock = time.monotonic,
    ) -> None:  # fmt: skip
        self.logger = logger
        self.burst, self.period, self.clock = burst, period, clock
        self._windows: dict[str, list[float]] = {}  # template -> [start, lines, suppressed]

    def warning(self, message: str, *args: object, exc_info: bool = False) -> None:
        now = self.clock()
        window = self._windows.get(message)
        if window is None:
            if len(self._windows) > 100:  # templates are few and fixed; never grow without end
                self._windows.clear()
            window = self._windows[message] = [now, 0, 0]
        if now - window[0] >= self.period:
            window[0], window[1] = now, 0
        if window[1] >= self.burst:
            window[2] += 1
            return
        window[1] += 1
        text = message
        if window[2]:
            text += f" ({int(window[2])} similar lines suppressed)"
            window[2] = 0
        self.logger.warning(text, *args, exc_info=exc_info)
