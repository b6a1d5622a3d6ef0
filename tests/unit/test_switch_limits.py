"""Every conversation is bounded: a warning before the maximum duration, a way to extend it,
and the end at the (moved) deadline; on a fake clock, to the exact second."""

from __future__ import annotations

import pytest

from intercom.protocol.enums import CallState, EndCause, SessionState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import TimeLeft
from tests.unit.switch_rig import Rig


def test_warning_extend_and_end_at_the_new_deadline() -> None:
    rig = Rig(max_call_duration=60.0, call_warning=10.0)
    door, flat = rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, flat)
    rig.advance(49.9)
    assert door.all("call.warning", TimeLeft) == []
    rig.advance(0.1)
    warnings = door.all("call.warning", TimeLeft)
    assert [w.seconds_left for w in warnings] == [10.0]
    assert [w.seconds_left for w in flat.all("call.warning", TimeLeft)] == [10.0]

    rig.advance(5.0)
    assert rig.switch.extend(flat, inc, 30).seconds_left == 35.0
    for phone, leg in ((door, out), (flat, inc)):
        [extended] = phone.all("call.extended", TimeLeft)
        assert (extended.call_id, extended.seconds_left) == (leg, 35.0)

    rig.advance(24.9)  # 10 s before the new deadline (90 s) comes the second warning
    assert len(door.all("call.warning", TimeLeft)) == 1
    rig.advance(0.1)
    assert [w.seconds_left for w in door.all("call.warning", TimeLeft)] == [10.0, 10.0]
    rig.advance(9.9)
    assert door.state(out) is CallState.IN_CALL
    rig.advance(0.1)
    assert rig.now == pytest.approx(90.0)
    last = door.states(out)[-1]
    assert (last.state, last.session_state, last.cause) == (
        CallState.COMPLETED,
        SessionState.ABORTED,
        EndCause.MAX_DURATION,
    )
    assert flat.end_cause(inc) is EndCause.MAX_DURATION
    assert rig.switch.next_deadline() is None


def test_a_callers_own_limit_is_shorter_never_longer() -> None:
    rig = Rig(max_call_duration=60.0, call_warning=10.0)
    door, flat = rig.login("100"), rig.login("201")
    short, _ = rig.talking(door, flat, max_duration=20.0)
    rig.advance(20.0)
    assert door.end_cause(short) is EndCause.MAX_DURATION
    long, _ = rig.talking(door, flat, max_duration=600.0)
    rig.advance(59.9)
    assert door.state(long) is CallState.IN_CALL
    rig.advance(0.1)
    assert door.end_cause(long) is EndCause.MAX_DURATION


def test_no_warning_when_the_limit_is_shorter_than_the_warning() -> None:
    rig = Rig(max_call_duration=60.0, call_warning=10.0)
    door, flat = rig.login("100"), rig.login("201")
    out, _ = rig.talking(door, flat, max_duration=5.0)
    rig.advance(5.0)
    assert door.all("call.warning", TimeLeft) == []
    assert door.end_cause(out) is EndCause.MAX_DURATION


def test_hanging_up_cancels_the_limits() -> None:
    rig = Rig(max_call_duration=60.0, call_warning=10.0)
    door, flat = rig.login("100"), rig.login("201")
    out, _ = rig.talking(door, flat)
    assert rig.switch.next_deadline() is not None
    rig.switch.hangup(door, out)
    assert rig.switch.next_deadline() is None
    rig.advance(120.0)
    assert door.all("call.warning", TimeLeft) == []


def test_only_a_conversation_can_be_extended() -> None:
    rig = Rig()
    door, _flat = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    with pytest.raises(ProtocolError) as refused:
        rig.switch.extend(door, out, 30)
    assert refused.value.code == ErrorCode.INAPPROPRIATE_COMMAND


def test_a_wall_clock_step_ends_no_call_and_rings_no_timeout() -> None:
    """A Pi without a real-time clock steps its wall clock by years at its first time sync;
    deadlines are kept in a clock that never jumps, so ringing and talking go on."""
    rig = Rig(max_call_duration=60.0, ring_timeout=30.0)
    wall = [rig.clock.now]
    rig.switch.clock = lambda: wall[0]  # the wall clock, apart from the timers' clock
    door, flat = rig.login("100"), rig.login("201")
    caller, callee = rig.login("202"), rig.login("203")
    talking, _ = rig.talking(door, flat)
    ringing = rig.call(caller, "203")
    wall[0] += 10 * 365 * 86400.0  # ten years later, all at once
    rig.advance(0)
    assert door.state(talking) is CallState.IN_CALL
    assert caller.state(ringing) is CallState.RINGING and callee.incoming() is not None
    rig.advance(29.9)
    assert caller.state(ringing) is CallState.RINGING
    rig.advance(0.1)
    assert caller.end_cause(ringing) is EndCause.NO_ANSWER
    rig.advance(29.9)
    assert door.state(talking) is CallState.IN_CALL
    rig.advance(0.1)
    assert door.end_cause(talking) is EndCause.MAX_DURATION
