"""Supervisors, relays and presence around the switch, without sockets: session.* requests,
listening in, digits with their true sender, and what watchers are told."""

from __future__ import annotations

import pytest

from intercom.protocol.enums import (
    CallState,
    ClientStatus,
    EndCause,
    ExtensionStatus,
    Privilege,
    SessionState,
)
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import (
    DtmfDigit,
    ListenerChange,
    ListenerSignal,
    MediaSignal,
    StatusChange,
)
from intercom.protocol.records import ClientRecord, SessionRecord
from tests.unit.switch_rig import Rig


def test_session_hold_holds_both_parties() -> None:
    rig = Rig()
    concierge, door, flat = rig.login("900"), rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, flat)
    session = rig.switch.legs[out].session.id
    rig.supervisor.hold(concierge, session, True)
    assert door.state(out) is CallState.HOLD and flat.state(inc) is CallState.HOLD
    assert concierge.all("session.state", SessionRecord)[-1].sessionState is SessionState.ONHOLD
    rig.supervisor.hold(concierge, session, False)
    assert door.state(out) is CallState.IN_CALL


def test_session_requests_need_modify_and_an_existing_session() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    out, _ = rig.talking(door, flat)
    session = rig.switch.legs[out].session.id
    with pytest.raises(ProtocolError) as refused:
        rig.supervisor.close(door, session)
    assert refused.value.code == ErrorCode.FORBIDDEN
    concierge = rig.login("900")
    with pytest.raises(ProtocolError) as refused:
        rig.supervisor.close(concierge, "no-such-session")
    assert refused.value.code == ErrorCode.CALL_NOT_FOUND
    assert door.state(out) is CallState.IN_CALL


def test_session_close_and_hangup_end_calls_for_the_right_reason() -> None:
    rig = Rig()
    concierge, door, flat = rig.login("900"), rig.login("100"), rig.login("201")
    out, _ = rig.talking(door, flat)
    rig.supervisor.close(concierge, rig.switch.legs[out].session.id)
    assert door.states(out)[-1].session_state is SessionState.ABORTED
    assert door.end_cause(out) is EndCause.CLOSED_BY_SUPERVISOR
    ringing = rig.call(door, "201")
    rig.supervisor.hangup(concierge, rig.switch.legs[ringing].session.id)
    assert door.states(ringing)[-1].session_state is SessionState.CANCELLED


def test_session_dtmf_names_the_supervisor_as_its_sender() -> None:
    rig = Rig()
    concierge, door, flat = rig.login("900"), rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, flat)
    rig.supervisor.send_dtmf(concierge, rig.switch.legs[out].session.id, "a", "100")
    rig.relay.send_dtmf(flat, inc, "1#")
    digits = door.all("call.dtmf", DtmfDigit)
    assert [(d.key, d.source, d.sender) for d in digits] == [
        ("A", "session", "900"),
        ("1", "signalling", "201"),
        ("#", "signalling", "201"),
    ]
    assert Privilege.MODIFY in digits[0].privileges


def test_listening_in_and_leaving() -> None:
    rig = Rig()
    concierge, door, flat = rig.login("900"), rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, flat)
    session = rig.switch.legs[out].session.id
    rig.supervisor.listen(concierge, session, True)
    for phone in (door, flat):
        [change] = phone.all("call.listener", ListenerChange)
        assert (change.listener, change.conn, change.active) == ("900", concierge.conn_id, True)
    rig.relay.signal(door, out, "offer", "v=0", f"listener:{concierge.conn_id}")
    [offer] = concierge.all("session.signal", ListenerSignal)
    assert (offer.peer, offer.party, offer.sdp) == (out, "100", "v=0")
    rig.supervisor.listener_signal(concierge, session, out, "answer", "v=0 a")
    [answer] = door.all("call.signal", MediaSignal)
    assert (answer.peer, answer.kind) == (f"listener:{concierge.conn_id}", "answer")
    rig.logout(concierge)  # leaving stops both parties' streams
    assert [c.active for c in door.all("call.listener", ListenerChange)] == [True, False]
    assert flat.state(inc) is CallState.IN_CALL


def test_a_disconnected_party_ends_its_calls() -> None:
    rig = Rig()
    door, flat = rig.login("100"), rig.login("201")
    out, inc = rig.talking(door, flat)
    rig.logout(door)
    assert door.end_cause(out) is EndCause.DISCONNECTED
    assert flat.end_cause(inc) is EndCause.REMOTE_HUNG_UP
    rig.logout(door)  # twice: nothing more
    assert flat.end_cause(inc) is EndCause.REMOTE_HUNG_UP


def test_watchers_see_clients_come_and_go_and_extensions_turn_busy() -> None:
    rig = Rig()
    concierge = rig.login("900")
    door = rig.login("100", properties={"userAgent": "station", "Password": "secret"})
    flat = rig.login("201")
    out, _ = rig.talking(door, flat)
    rig.switch.hangup(door, out)
    rig.logout(flat)
    clients = [(c.phoneNumber, c.status) for c in concierge.all("client.state", ClientRecord)]
    assert clients == [
        ("100", ClientStatus.ONLINE),
        ("201", ClientStatus.ONLINE),
        ("201", ClientStatus.OFFLINE),
    ]
    door_online = concierge.all("client.state", ClientRecord)[0].wire()
    assert door_online == {"userAgent": "station", "phoneNumber": "100", "status": "ONLINE"}
    statuses = [(s.id, s.status) for s in concierge.all("extension.status", StatusChange)]
    assert statuses == [
        ("900", ExtensionStatus.ONLINE),
        ("100", ExtensionStatus.ONLINE),
        ("201", ExtensionStatus.ONLINE),
        ("100", ExtensionStatus.BUSY),
        ("201", ExtensionStatus.BUSY),
        ("100", ExtensionStatus.ONLINE),
        ("201", ExtensionStatus.ONLINE),
        ("201", ExtensionStatus.OFFLINE),
    ]
    assert rig.switch.extension_status("201") is ExtensionStatus.OFFLINE
