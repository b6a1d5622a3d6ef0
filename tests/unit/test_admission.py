"""Admission control on a fake clock: backoff, connection counts, quiet logging."""

from __future__ import annotations

import asyncio
import logging

import pytest

from intercom.exchange.addresses import local_addresses, url_host
from intercom.exchange.admission import ConnectionCounter, LoginThrottle, QuietLog, TokenBucket
from intercom.protocol import messages as m
from intercom.protocol.errors import ProtocolError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_address_backoff_starts_after_three_failures_and_doubles_to_a_cap() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    waits = []
    for _ in range(14):
        throttle.failed("192.0.2.1", None)
        waits.append(throttle.wait("192.0.2.1", None))
    assert waits[:2] == [0.0, 0.0]
    assert waits[2:6] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits) == 300.0
    assert throttle.wait("192.0.2.2", None) == 0.0  # another address is not held back
    clock.now += 901  # fifteen quiet minutes forget it
    assert throttle.wait("192.0.2.1", None) == 0.0


def test_extension_backoff_spares_addresses_that_logged_in_before() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    throttle.succeeded("192.0.2.10", "201")  # the flat's own phone
    for n in range(12):  # someone guessing from many addresses
        throttle.failed(f"198.51.100.{n}", "201")
    assert throttle.wait("203.0.113.5", "201") > 0  # a new address waits
    assert throttle.wait("192.0.2.10", "201") == 0  # the flat's phone does not
    assert throttle.wait("203.0.113.5", "202") == 0  # other flats are not affected


def test_a_success_does_not_wash_away_an_addresss_failures() -> None:
    throttle = LoginThrottle(Clock())
    for _ in range(5):
        throttle.failed("192.0.2.1", "202")
    throttle.succeeded("192.0.2.1", "203")  # a neighbour's own login from the same address
    assert throttle.wait("192.0.2.1", "202") > 0


async def test_checks_take_turns_per_address_and_per_extension() -> None:
    throttle = LoginThrottle(Clock())
    order: list[str] = []

    async def check(name: str, address: str, extension: str | None) -> None:
        async with throttle.turn(address, extension):
            order.append(f"{name}+")
            await asyncio.sleep(0)  # another check may start here unless it waits its turn
            order.append(f"{name}-")

    await asyncio.gather(
        check("a", "192.0.2.1", "201"),
        check("b", "192.0.2.1", None),
        check("c", "192.0.2.9", "201"),
        check("d", "192.0.2.9", "202"),
    )
    # a and b share an address, a and c an extension: never interleaved; d runs beside them.
    for first, second in (("a", "b"), ("a", "c")):
        spans = [order.index(f"{x}{edge}") for x in (first, second) for edge in "+-"]
        assert spans[1] < spans[2] or spans[3] < spans[0]
    assert not throttle._turns  # nothing is kept once nobody waits


def test_the_throttle_forgets_the_oldest_when_flooded_with_addresses() -> None:
    throttle = LoginThrottle(Clock(), size=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", None)
    assert len(throttle.addresses.entries) == 100


def test_connection_counter_limits_and_releases() -> None:
    counter = ConnectionCounter(total=3, per_address=2, pending_per_address=1)
    assert counter.open("a") is None
    assert counter.open("a") is not None  # a second one waiting to log in
    counter.logged_in("a")
    assert counter.open("a") is None
    assert counter.open("a") == "too many connections from this address"
    assert counter.open("b") is None
    assert counter.open("c") == "the exchange is full; try again later"
    counter.close("a", logged_in=True)
    counter.close("a", logged_in=False)
    counter.close("b", logged_in=False)
    assert counter.total == 0 and not counter.by_address and not counter.pending


def test_token_bucket_refills_with_time() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, 2, clock)
    assert bucket.take() and bucket.take() and not bucket.take()
    clock.now += 0.5
    assert bucket.take() and not bucket.take()


def test_quiet_log_keeps_a_flood_out_of_the_journal(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    quiet = QuietLog(logging.getLogger("test.quiet"), burst=3, period=60.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.quiet"):
        for n in range(1000):
            quiet.warning("refused %d", n)
        clock.now += 61
        quiet.warning("refused %d", 1000)
        quiet.warning("another kind")  # its own window: not hidden by the flood
    assert len(caplog.records) == 5
    assert "997 similar lines suppressed" in caplog.records[-2].getMessage()


def test_nesting_is_measured_without_recursion() -> None:
    assert m.nesting_depth('{"a": [1, {"b": "[[[[[[[[[[[["}]}') <= 3
    assert m.nesting_depth("[" * 100_000 + "]" * 100_000) == 100_000
    assert m.nesting_depth('"\\"[[[[[[[[[[["') == 0
    with pytest.raises(ProtocolError):
        m.decode_request('{"v":1,"id":1,"type":"login","data":' + "[" * 9 + "]" * 9 + "}")


def test_request_ids_are_found_without_decoding() -> None:
    assert m.peek_request_id('{"v":1,"type":"x","id":12,"data":{}}') == 12
    assert m.peek_request_id(b"garbage") is None


def test_local_addresses_are_read_from_proc(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fib_trie").write_text(
        "Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 192.0.2.7\n        /32 host LOCAL\n"
        "     |-- 192.0.2.255\n        /32 link BROADCAST\n"
    )
    (tmp_path / "if_inet6").write_text(
        "20010db8000000000000000000000001 02 40 00 80 eth0\n"
        "fe800000000000000000000000000001 02 40 20 80 eth0\n"
    )
    assert local_addresses(tmp_path) == ["192.0.2.7", "2001:db8::1"]
    assert url_host("2001:db8::1") == "[2001:db8::1]" and url_host("Door.Local") == "door.local"
