"""Call: every method and event, each distinct outcome, and each refused case."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from intercom.client import Call, CallState, CallType, EndCause, OzError, OzWebClient
from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD, Connector, Recorder, directory_config

pytestmark = pytest.mark.integration


async def incoming_call(client: OzWebClient, timeout: float = 5.0) -> Call:
    calls = Recorder(client.onIncomingCall)
    return await calls.wait_for(lambda c: True, timeout)  # type: ignore[no-any-return]


async def connected_pair(
    login: Connector, caller: str = "100", callee: str = "201", call_type: CallType = CallType.VIDEO
) -> tuple[OzWebClient, OzWebClient, Call, Call]:
    a, b = await login(caller), await login(callee)
    calls = Recorder(b.onIncomingCall)
    out = a.createCall(callee, call_type)
    await out.start()
    inc: Call = await calls.wait_for(lambda c: True)
    await inc.accept()
    await out.wait_for(CallState.IN_CALL)
    await inc.wait_for(CallState.IN_CALL)
    return a, b, out, inc


async def test_answer_and_hang_up(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201", CallType.VIDEO)
    assert call.getCallState() is None
    states = Recorder(call.onCallStateChanged)
    await call.start()
    await call.wait_for(CallState.RINGING)
    inc: Call = await incoming.wait_for(lambda c: True)
    assert inc.getOtherParty() == "100"
    assert inc.other_party_name == "Front door"
    assert inc.call_type is CallType.VIDEO
    assert inc.getCallState() is CallState.RINGING
    assert inc.other_privileges == {"call", "door"}
    inc_states = Recorder(inc.onCallStateChanged)
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    assert call.getCallState() is CallState.IN_CALL
    assert call.getOtherParty() == "201"
    # Handlers get (state, call), as in the browser library.
    assert states.items == [
        (CallState.RINGING, call),
        (CallState.ANSWERED, call),
        (CallState.IN_CALL, call),
    ]
    await inc.wait_for(CallState.IN_CALL)
    assert inc_states.items == [(CallState.ANSWERED, inc), (CallState.IN_CALL, inc)]
    await inc.hangUp()
    await call.wait_for(CallState.COMPLETED)
    assert call.end_cause is EndCause.REMOTE_HUNG_UP
    await inc.wait_for(CallState.COMPLETED)
    assert inc.end_cause is EndCause.HUNG_UP
    assert a.calls == {} and b.calls == {}


async def test_reject(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201")
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.reject()
    await call.wait_for(CallState.REJECTED)
    assert call.end_cause is EndCause.REJECTED
    assert inc.getCallState() is CallState.REJECTED


async def test_cancel_while_ringing(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201")
    await call.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await call.hangUp()
    await inc.wait_for(CallState.COMPLETED)
    assert inc.end_cause is EndCause.CANCELLED
    assert call.session_state is not None and call.session_state.value == "CANCELLED"


async def test_busy(login: Connector) -> None:
    _a, _b, _, _ = await connected_pair(login, "100", "201")
    c = await login("202")
    call = c.createCall("201")
    await call.start()
    await call.wait_for(CallState.BUSY)
    assert call.end_cause is EndCause.BUSY
    assert "busy" in call.end_message


async def test_not_found_unknown_number(login: Connector) -> None:
    a = await login("100")
    call = a.createCall("555")
    await call.start()
    await call.wait_for(CallState.NOT_FOUND)
    assert call.end_cause is EndCause.UNKNOWN_NUMBER
    assert "555" in call.end_message


async def test_offline_extension_is_unavailable(login: Connector) -> None:
    a = await login("100")
    call = a.createCall("202")
    await call.start()
    await call.wait_for(CallState.NOT_FOUND)
    assert call.end_cause is EndCause.UNAVAILABLE


async def test_outside_line_without_gateway(login: Connector) -> None:
    a = await login("100")
    errors = Recorder(a.onErrorOccured)
    call = a.createCall("0612345678")
    await call.start()
    await call.wait_for(CallState.NOT_FOUND)
    assert "outside line 'pstn'" in call.end_message
    assert "no gateway" in call.end_message
    error = await errors.wait_for(lambda e: True)
    assert error.code == 402 and "no gateway" in error.message


async def test_no_answer_after_ring_timeout(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(config_path(ring_timeout=0.4))
    await exchange.start()
    try:
        a, b = OzWebClient(), OzWebClient()
        await a.connect(exchange.url, "100", password="secret-100")
        await b.connect(exchange.url, "201", password="secret-201")
        incoming = Recorder(b.onIncomingCall)
        call = a.createCall("201")
        await call.start()
        inc: Call = await incoming.wait_for(lambda c: True)
        await call.wait_for(CallState.BUSY)
        assert call.end_cause is EndCause.NO_ANSWER
        assert call.session_state is not None and call.session_state.value == "NOTANSWERED"
        await inc.wait_for(CallState.BUSY)
        assert inc.end_cause is EndCause.NO_ANSWER
        await a.disconnect()
        await b.disconnect()
    finally:
        await exchange.stop()


async def test_parallel_ring_group_first_answer_wins(login: Connector) -> None:
    a, b, c = await login("100"), await login("201"), await login("202")
    ib, ic = Recorder(b.onIncomingCall), Recorder(c.onIncomingCall)
    call = a.createCall("200", CallType.VIDEO)
    peers = Recorder(call.on_peer_changed)
    await call.start()
    call_b: Call = await ib.wait_for(lambda x: True)
    call_c: Call = await ic.wait_for(lambda x: True)
    await peers.wait_for(lambda p: p.get("added") and p["extension"] == "202")
    await call_c.accept()
    await call.wait_for(CallState.IN_CALL)
    assert call.getOtherParty() == "202"
    await call_b.wait_for(CallState.COMPLETED)
    assert call_b.end_cause is EndCause.ANSWERED_ELSEWHERE
    await peers.wait_for(lambda p: p.get("removed") and p["peer"] == call_b.call_id)
    with pytest.raises(OzError) as info:
        await call_b.accept()
    assert info.value.code == 601


async def test_parallel_ring_group_all_reject(login: Connector) -> None:
    a, b, c = await login("100"), await login("201"), await login("202")
    ib, ic = Recorder(b.onIncomingCall), Recorder(c.onIncomingCall)
    call = a.createCall("200")
    peers = Recorder(call.on_peer_changed)
    await call.start()
    first: Call = await ib.wait_for(lambda x: True)
    await first.reject()
    # A round trip from the caller: its answer comes after everything the rejection sent it,
    # so a wrong end of the call would be here by now.
    await a.request("webphone.state", {"webphone_id": "100"})
    assert any(p.get("removed") and p["peer"] == first.call_id for p in peers.items)
    assert call.getCallState() is CallState.RINGING
    await (await ic.wait_for(lambda x: True)).reject()
    await call.wait_for(CallState.REJECTED)


async def test_sequential_ring_group_moves_on(login: Connector) -> None:
    a, b, c = await login("100"), await login("201"), await login("202")
    ib, ic = Recorder(b.onIncomingCall), Recorder(c.onIncomingCall)
    call = a.createCall("210")
    await call.start()
    first: Call = await ib.wait_for(lambda x: True)
    assert ic.items == []
    await first.wait_for(CallState.COMPLETED)  # member timeout 0.5 s
    assert first.end_cause is EndCause.NO_ANSWER
    second: Call = await ic.wait_for(lambda x: True)
    await second.accept()
    await call.wait_for(CallState.IN_CALL)
    assert call.getOtherParty() == "202"


async def test_sequential_group_skips_offline_member_at_once(tmp_path: Path) -> None:
    """201, the group's first member, is offline: 202 rings at once. The member timeout is
    longer than the test waits, so a skip after it could not pass (tests/unit/
    test_switch_groups.py pins the skip to the instant, on a fake clock)."""
    config = directory_config(ring_timeout=600.0)
    group = next(g for g in config["ring_groups"] if g["number"] == "210")
    group["member_timeout"] = 600.0
    (tmp_path / "exchange.toml").write_text(tomli_w.dumps(config))
    exchange = Exchange.from_file(tmp_path / "exchange.toml")
    await exchange.start()
    a, c = OzWebClient(media=False), OzWebClient(media=False)
    try:
        await a.connect(exchange.url, "100", password=PASSWORD.format("100"))
        await c.connect(exchange.url, "202", password=PASSWORD.format("202"))
        ic = Recorder(c.onIncomingCall)
        call = a.createCall("210")
        await call.start()
        second: Call = await ic.wait_for(lambda x: True, timeout=5.0)
        await second.accept()
        await call.wait_for(CallState.IN_CALL)
    finally:
        await a.disconnect()
        await c.disconnect()
        await exchange.stop()


async def test_calling_a_user_rings_all_their_devices(login: Connector) -> None:
    a, b1, b3 = await login("100"), await login("201"), await login("203")
    i1, i3 = Recorder(b1.onIncomingCall), Recorder(b3.onIncomingCall)
    call = a.createCall("alice")
    await call.start()
    await i1.wait_for(lambda x: True)
    answered: Call = await i3.wait_for(lambda x: True)
    await answered.accept()
    await call.wait_for(CallState.IN_CALL)
    assert call.getOtherParty() == "203"


async def test_two_devices_of_one_extension_both_ring(login: Connector) -> None:
    a, phone, laptop = await login("100"), await login("201"), await login("201")
    ip, il = Recorder(phone.onIncomingCall), Recorder(laptop.onIncomingCall)
    call = a.createCall("201")
    await call.start()
    on_phone: Call = await ip.wait_for(lambda x: True)
    on_laptop: Call = await il.wait_for(lambda x: True)
    await on_laptop.accept()
    await on_phone.wait_for(CallState.COMPLETED)
    assert on_phone.end_cause is EndCause.ANSWERED_ELSEWHERE


async def test_hold_and_unhold_from_either_side(login: Connector) -> None:
    _a, _b, out, inc = await connected_pair(login)
    await out.hold()
    await inc.wait_for(CallState.HOLD)
    assert out.getCallState() is CallState.HOLD
    assert out.session_state is not None and out.session_state.value == "CALLEEONHOLD"
    sessions = Recorder(out.onCallStateChanged)
    await inc.hold()  # both hold now
    await out.unHold()  # the callee still holds
    assert out.getCallState() is CallState.HOLD
    back = Recorder(inc.onCallStateChanged)
    await inc.unHold()
    await back.wait_for(lambda s: s[0] is CallState.IN_CALL)
    await sessions.wait_for(lambda s: s[0] is CallState.IN_CALL)
    assert out.session_state is not None and out.session_state.value == "INCALL"


async def test_forward_while_ringing(login: Connector) -> None:
    a, b, c = await login("100"), await login("201"), await login("202")
    ib, ic = Recorder(b.onIncomingCall), Recorder(c.onIncomingCall)
    call = a.createCall("201")
    await call.start()
    first: Call = await ib.wait_for(lambda x: True)
    await first.forward("202")
    await first.wait_for(CallState.COMPLETED)
    assert first.end_cause is EndCause.FORWARDED
    second: Call = await ic.wait_for(lambda x: True)
    assert second.getOtherParty() == "100"
    await second.accept()
    await call.wait_for(CallState.IN_CALL)
    assert call.getOtherParty() == "202"


async def test_blind_transfer_in_call(login: Connector) -> None:
    _a, _b, out, inc = await connected_pair(login, "100", "201")
    c = await login("202")
    ic = Recorder(c.onIncomingCall)
    await inc.transfer("202")  # 201 leaves; the door is connected to 202
    await inc.wait_for(CallState.COMPLETED)
    assert inc.end_cause is EndCause.TRANSFERRED
    third: Call = await ic.wait_for(lambda x: True)
    assert third.getOtherParty() == "100"
    states = Recorder(out.onCallStateChanged)
    await third.accept()
    await states.wait_for(lambda s: s[0] is CallState.IN_CALL)
    assert states.items[-2:] == [(CallState.ANSWERED, out), (CallState.IN_CALL, out)]
    assert out.states_seen[-3:] == [CallState.RINGING, CallState.ANSWERED, CallState.IN_CALL]
    assert out.getOtherParty() == "202"
    assert out.getCallState() is CallState.IN_CALL


async def test_transfer_to_unknown_target_fails_and_call_goes_on(login: Connector) -> None:
    _a, b, out, inc = await connected_pair(login)
    errors = Recorder(b.onErrorOccured)
    with pytest.raises(OzError) as info:
        await inc.transfer("555")
    assert info.value.code == 402
    assert errors.items and errors.items[0].code == 402
    assert inc.getCallState() is CallState.IN_CALL
    await out.sendMessage("still here")


async def test_messages_both_ways_and_while_ringing(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201")
    got_at_door = Recorder(call.onMessageReceived)
    await call.start()
    inc: Call = await incoming.wait_for(lambda x: True)
    got_in_flat = Recorder(inc.onMessageReceived)
    await inc.sendMessage("I'm coming")
    msg = await got_at_door.wait_for(lambda x: True)
    assert msg == "I'm coming" and msg.sender == "201"
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    await call.sendMessage("Danke schön, 🚪")
    assert await got_in_flat.wait_for(lambda x: True) == "Danke schön, 🚪"


async def test_call_dtmf_reaches_the_other_party(login: Connector) -> None:
    _a, _b, out, inc = await connected_pair(login)
    digits = Recorder(out.onDtmfReceived)
    await inc.send_dtmf("1234#")
    await digits.wait_for(lambda d: d.key == "#")
    assert [d.key for d in digits.items] == list("1234#")
    assert {d.source for d in digits.items} == {"signalling"}
    assert {d.sender for d in digits.items} == {"201"}
    with pytest.raises(ValueError):
        await inc.send_dtmf("12x")


async def test_max_duration_warns_extends_and_ends(config_path) -> None:  # type: ignore[no-untyped-def]
    exchange = Exchange.from_file(config_path(max_call_duration=1.0, call_warning=0.5))
    await exchange.start()
    a, b = OzWebClient(), OzWebClient()
    try:
        await a.connect(exchange.url, "100", password="secret-100")
        await b.connect(exchange.url, "201", password="secret-201")
        incoming = Recorder(b.onIncomingCall)
        call = a.createCall("201")
        warnings = Recorder(call.on_call_expiring)
        await call.start()
        inc: Call = await incoming.wait_for(lambda x: True)
        extended = Recorder(inc.on_call_extended)
        await inc.accept()
        left = await warnings.wait_for(lambda x: True)
        assert 0 < left <= 0.5
        assert await inc.extend(1) > 1.0
        await extended.wait_for(lambda x: True)
        assert call.getCallState() is CallState.IN_CALL
        await call.wait_for(CallState.COMPLETED, timeout=5)
        assert call.end_cause is EndCause.MAX_DURATION
        assert len(warnings.items) == 2  # once before the first deadline, once before the new
    finally:
        await a.disconnect()
        await b.disconnect()
        await exchange.stop()


async def test_refused_operations_raise_and_change_nothing(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    errors = Recorder(a.onErrorOccured)
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201")
    await call.start()
    inc: Call = await incoming.wait_for(lambda x: True)
    # wrong state: hold while ringing, accept own outgoing call, forward after answer
    with pytest.raises(OzError) as info:
        await call.hold()
    assert info.value.code == 303
    with pytest.raises(OzError):
        await call.accept()
    assert len(errors.items) == 2
    await inc.accept()
    await call.wait_for(CallState.IN_CALL)
    with pytest.raises(OzError) as info:
        await inc.forward("202")
    assert info.value.code == 303
    with pytest.raises(OzError):
        await inc.reject()
    assert call.getCallState() is CallState.IN_CALL
    # argument errors are raised before anything is sent
    with pytest.raises(ValueError):
        call.attachCamera(None)
    with pytest.raises(ValueError):
        await call.transfer("")
    with pytest.raises(ValueError):
        a.createCall("")
    with pytest.raises(RuntimeError):
        await call.start()


async def test_a_client_without_call_privilege_cannot_call(login: Connector) -> None:
    lobby = await login("300")
    errors = Recorder(lobby.onErrorOccured)
    with pytest.raises(OzError) as info:
        await lobby.createCall("201").start()
    assert info.value.code == 306 and "'call' privilege" in info.value.message
    assert errors.items[0].code == 306


async def test_disconnect_during_call_ends_it_for_the_other_side(login: Connector) -> None:
    a, _b, out, inc = await connected_pair(login)
    await a.disconnect()
    assert out.getCallState() is CallState.COMPLETED
    assert out.end_cause is EndCause.DISCONNECTED
    await inc.wait_for(CallState.COMPLETED)
    assert inc.end_cause is EndCause.REMOTE_HUNG_UP


async def test_attach_camera_and_remote_display_are_kept(login: Connector) -> None:
    from intercom.client import OzCamera

    _a, _b, out, inc = await connected_pair(login)
    OzCamera.register("door-test")
    try:
        cam = OzCamera.getCameraByName("door-test")
        out.attachCamera(cam)
        assert out.camera is cam
        inc.setRemoteDisplay("remoteVideo")
        assert inc.remote_display == "remoteVideo"
    finally:
        OzCamera.unregister("door-test")


async def test_media_signals_are_relayed_between_legs(login: Connector) -> None:
    a, b = await login("100"), await login("201")
    incoming = Recorder(b.onIncomingCall)
    call = a.createCall("201", CallType.VIDEO)
    peers = Recorder(call.on_peer_changed)
    answers = Recorder(call.on_signal_received)
    await call.start()
    inc: Call = await incoming.wait_for(lambda x: True)
    offers = Recorder(inc.on_signal_received)
    peer = (await peers.wait_for(lambda p: p.get("added")))["peer"]
    assert peer == inc.call_id and inc.peer == call.call_id
    await call.send_signal("offer", "v=0 offer", peer=peer)
    offer = await offers.wait_for(lambda x: True)
    assert offer["kind"] == "offer" and offer["sdp"] == "v=0 offer"
    await inc.send_signal("answer", "v=0 answer")
    answer = await answers.wait_for(lambda x: True)
    assert answer["kind"] == "answer" and answer["peer"] == inc.call_id
