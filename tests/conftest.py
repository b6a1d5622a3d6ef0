"""Shared fixtures: a real exchange on 127.0.0.1 and real clients logged in to it."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from intercom.client import ConnectionState, OzWebClient
from intercom.exchange.server import Exchange

PASSWORD = "secret-{}"


def directory_config(**exchange: Any) -> dict[str, Any]:
    # Plain ws:// here, so that a failure is about one thing: TLS, the default, has its own
    # tests (tests/integration/test_tls.py), and the demo and browser tests run over it.
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "data_dir": "data",
        "ring_timeout": 5.0,
        "tls": {"enabled": False},
    }
    settings.update(exchange)

    def ext(number: str, name: str, kind: str, privileges: list[str]) -> dict[str, Any]:
        return {
            "number": number,
            "type": kind,
            "display_name": name,
            "password": PASSWORD.format(number),
            "privileges": privileges,
        }

    return {
        "exchange": settings,
        "extensions": [
            ext("100", "Front door", "station", ["call", "door"]),
            ext("201", "Flat 1", "webphone", ["call", "door"]),
            ext("202", "Flat 2", "webphone", ["call", "door"]),
            ext("203", "Flat 3", "webphone", ["call"]),
            ext("300", "Lobby panel", "api", ["directory"]),
            ext(
                "900",
                "Concierge",
                "webphone",
                ["call", "monitor", "modify", "directory", "history", "door"],
            ),
        ],
        "users": [
            {
                "id": "alice",
                "full_name": "Alice Example",
                "email": "alice@example.org",
                "phone": "+100",
                "mobile": "+101",
                "extensions": ["201", "203"],
            },
            {"id": "bob", "full_name": "Bob Example", "extensions": ["202"]},
        ],
        "ring_groups": [
            {"number": "200", "name": "All flats", "members": ["201", "202"]},
            {
                "number": "210",
                "name": "One by one",
                "strategy": "sequential",
                "members": ["201", "202"],
                "member_timeout": 0.5,
            },
        ],
        "outside_lines": [{"id": "pstn", "type": "sip", "prefix": "0"}],
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._exit_status = exitstatus  # type: ignore[attr-defined]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask of a root shell or a service without ``UMask=`` (022): files a program makes
    without care are world-readable, which is what the secrets tests must rule out."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def config_path(tmp_path: Path) -> Callable[..., Path]:
    def write(**exchange: Any) -> Path:
        path = tmp_path / "exchange.toml"
        path.write_text(tomli_w.dumps(directory_config(**exchange)))
        return path

    return write


@pytest.fixture
async def exchange(config_path: Callable[..., Path]) -> AsyncIterator[Exchange]:
    ex = Exchange.from_file(config_path())
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


Connector = Callable[..., Awaitable[OzWebClient]]


@pytest.fixture
async def login(exchange: Exchange) -> AsyncIterator[Connector]:
    clients: list[OzWebClient] = []

    async def connect(extension: str, **kwargs: Any) -> OzWebClient:
        kwargs.setdefault("media", False)  # signalling tests; media tests pass MediaOptions
        client = OzWebClient(**kwargs)
        clients.append(client)
        state = await client.connect(
            exchange.url, extension, {"Password": PASSWORD.format(extension)}
        )
        assert state is ConnectionState.ACCESS_GRANTED
        return client

    yield connect
    for client in clients:
        await client.disconnect()


async def next_event(event: Any, timeout: float = 5.0) -> Any:
    """Wait for the next emission of a client event and return its argument(s)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def handler(*args: Any) -> None:
        if not future.done():
            future.set_result(args[0] if len(args) == 1 else args)

    sub = event(handler)
    try:
        async with asyncio.timeout(timeout):
            return await future
    finally:
        sub.unsubscribe()


class Recorder:
    """Collects emissions of an event and lets a test wait for one that matches."""

    def __init__(self, event: Any) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()
        event(self._record)

    def _record(self, *args: Any) -> None:
        self.items.append(args[0] if len(args) == 1 else args)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                self._changed.clear()
                await self._changed.wait()


def pytest_unconfigure(config: pytest.Config) -> None:
    """A peer connection left open by a failing test keeps aiortc's decoder threads alive,
    and the interpreter would wait for them for ever: name them and leave, so that a red run
    ends instead of hanging."""
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if stuck:
        names = ", ".join(t.name for t in stuck)
        print(f"\nthreads left running after the tests: {names}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        status = getattr(config, "_exit_status", None)
        os._exit(1 if status is None else int(status) or 1)
