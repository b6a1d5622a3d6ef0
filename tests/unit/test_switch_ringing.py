"""Ringing and its outcomes on a fake clock: answered, not answered in time, busy, not found,
rejected, cancelled. Each outcome has its own state and cause on every leg."""

from __future__ import annotations

import pytest

from intercom.protocol.enums import CallState, CallType, EndCause, SessionState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import IncomingCall, PeerChange
from intercom.protocol.records import ErrorRecord, SessionRecord
from tests.unit.switch_rig import START, Rig


def test_a_call_is_routed_at_the_next_tick_after_the_reply() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    started = rig.switch.start_call(door, "201", CallType.AUDIO)
    # The reply (call and session ids) goes out first: nothing has rung yet.
    assert flat.count("call.incoming") == 0
    assert rig.switch.next_deadline() == START
    rig.advance(0)
    incoming = flat.incoming()
    assert incoming.session_id == started.session_id
    assert incoming.peer == started.call_id
    assert door.state(started.call_id) is CallState.RINGING


def test_answer_reaches_both_legs_in_order() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    peers = door.all("call.peer", PeerChange)
    assert [(p.extension, p.added) for p in peers] == [("201", True)]
    inc = rig.answer(flat)
    assert [s.state for s in door.states(out)] == [
        CallState.RINGING,
        CallState.ANSWERED,
        CallState.IN_CALL,
    ]
    assert [s.state for s in flat.states(inc)] == [CallState.ANSWERED, CallState.IN_CALL]
    assert door.states(out)[-1].other_leg == inc
    rig.switch.hangup(flat, inc)
    assert door.state(out) is CallState.COMPLETED
    assert door.end_cause(out) is EndCause.REMOTE_HUNG_UP
    assert flat.end_cause(inc) is EndCause.HUNG_UP
    assert not rig.switch.sessions and not rig.switch.legs


def test_ring_timeout_ends_the_call_at_exactly_its_time() -> None:
    rig = Rig(ring_timeout=30.0)
    door, flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    inc = flat.incoming().call_id
    rig.advance(29.999)
    assert door.state(out) is CallState.RINGING
    rig.advance(0.001)
    assert rig.now == pytest.approx(30.0)
    for phone, leg in ((door, out), (flat, inc)):
        last = phone.states(leg)[-1]
        assert last.state is CallState.BUSY  # Ozeki reports "rang for the set time" as busy
        assert last.session_state is SessionState.NOTANSWERED
        assert last.cause is EndCause.NO_ANSWER
    assert door.states(out)[-1].message == "no answer within 30 s"
    assert rig.switch.next_deadline() is None  # nothing left to wake up for


def test_a_callers_own_ring_timeout_is_shorter_never_longer() -> None:
    rig = Rig(ring_timeout=30.0)
    door, _flat = rig.login("100"), rig.login("201")
    short = rig.call(door, "201", ring_timeout=5.0)
    rig.advance(5.0)
    assert door.end_cause(short) is EndCause.NO_ANSWER
    long = rig.call(door, "201", ring_timeout=90.0)
    rig.advance(29.9)
    assert door.state(long) is CallState.RINGING
    rig.advance(0.1)
    assert door.end_cause(long) is EndCause.NO_ANSWER


def test_busy_callee() -> None:
    rig = Rig()
    door, flat, neighbour = rig.login("100"), rig.login("201"), rig.login("202")
    rig.talking(door, flat)
    call = rig.call(neighbour, "201")
    last = neighbour.states(call)[-1]
    assert (last.state, last.cause, last.message) == (CallState.BUSY, EndCause.BUSY, "201 is busy")


def test_unknown_number_and_offline_extension_are_not_found_for_different_reasons() -> None:
    rig = Rig()
    door = rig.login("100")
    unknown = rig.call(door, "555")
    assert door.state(unknown) is CallState.NOT_FOUND
    assert door.end_cause(unknown) is EndCause.UNKNOWN_NUMBER
    offline = rig.call(door, "202")
    assert door.state(offline) is CallState.NOT_FOUND
    assert door.end_cause(offline) is EndCause.UNAVAILABLE
    assert door.all("error", ErrorRecord) == []


def test_an_outside_line_without_gateway_is_not_found_and_an_error() -> None:
    rig = Rig()
    door = rig.login("100")
    call = rig.call(door, "0612345")
    assert door.end_cause(call) is EndCause.UNKNOWN_NUMBER
    [error] = door.all("error", ErrorRecord)
    assert error.code == ErrorCode.CALL_CONNECT_FAILED and "no gateway" in error.message


def test_rejected_and_cancelled() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    rig.switch.reject(flat, flat.incoming().call_id)
    assert door.state(out) is CallState.REJECTED
    assert door.end_cause(out) is EndCause.REJECTED
    out = rig.call(door, "201")
    inc = flat.incoming().call_id
    rig.switch.hangup(door, out)
    assert flat.state(inc) is CallState.COMPLETED
    assert flat.end_cause(inc) is EndCause.CANCELLED
    assert flat.states(inc)[-1].session_state is SessionState.CANCELLED


def test_a_call_hung_up_before_routing_rings_nobody() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    started = rig.switch.start_call(door, "201", CallType.AUDIO)
    rig.switch.hangup(door, started.call_id)
    rig.advance(60)
    assert flat.count("call.incoming") == 0
    assert rig.switch.next_deadline() is None


def test_refused_requests_change_nothing() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    before = len(door.events), len(flat.events)
    with pytest.raises(ProtocolError) as refused:
        rig.switch.set_hold(door, out, True)
    assert refused.value.code == ErrorCode.INAPPROPRIATE_COMMAND
    with pytest.raises(ProtocolError) as refused:
        rig.switch.accept(door, out)  # one's own outgoing call
    assert refused.value.code == ErrorCode.INAPPROPRIATE_COMMAND
    with pytest.raises(ProtocolError) as refused:
        rig.switch.hangup(flat, out)  # someone else's leg
    assert refused.value.code == ErrorCode.CALL_NOT_FOUND
    assert (len(door.events), len(flat.events)) == before
    assert door.state(out) is CallState.RINGING


def test_a_dialled_number_is_resolved_once_per_call() -> None:
    rig = Rig()
    door = rig.login("100")
    rig.login("201")
    rig.login("202")
    rig.directory.resolved.clear()
    rig.call(door, "200")  # a ring group
    assert rig.directory.resolved == ["200"]


def test_monitors_see_each_state_and_the_history_row_closes() -> None:
    rig = Rig()
    concierge = rig.login("900")
    door, flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    rig.advance(2.0)
    rig.answer(flat)
    rig.advance(10.0)
    rig.switch.hangup(door, out)
    records = concierge.events
    kinds = [k for k, e in records if k.startswith("session.")]
    assert kinds == [
        "session.created",
        "session.state",
        "session.state",
        "session.state",
        "session.closed",
    ]
    states = [e.sessionState for k, e in records if isinstance(e, SessionRecord)]
    assert states[1:] == [
        SessionState.RINGING,
        SessionState.INCALL,
        SessionState.CALLERHUNGUP,
        SessionState.CALLERHUNGUP,
    ]
    [closed] = concierge.all("session.closed", SessionRecord)
    assert (closed.ringDuration, closed.talkDuration) == ("00:00:02", "00:00:10")
    [row] = rig.store.rows.values()
    assert row["state"] == "CALLERHUNGUP"
    assert (row["ring"], row["talk"]) == (pytest.approx(2.0), pytest.approx(10.0))


def test_a_failing_timer_step_ends_its_call_instead_of_leaving_it_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")

    def broken(s: object) -> None:
        raise RuntimeError("routing failed")

    monkeypatch.setattr(rig.switch, "_route", broken)
    call_id = rig.call(door, "201")
    assert door.end_cause(call_id) is EndCause.ERROR
    assert not rig.switch.sessions and rig.switch.next_deadline() is None
    assert flat.all("call.incoming", IncomingCall) == []
