"""Call history: records, filters, paging, privileges, and consistency after a crash."""

from __future__ import annotations

import pytest

from intercom.client import Call, CallState, CallType, OzError
from intercom.exchange.history import HistoryEnd, HistoryStart, HistoryStore
from intercom.protocol.messages import HistoryQuery
from tests.conftest import Connector, Recorder

pytestmark = pytest.mark.integration


async def make_calls(login: Connector) -> None:
    door, flat1 = await login("100"), await login("201")
    incoming = Recorder(flat1.onIncomingCall)
    answered = door.createCall("201", CallType.VIDEO)
    await answered.start()
    inc: Call = await incoming.wait_for(lambda c: True)
    await inc.accept()
    await answered.wait_for(CallState.IN_CALL)
    await answered.hangUp()
    rejected = door.createCall("201")
    await rejected.start()
    inc2: Call = await incoming.wait_for(lambda c: c is not inc)
    await inc2.reject()
    await rejected.wait_for(CallState.REJECTED)
    missing = flat1.createCall("555")
    await missing.start()
    await missing.wait_for(CallState.NOT_FOUND)


async def test_history_records_filters_and_paging(login: Connector) -> None:
    await make_calls(login)
    concierge = await login("900")
    received = Recorder(concierge.onCallHistoryInfoReceived)
    everything = await concierge.getCallHistory()
    assert everything.numberOfCalls == 3
    assert received.items == [everything]
    newest = everything.calls[0]
    assert (newest["Source"], newest["Dialed"], newest["State"]) == ("201", "555", "NOTFOUND")
    answered = everything.calls[-1]
    assert answered["State"] == "CALLERHUNGUP" and answered["Type"] == "Video"
    assert answered["Direction"] == "Internal" and answered["CallerId"] == "100"
    assert answered["RingDuration"] >= 0 and answered["TalkDuration"] >= 0
    assert set(answered) >= {"StartTime", "Destination", "CallId"}

    rejected = await concierge.getCallHistory({"State": "REJECTED"})
    assert [c["Destination"] for c in rejected.calls] == ["201"]
    by_source = await concierge.getCallHistory({"source": "100", "RowsPerPage": 1})
    assert by_source.numberOfCalls == 2 and len(by_source.calls) == 1
    page2 = await concierge.getCallHistory({"source": "100", "RowsPerPage": 1, "PageNumber": 1})
    assert page2.calls[0]["CallId"] != by_source.calls[0]["CallId"]
    assert (await concierge.getCallHistory({"callId": answered["CallId"]})).numberOfCalls == 1
    assert (await concierge.getCallHistory({"type": "audio"})).numberOfCalls == 2
    assert (await concierge.getCallHistory({"general": "55"})).numberOfCalls == 1
    assert (await concierge.getCallHistory({"from": "2999-01-01"})).numberOfCalls == 0
    of_door = await concierge.helper.getCallHistoryOfExtension("100")
    assert of_door.numberOfCalls == 2


async def test_history_without_privilege_is_limited_to_own_calls(login: Connector) -> None:
    await make_calls(login)
    bystander = await login("202")
    assert (await bystander.getCallHistory()).numberOfCalls == 0
    errors = Recorder(bystander.onErrorOccured)
    with pytest.raises(OzError) as info:
        await bystander.helper.getCallHistoryOfExtension("100")
    assert info.value.code == 306
    assert errors.items[0].code == 306
    flat1 = await login("201")
    assert (await flat1.getCallHistory()).numberOfCalls == 3
    with pytest.raises(ValueError):
        await flat1.getCallHistory({"colour": "red"})


def test_rows_left_open_by_a_crash_are_closed_as_aborted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = HistoryStore(tmp_path / "history.db")
    rows = (("abc", 1_700_000_000.0, "201"), ("def", 1_700_000_001.0, "202"))
    for call_id, start, callee in rows:
        store.started(
            HistoryStart(call_id, start, "Internal", "100", callee, callee, "100", "Video")
        )
    store.ended(HistoryEnd("def", "202", "CALLERHUNGUP", 1.0, 2.0, 1_700_000_004.0))
    del store  # no close: as if the process died
    reopened = HistoryStore(tmp_path / "history.db")
    page = reopened.query(HistoryQuery())
    assert page.total == 2
    assert {r["CallId"]: r["State"] for r in page.records} == {
        "abc": "ABORTED",
        "def": "CALLERHUNGUP",
    }
    reopened.close()
