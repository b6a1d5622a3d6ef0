"""Session (privileged): monitoring events, every method, and each refused case; Helper."""

from __future__ import annotations

import pytest

from intercom.client import Call, CallState, CallType, EndCause, OzError, Session, SessionState
from tests.conftest import Connector, Recorder
from tests.integration.test_calls import connected_pair

pytestmark = pytest.mark.integration


async def monitored_call(login: Connector) -> tuple:  # type: ignore[type-arg]
    concierge = await login("900")
    created = Recorder(concierge.onSessionCreated)
    door, flat, out, inc = await connected_pair(login, "100", "201")
    session: Session = await created.wait_for(lambda s: s.caller == "100")
    states = Recorder(session.onSessionStateChanged)
    if session.session_state is not SessionState.INCALL:
        await states.wait_for(lambda change: change[1] is SessionState.INCALL)
    return concierge, session, states, out, inc


async def test_session_created_state_changed_and_closed(login: Connector) -> None:
    concierge = await login("900")
    created = Recorder(concierge.onSessionCreated)
    closed = Recorder(concierge.onSessionClosed)
    door, flat = await login("100"), await login("201")
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201", CallType.VIDEO)
    await call.start()
    session: Session = await created.wait_for(lambda s: True)
    states = Recorder(session.onSessionStateChanged)
    assert session.caller == "100" and session.dialedNumber == "201"
    assert session.callerDisplayName == "Front door"
    assert session.sessionId == call.session_id
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.accept()
    changed_session, state = await states.wait_for(lambda c: c[1] is SessionState.INCALL)
    assert changed_session is session
    assert session.callee == "201" and session.calleeDisplayName == "Flat 1"
    assert concierge.helper.getActiveSessionById(session.session_id) is session
    assert session.talkDuration.startswith("00:00:0")
    await call.hangUp()
    gone: Session = await closed.wait_for(lambda s: True)
    assert gone is session
    assert session.sessionState is SessionState.CALLERHUNGUP
    assert concierge.helper.getActiveSessionById(session.session_id) is None
    # The seed's capitalised aliases
    assert session.Id == session.session_id and session.Caller == "100"


async def test_session_hold_and_unhold_both_parties(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    await session.hold()
    await states.wait_for(lambda c: c[1] is SessionState.ONHOLD)
    await out.wait_for(CallState.HOLD)
    await inc.wait_for(CallState.HOLD)
    assert concierge.helper.getActiveSessionsBySessionState("HOLD") == {session.session_id: session}
    back = Recorder(out.onCallStateChanged)
    await session.unhold()
    await states.wait_for(lambda c: c[1] is SessionState.INCALL)
    await back.wait_for(lambda s: s[0] is CallState.IN_CALL)


async def test_session_send_dtmf_to_a_party(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    digits = Recorder(out.onDtmfReceived)
    await session.sendDtmf("#", session.caller)
    got = await digits.wait_for(lambda d: True)
    assert (got.key, got.source, got.sender) == ("#", "session", "900")
    with pytest.raises(ValueError):
        await session.sendDtmf("#", "555")  # neither party: thrown before sending
    with pytest.raises(ValueError):
        await session.sendDtmf("x", session.caller)


async def test_session_blind_transfer(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    other = await login("202")
    ringing = Recorder(other.onIncomingCall)
    created = Recorder(concierge.onSessionCreated)
    await session.blindTransfer(session.callee, "202")  # 201 leaves, the door goes to 202
    await states.wait_for(lambda c: c[1] is SessionState.TRANSFERCOMPLETED)
    await inc.wait_for(CallState.COMPLETED)
    assert inc.end_cause is EndCause.TRANSFERRED
    new: Session = await created.wait_for(lambda s: s.masterSessionId == session.session_id)
    assert new.caller == "100" and new.dialedNumber == "202"
    call: Call = await ringing.wait_for(lambda c: True)
    await call.accept()
    await out.wait_for(CallState.IN_CALL)
    assert out.getOtherParty() == "202"
    with pytest.raises(ValueError):
        await new.blindTransfer("555", "203")


async def test_session_close_and_hangup(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    await session.close()
    await out.wait_for(CallState.COMPLETED)
    assert out.end_cause is EndCause.CLOSED_BY_SUPERVISOR
    assert session.sessionState is SessionState.ABORTED

    closed = Recorder(concierge.onSessionClosed)
    _, session2, _, out2, _ = await monitored_call(login)
    await session2.closeWithHangup()
    gone = await closed.wait_for(lambda s: s.session_id == session2.session_id)
    assert gone.sessionState is SessionState.CALLERHUNGUP
    await out2.wait_for(CallState.COMPLETED)


async def test_session_hangup_while_ringing_cancels(login: Connector) -> None:
    concierge = await login("900")
    created = Recorder(concierge.onSessionCreated)
    door, flat = await login("100"), await login("201")
    incoming = Recorder(flat.onIncomingCall)
    call = door.createCall("201")
    await call.start()
    session: Session = await created.wait_for(lambda s: True)
    inc: Call = await incoming.wait_for(lambda c: True)
    await session.hangup()
    await call.wait_for(CallState.COMPLETED)
    await inc.wait_for(CallState.COMPLETED)
    assert session.sessionState is SessionState.CANCELLED


async def test_session_forward_while_ringing(login: Connector) -> None:
    concierge = await login("900")
    created = Recorder(concierge.onSessionCreated)
    door, flat1, flat2 = await login("100"), await login("201"), await login("202")
    ring1, ring2 = Recorder(flat1.onIncomingCall), Recorder(flat2.onIncomingCall)
    call = door.createCall("201")
    await call.start()
    session: Session = await created.wait_for(lambda s: True)
    first: Call = await ring1.wait_for(lambda c: True)
    await session.forward("202")
    await first.wait_for(CallState.COMPLETED)
    assert first.end_cause is EndCause.FORWARDED
    second: Call = await ring2.wait_for(lambda c: True)
    await second.accept()
    await call.wait_for(CallState.IN_CALL)
    with pytest.raises(OzError) as info:
        await session.forward("203")  # no longer ringing
    assert info.value.code == 303
    with pytest.raises(ValueError):
        await session.forward("")


async def test_start_and_stop_listen(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    listeners = Recorder(out.on_listener_changed)
    await session.startListen()
    event = await listeners.wait_for(lambda e: e["active"])
    assert event["listener"] == "900"
    with pytest.raises(OzError):
        await session.startListen()  # already listening
    await session.stopListen()
    await listeners.wait_for(lambda e: not e["active"])
    with pytest.raises(OzError):
        await session.stopListen()


async def test_session_methods_need_privileges(login: Connector) -> None:
    # 201 has neither monitor nor modify; it cannot even see sessions, so craft one from
    # the concierge's view and hand it over, as a buggy application might.
    concierge, session, states, out, inc = await monitored_call(login)
    resident = await login("202")
    errors = Recorder(resident.onErrorOccured)
    stolen = Session(resident, dict(session.info))
    for action in (stolen.hold, stolen.unhold, stolen.close, stolen.hangup, stolen.startListen):
        with pytest.raises(OzError) as info:
            await action()
        assert info.value.code == 306
    assert len(errors.items) == 5
    assert resident.sessions == {}
    assert out.getCallState() is CallState.IN_CALL


async def test_session_on_unknown_id(login: Connector) -> None:
    concierge = await login("900")
    ghost = Session(
        concierge, {"sessionId": "nope", "sessionState": "INCALL", "caller": "1", "callee": "2"}
    )
    with pytest.raises(OzError) as info:
        await ghost.hold()
    assert info.value.code == 601


async def test_helper_session_queries(login: Connector) -> None:
    concierge, session, states, out, inc = await monitored_call(login)
    helper = concierge.helper
    sid = session.session_id
    assert helper.getActiveSessionsBySessionState("IN_CALL") == {sid: session}
    assert helper.getActiveSessionsBySessionState(SessionState.INCALL) == {sid: session}
    assert helper.getActiveSessionsBySessionState(CallState.IN_CALL) == {sid: session}
    assert helper.getActiveSessionsBySessionState("RINGING") == {}
    assert helper.getActiveCallsOfExtension("201") == {sid: session}
    assert helper.getActiveCallsOfExtension("202") == {}
    assert helper.getActiveCallsOfUser("alice") == {sid: session}
    assert helper.getActiveCallsOfUser("bob") == {}
    assert helper.getActiveCallsOfUser("nobody") == {}


async def test_monitor_sees_sessions_that_existed_before_login(login: Connector) -> None:
    door, flat, out, inc = await connected_pair(login)
    concierge = await login("900")
    sessions = concierge.helper.getActiveSessionsBySessionState("INCALL")
    assert [s.session_id for s in sessions.values()] == [out.session_id]
