"""The station's change feed: what differs is announced once per commit, handlers run in order
and apart, and ``wait_until`` sees every state, even one gone before the waiter resumes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from intercom.station.changes import Change, ChangeFeed


class State:
    def __init__(self) -> None:
        self.parts: dict[str, Any] = {"online": False, "relays": {"door": False}}
        self.feed = ChangeFeed(lambda: self.parts)

    def set(self, **parts: Any) -> Change | None:
        self.parts = {**self.parts, **parts}
        return self.feed.commit()


def test_a_commit_announces_what_differs_and_only_that() -> None:
    s = State()
    seen: list[Change] = []
    s.feed.on_changed(seen.append)
    first = s.feed.commit()
    assert first is not None and dict(first.state) == s.parts  # the first: everything
    assert s.set(online=True) == Change({"online": True})
    assert s.set(online=True) is None  # nothing differs: nothing announced
    assert s.set(relays={"door": True}, online=True) == Change({"relays": {"door": True}})
    assert "relays" in seen[-1] and "online" not in seen[-1]
    assert len(seen) == 3


def test_events_and_counts_are_announced_as_they_come() -> None:
    s = State()
    seen: list[Change] = []
    s.feed.on_changed(seen.append)
    s.feed.logged({"id": 7, "kind": "bell", "bell": 1})
    s.feed.announce(video_frames=3)
    assert seen == [Change(event={"id": 7, "kind": "bell", "bell": 1}), Change({"video_frames": 3})]


def test_handlers_run_in_order_and_one_failing_stops_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = State()
    order: list[str] = []

    def broken(change: Change) -> None:
        order.append("broken")
        raise RuntimeError("boom")

    s.feed.on_changed(lambda c: order.append("first"))
    s.feed.on_changed(broken)
    last = s.feed.on_changed(lambda c: order.append("last"))
    with caplog.at_level(logging.ERROR):
        s.set(online=True)
    assert order == ["first", "broken", "last"]
    assert "failed" in caplog.text
    last.unsubscribe()
    s.set(online=False)
    assert order[3:] == ["first", "broken"]


def test_a_closed_feed_announces_nothing() -> None:
    s = State()
    seen: list[Change] = []
    s.feed.on_changed(seen.append)
    s.feed.close()
    assert s.set(online=True) is None
    s.feed.logged({"id": 1, "kind": "stop"})
    assert seen == []


async def test_wait_until_returns_at_once_when_it_already_holds() -> None:
    s = State()
    await s.feed.wait_until(lambda: s.parts["online"] is False, timeout=0)


async def test_wait_until_sees_a_state_that_is_gone_before_the_waiter_resumes() -> None:
    """A relay that opens and closes within one callback: polling would miss the pulse."""
    s = State()
    s.feed.commit()

    def pulse() -> None:
        s.set(relays={"door": True})
        s.set(relays={"door": False})

    asyncio.get_running_loop().call_soon(pulse)  # runs once the waiter waits
    await s.feed.wait_until(lambda: s.parts["relays"]["door"], timeout=1)
    assert s.parts["relays"] == {"door": False}


async def test_wait_until_times_out_and_lets_go() -> None:
    s = State()
    with pytest.raises(TimeoutError):
        await s.feed.wait_until(lambda: s.parts["online"], timeout=0.05)
    assert len(s.feed) == 0  # no handler left behind


async def test_what_the_predicate_raises_reaches_the_waiter() -> None:
    s = State()
    asyncio.get_running_loop().call_soon(lambda: s.set(online=True))
    with pytest.raises(KeyError):
        await s.feed.wait_until(lambda: s.parts["online"] and s.parts["missing"], timeout=1)
