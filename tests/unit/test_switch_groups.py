"""Ring groups and users on a fake clock. Group 200 rings 201 and 202 in parallel; group 210
rings 201, 202, 203 one at a time, 15 s each; user alice has 201 and 203."""

from __future__ import annotations

import pytest

from intercom.exchange.config import ExchangeSettings
from intercom.protocol.enums import CallState, EndCause, SessionState
from intercom.protocol.events import PeerChange
from tests.unit.switch_rig import Rig


def test_parallel_first_answer_wins_and_the_others_are_told_and_unpeered() -> None:
    rig = Rig()
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out = rig.call(door, "200")
    leg_a, leg_b = a.incoming().call_id, b.incoming().call_id
    rig.answer(b)
    assert door.state(out) is CallState.IN_CALL
    assert door.states(out)[-1].other_party == "202"
    assert a.state(leg_a) is CallState.COMPLETED
    assert a.end_cause(leg_a) is EndCause.ANSWERED_ELSEWHERE
    removed = [p.peer for p in door.all("call.peer", PeerChange) if p.removed]
    assert removed == [leg_a]
    assert b.state(leg_b) is CallState.IN_CALL


def test_parallel_group_rings_on_until_the_last_member_rejects() -> None:
    rig = Rig()
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out = rig.call(door, "200")
    rig.switch.reject(a, a.incoming().call_id)
    assert door.state(out) is CallState.RINGING
    rig.switch.reject(b, b.incoming().call_id)
    assert door.state(out) is CallState.REJECTED
    assert door.end_cause(out) is EndCause.REJECTED


def test_sequential_group_moves_on_after_each_members_timeout() -> None:
    rig = Rig(ring_timeout=60.0)  # long enough for all three turns
    door = rig.login("100")
    a, b, c = rig.login("201"), rig.login("202"), rig.login("203")
    out = rig.call(door, "210")
    first = a.incoming().call_id
    assert (b.count("call.incoming"), c.count("call.incoming")) == (0, 0)
    rig.advance(14.99)
    assert a.state(first) is CallState.RINGING and b.count("call.incoming") == 0
    rig.advance(0.01)
    assert a.state(first) is CallState.COMPLETED
    assert a.end_cause(first) is EndCause.NO_ANSWER
    second = b.incoming().call_id
    assert door.state(out) is CallState.RINGING
    rig.advance(15.0)
    assert b.end_cause(second) is EndCause.NO_ANSWER
    c.incoming()
    rig.answer(c)
    assert door.states(out)[-1].other_party == "203"


def test_sequential_group_skips_an_offline_member_at_once_not_after_its_timeout() -> None:
    rig = Rig()
    door, c = rig.login("100"), rig.login("203")  # 201 and 202 are offline
    out = rig.call(door, "210")
    assert rig.now == 0.0
    assert c.count("call.incoming") == 1  # rang with no time passed: nobody waited for 201
    assert door.state(out) is CallState.RINGING
    # The only deadline left is the call's ring timeout, not a member's.
    assert rig.switch.next_deadline() == pytest.approx(rig.clock.now + 30.0)


def test_sequential_group_skips_a_busy_member_at_once() -> None:
    rig = Rig()
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    concierge = rig.login("900")
    rig.talking(concierge, a)  # 201 is busy
    rig.call(door, "210")
    assert rig.now == 0.0
    assert b.count("call.incoming") == 1
    assert a.count("call.incoming") == 1  # only the concierge's call


def test_sequential_member_rejecting_moves_on_at_once() -> None:
    rig = Rig()
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out = rig.call(door, "210")
    rig.advance(3.0)
    rig.switch.reject(a, a.incoming().call_id)
    assert b.count("call.incoming") == 1
    # The next member gets a whole member timeout of its own.
    rig.advance(14.99)
    assert b.state(b.incoming().call_id) is CallState.RINGING
    rig.advance(0.01)
    assert b.end_cause(b.incoming().call_id) is EndCause.NO_ANSWER
    assert door.state(out) is CallState.NOT_FOUND  # 203 is offline: nobody left
    assert door.end_cause(out) is EndCause.UNAVAILABLE


def test_the_ring_timeout_bounds_the_whole_group() -> None:
    rig = Rig(ring_timeout=20.0)
    door, _a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out = rig.call(door, "210")
    rig.advance(15.0)
    second = b.incoming().call_id
    rig.advance(5.0)  # 20 s since the call started, 5 s into 202's turn
    assert door.states(out)[-1].session_state is SessionState.NOTANSWERED
    assert b.end_cause(second) is EndCause.NO_ANSWER


def test_calling_a_user_rings_all_their_devices_never_the_callers_own() -> None:
    rig = Rig()
    a1, a3, a1_laptop = rig.login("201"), rig.login("203"), rig.login("201")
    door = rig.login("100")
    out = rig.call(door, "alice")
    assert [p.count("call.incoming") for p in (a1, a3, a1_laptop)] == [1, 1, 1]
    rig.switch.hangup(door, out)
    # Alice's 201 calling her own user rings only her other extension.
    rig.call(a1, "alice")
    assert [p.count("call.incoming") for p in (a1, a3, a1_laptop)] == [1, 2, 1]


def test_a_call_rings_at_most_max_ringing_legs() -> None:
    rig = Rig(max_ringing_legs=3, max_devices_per_extension=4)
    door = rig.login("100")
    phones = [rig.login(n) for n in ("201",) * 4 + ("202",) * 4]
    rig.call(door, "200")
    assert sum(p.count("call.incoming") for p in phones) == 3
    assert ExchangeSettings().max_ringing_legs == 16
