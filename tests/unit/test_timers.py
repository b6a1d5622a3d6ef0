"""Timers as data: deadlines run in order at their time, a name holds one timer, stopping is
final, and cancelled timers do not pile up."""

from __future__ import annotations

import functools

from intercom.exchange.timers import Timer, Timers


def fresh() -> tuple[Timers, dict[str, Timer], list[str]]:
    """Timers, one owner's table of named timers, and a log of what ran."""
    return Timers(), {}, []


def test_due_timers_run_earliest_first_and_leave_their_table() -> None:
    timers, table, ran = fresh()
    timers.start(table, "b", 20.0, lambda: ran.append("b"))
    timers.start(table, "a", 10.0, lambda: ran.append("a"))
    assert timers.next_deadline() == 10.0
    assert timers.run_due(9.99) == 0
    assert timers.run_due(20.0) == 2
    assert ran == ["a", "b"] and table == {}
    assert timers.next_deadline() is None


def test_starting_a_name_again_replaces_its_timer() -> None:
    timers, table, ran = fresh()
    timers.start(table, "ring", 10.0, lambda: ran.append("old"))
    timers.start(table, "ring", 30.0, lambda: ran.append("new"))
    assert timers.next_deadline() == 30.0 and len(timers) == 1
    timers.run_due(100.0)
    assert ran == ["new"]


def test_stop_cancels_named_timers_or_all_of_them() -> None:
    timers, table, ran = fresh()
    for name, when in (("ring", 1.0), ("member", 2.0), ("end", 3.0)):
        timers.start(table, name, when, functools.partial(ran.append, name))
    timers.stop(table, "ring", "absent")
    assert set(table) == {"member", "end"}
    timers.stop(table)
    assert table == {} and timers.next_deadline() is None
    timers.run_due(10.0)
    assert ran == []


def test_a_timer_may_start_another_that_is_already_due() -> None:
    timers, table, ran = fresh()

    def first() -> None:
        ran.append("first")
        timers.start(table, "second", 5.0, lambda: ran.append("second"))

    timers.start(table, "first", 5.0, first)
    assert timers.run_due(5.0) == 2
    assert ran == ["first", "second"]


def test_stopping_a_fired_timer_does_nothing() -> None:
    timers, table, _ = fresh()
    fired = timers.start(table, "x", 1.0, lambda: None)
    timers.run_due(1.0)
    table["x"] = fired  # a stale reference, as a finished call might hold
    timers.stop(table, "x")
    assert len(timers) == 0


def test_cancelled_timers_are_compacted_away() -> None:
    timers = Timers()
    tables: list[dict[str, Timer]] = [{} for _ in range(1000)]
    for i, table in enumerate(tables):
        timers.start(table, "end", 3600.0 + i, lambda: None)
    for table in tables[:900]:
        timers.stop(table)
    assert len(timers) == 100
    assert len(timers._heap) < 300  # not a thousand entries waiting an hour each
    assert timers.next_deadline() == 3600.0 + 900
