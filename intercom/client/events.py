"""Events in the seed's style: subscribe by calling the event with a handler.

``call.on_call_state_changed(handler)`` adds a handler and returns a ``Subscription``; the
subscription is callable like the handler itself, so the same call works as a decorator, and
``subscription.unsubscribe()`` removes it. Several handlers per event are kept in order.
Handlers run on the client's event loop; a coroutine handler is scheduled as a task.

An event passes the same arguments as the browser library's (``onCallStateChanged`` gets
``(state, call)``), and a handler that takes fewer gets only the leading ones: JavaScript
drops extra arguments silently, and Python handlers written for fewer, such as
``lambda state: ...``, keep working. How many a handler takes is read once, when it
subscribes; one with ``*args`` gets them all.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any, Generic, ParamSpec

log = logging.getLogger(__name__)
P = ParamSpec("P")


def _positional_arity(handler: Callable[..., Any]) -> int | None:
    """How many positional arguments ``handler`` accepts; None for any number (``*args``, or
    a callable whose signature Python cannot read, which is then given everything)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class Subscription(Generic[P]):
    __slots__ = ("_arity", "_event", "handler")

    def __init__(self, event: Event[P], handler: Callable[..., Any], arity: int | None) -> None:
        self._event = event
        self.handler = handler
        self._arity = arity

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self.handler(*args[: self._arity], **kwargs)

    def unsubscribe(self) -> None:
        self._event.remove(self.handler)


class Event(Generic[P]):
    __slots__ = ("_handlers", "_tasks", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        #: each handler with the number of leading arguments it takes (None: all)
        self._handlers: list[tuple[Callable[..., Any], int | None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def __call__(self, handler: Callable[..., Any]) -> Subscription[P]:
        """Subscribe ``handler``: it takes the event's arguments, or only the first few."""
        if not callable(handler):
            raise TypeError(f"{self.name} needs a callable handler, got {handler!r}")
        arity = _positional_arity(handler)
        self._handlers.append((handler, arity))
        return Subscription(self, handler, arity)

    def remove(self, handler: Callable[..., Any]) -> None:
        for index, (subscribed, _) in enumerate(self._handlers):
            if subscribed == handler:
                del self._handlers[index]
                return

    def __len__(self) -> int:
        return len(self._handlers)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every handler; one failing handler is logged and does not stop the others."""
        for handler, arity in list(self._handlers):
            try:
                result = handler(*args[:arity], **kwargs)
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
