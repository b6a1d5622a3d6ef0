"""Moving a call elsewhere on a fake clock: forwarding a ringing call, blind transfer of an
answered one, each with its own ring timer and a new number resolved once."""

from __future__ import annotations

import pytest

from intercom.protocol.enums import CallState, EndCause, Party, SessionState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import IncomingCall, PeerChange
from intercom.protocol.records import SessionRecord
from tests.unit.switch_rig import Rig


def test_forward_while_ringing_rings_the_target_with_a_fresh_ring_timeout() -> None:
    rig = Rig(ring_timeout=30.0)
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out = rig.call(door, "201")
    rig.advance(20.0)
    first = a.incoming().call_id
    rig.directory.resolved.clear()
    rig.switch.forward(a, first, "202")
    assert rig.directory.resolved == ["202"]
    assert a.end_cause(first) is EndCause.FORWARDED
    assert b.incoming().peer == out
    assert [s.session_state for s in door.states(out)][-1] is SessionState.RINGING
    rig.advance(29.9)  # 49.9 s after the call started: the forward rang afresh
    assert door.state(out) is CallState.RINGING
    rig.advance(0.1)
    assert door.end_cause(out) is EndCause.NO_ANSWER


def test_forwarding_a_sequential_group_drops_the_members_left() -> None:
    rig = Rig(ring_timeout=60.0)
    door, a, b, c = rig.login("100"), rig.login("201"), rig.login("202"), rig.login("203")
    out = rig.call(door, "210")
    rig.switch.forward(a, a.incoming().call_id, "203")
    rig.advance(50.0)
    assert b.count("call.incoming") == 0  # the group's next member never rings
    assert c.count("call.incoming") == 1
    assert door.state(out) is CallState.RINGING


def test_forward_to_an_unknown_number_is_refused_and_changes_nothing() -> None:
    rig = Rig()
    door, a = rig.login("100"), rig.login("201")
    out = rig.call(door, "201")
    leg = a.incoming().call_id
    before = len(door.events), len(a.events)
    with pytest.raises(ProtocolError) as refused:
        rig.switch.forward(a, leg, "555")
    assert refused.value.code == ErrorCode.NUMBER_NOT_FOUND
    assert (len(door.events), len(a.events)) == before
    assert door.state(out) is CallState.RINGING and a.state(leg) is CallState.RINGING


def test_an_answered_call_cannot_be_forwarded() -> None:
    rig = Rig()
    door, a = rig.login("100"), rig.login("201")
    _, inc = rig.talking(door, a)
    with pytest.raises(ProtocolError) as refused:
        rig.switch.forward(a, inc, "202")
    assert refused.value.code == ErrorCode.INAPPROPRIATE_COMMAND


def test_blind_transfer_hands_the_other_party_to_the_target_in_a_new_session() -> None:
    rig = Rig()
    concierge = rig.login("900")
    door, a, b = rig.login("100"), rig.login("201"), rig.login("202")
    out, inc = rig.talking(door, a)
    old_session = door.states(out)[-1].session_id
    rig.switch.transfer(a, inc, "202")
    assert a.end_cause(inc) is EndCause.TRANSFERRED
    assert a.states(inc)[-1].session_state is SessionState.TRANSFERCOMPLETED
    # The door keeps its leg: told the old peer is gone, then ringing again, as the caller.
    assert [p.peer for p in door.all("call.peer", PeerChange) if p.removed] == [inc]
    assert door.state(out) is CallState.RINGING
    rang: IncomingCall = b.incoming()
    assert rang.caller == "100" and rang.peer == out
    new_session = rang.session_id
    assert new_session != old_session
    created = [s for s in concierge.all("session.created", SessionRecord)]
    assert created[-1].masterSessionId == old_session
    rig.answer(b)
    assert [s.state for s in door.states(out)][-2:] == [CallState.ANSWERED, CallState.IN_CALL]
    assert door.states(out)[-1].other_party == "202"
    leg = rig.switch.legs[out]
    assert leg.role is Party.CALLER and leg.session.id == new_session


def test_a_failed_transfer_leaves_the_call_going() -> None:
    rig = Rig()
    door, a = rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, a)
    with pytest.raises(ProtocolError) as refused:
        rig.switch.transfer(a, inc, "202")  # offline
    assert refused.value.code == ErrorCode.CALL_CONNECT_FAILED
    assert "busy or offline" in refused.value.message
    with pytest.raises(ProtocolError) as refused:
        rig.switch.transfer(a, inc, "555")
    assert "not in the directory" in refused.value.message
    # The legs' public state never left IN_CALL; the session says what happened.
    assert rig.switch.legs[inc].session.state is SessionState.TRANSFERFAILED
    assert door.state(out) is CallState.IN_CALL and a.state(inc) is CallState.IN_CALL
    rig.switch.set_hold(door, out, True)  # the call goes on
    assert a.state(inc) is CallState.HOLD


def test_hold_from_either_side() -> None:
    rig = Rig()
    door, a = rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, a)
    session = rig.switch.legs[out].session
    rig.switch.set_hold(door, out, True)  # the caller holds the callee
    assert a.states(inc)[-1].session_state is SessionState.CALLEEONHOLD
    assert a.state(inc) is CallState.HOLD
    rig.switch.set_hold(a, inc, True)
    assert session.state is SessionState.ONHOLD
    rig.switch.set_hold(door, out, False)
    assert session.state is SessionState.CALLERONHOLD
    assert door.state(out) is CallState.HOLD
    rig.switch.set_hold(a, inc, False)
    assert door.state(out) is CallState.IN_CALL and a.state(inc) is CallState.IN_CALL


def test_click_to_call_rings_the_caller_first_then_dials() -> None:
    rig = Rig()
    concierge, a, b = rig.login("900"), rig.login("201"), rig.login("202")
    session = rig.switch.setup_call(concierge, "201", "202").session_id
    first = a.incoming()
    assert (first.caller, first.callee, first.click_to_call, first.peer) == (
        "202",
        "201",
        True,
        None,
    )
    rig.switch.accept(a, first.call_id)
    assert a.state(first.call_id) is CallState.RINGING  # now the caller, waiting for 202
    second = b.incoming()
    assert second.session_id == session and second.click_to_call is None
    assert second.peer == first.call_id
    rig.answer(b)
    assert a.state(first.call_id) is CallState.IN_CALL
