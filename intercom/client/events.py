"""Events in the seed's style: subscribe by calling the event with a handler.

``call.on_call_state_changed(handler)`` adds a handler and returns a ``Subscription``; the
subscription is callable like the handler itself, so the same call works as a decorator, and
``subscription.unsubscribe()`` removes it. Several handlers per event are kept in order.
Handlers run on the client's event loop; a coroutine handler is scheduled as a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from typing import Any, Generic, ParamSpec

log = logging.getLogger(__name__)
P = ParamSpec("P")


class Subscription(Generic[P]):
    __slots__ = ("_event", "handler")

    def __init__(self, event: Event[P], handler: Callable[P, Any]) -> None:
        self._event = event
        self.handler = handler

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self.handler(*args, **kwargs)

    def unsubscribe(self) -> None:
        self._event.remove(self.handler)


class Event(Generic[P]):
    __slots__ = ("_handlers", "_tasks", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[P, Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def __call__(self, handler: Callable[P, Any]) -> Subscription[P]:
        if not callable(handler):
            raise TypeError(f"{self.name} needs a callable handler, got {handler!r}")
        self._handlers.append(handler)
        return Subscription(self, handler)

    def remove(self, handler: Callable[P, Any]) -> None:
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    def __len__(self) -> int:
        return len(self._handlers)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every handler; one failing handler is logged and does not stop the others."""
        for handler in list(self._handlers):
            try:
                result = handler(*args, **kwargs)
            except Exception:
                log.exception("handler of %s failed", self.name)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("handler of %s failed", self.name, exc_info=task.exception())
