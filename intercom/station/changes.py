"""What changed at the door, announced as it happens.

The station's parts change its state (the connection, the screen, the call, the relays, the door
contact, the lockout) and then *commit*: the feed compares what it observes now with what it
announced last and emits one ``Change`` holding the parts that differ, with their new values.
Events written to the log, and frames of the resident's video shown on the panel, are announced
as they happen. The status writer and the panel follow the feed; tests and integrations wait on
it (``wait_until``) rather than polling, and see every state, even one that lasts a moment.

Handlers run synchronously, in the order they subscribed, before ``commit`` returns: whoever
waits on a change resumes after every handler (the status file is written by then).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: The parts of the station's state that ``Station.status`` reports (``video_frames`` is not).
STATUS_PARTS = frozenset({"online", "screen", "call", "relays", "door_open", "lockout"})


@dataclass(frozen=True)
class Change:
    """One announcement: the parts of the state that changed (name -> new value), or the event
    just written to the log (its id, kind and detail; ``snapshot`` once a picture is linked)."""

    state: Mapping[str, Any] = field(default_factory=dict)
    event: Mapping[str, Any] | None = None

    def __contains__(self, part: object) -> bool:
        return part in self.state


ChangeHandler = Callable[[Change], object]


class ChangeSubscription:
    """Returned by ``on_changed``; ``unsubscribe()`` stops the handler."""

    __slots__ = ("_feed", "handler")

    def __init__(self, feed: ChangeFeed, handler: ChangeHandler) -> None:
        self._feed = feed
        self.handler = handler

    def unsubscribe(self) -> None:
        self._feed.remove(self.handler)


class ChangeFeed:
    """The station's announcements. ``observe`` returns the state as it is now, by part."""

    def __init__(self, observe: Callable[[], Mapping[str, Any]]) -> None:
        self._observe = observe
        self._last: dict[str, Any] = {}
        self._handlers: list[ChangeHandler] = []
        self._closed = False

    def on_changed(self, handler: ChangeHandler) -> ChangeSubscription:
        """Call ``handler(change)`` at every change from now on."""
        self._handlers.append(handler)
        return ChangeSubscription(self, handler)

    def remove(self, handler: ChangeHandler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def __len__(self) -> int:
        """How many handlers follow the feed."""
        return len(self._handlers)

    def commit(self) -> Change | None:
        """Announce what differs from the last announcement (the first one: everything)."""
        if self._closed:
            return None
        now = dict(self._observe())
        changed = {k: v for k, v in now.items() if k not in self._last or self._last[k] != v}
        self._last = now
        if not changed:
            return None
        change = Change(changed)
        self.emit(change)
        return change

    def logged(self, event: Mapping[str, Any]) -> None:
        self.emit(Change(event=event))

    def announce(self, **state: Any) -> None:
        """A change that is not observed but counted (frames shown): announced as it is."""
        self.emit(Change(state))

    def emit(self, change: Change) -> None:
        """Call every handler; one that fails is logged and does not stop the others."""
        if self._closed:
            return
        for handler in list(self._handlers):
            try:
                handler(change)
            except Exception:
                log.exception("a handler of the station's changes failed")

    async def wait_until(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        """Return once ``predicate()`` is true: now, or at a later change. It is evaluated at the
        moment of each change, so a state that lasts only until the next one is still seen.
        Raises ``TimeoutError`` after ``timeout`` seconds, or what the predicate raises."""
        if predicate():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def check(_change: Change) -> None:
            if done.done():
                return
            try:
                if predicate():
                    done.set_result(None)
            except Exception as exc:
                done.set_exception(exc)

        subscription = self.on_changed(check)
        try:
            async with asyncio.timeout(timeout):
                await done
        finally:
            subscription.unsubscribe()

    def close(self) -> None:
        """Nothing more is announced (the devices behind ``observe`` are closing)."""
        self._closed = True
