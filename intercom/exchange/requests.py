"""Requests, once decoded and allowed, to what carries them out: the switch (a caller's own
calls), the relay (what passes between parties), the supervisor (``session.*``), call history.

A handler returns its result model (None for ``{}``) or raises ``ProtocolError``; the server
checks privileges before and encodes the answer after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from intercom.protocol import messages as m
from intercom.protocol.enums import Privilege
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.results import HistoryRecord, HistoryResult
from intercom.protocol.wire import WireModel

from .connection import Connection

if TYPE_CHECKING:
    from .server import Exchange

Handler = Callable[[Connection, Any], WireModel | None]


def request_handlers(ex: Exchange) -> dict[str, Handler]:
    sw, sv, relay = ex.switch, ex.supervisor, ex.relay

    def history(conn: Connection, q: m.HistoryQuery) -> HistoryResult:
        own = Privilege.HISTORY not in conn.privileges
        if own and q.extension is not None and q.extension != conn.extension:
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                "the history of another extension needs the 'history' privilege",
            )
        page = ex.history.query(q, only_extension=conn.extension if own else None)
        calls = [HistoryRecord.model_validate(record) for record in page.records]
        return HistoryResult(numberOfCalls=page.total, calls=calls)

    def logout(conn: Connection, _: m.Empty) -> None:
        ex.in_background(conn.ws.close(1000, "logged out"))

    table: dict[str, Handler] = {
        "logout": logout,
        "call.start": lambda c, d: sw.start_call(
            c, d.number, d.call_type, d.max_duration, d.ring_timeout
        ),
        "call.accept": lambda c, d: sw.accept(c, d.call_id),
        "call.reject": lambda c, d: sw.reject(c, d.call_id),
        "call.hangup": lambda c, d: sw.hangup(c, d.call_id),
        "call.hold": lambda c, d: sw.set_hold(c, d.call_id, True),
        "call.unhold": lambda c, d: sw.set_hold(c, d.call_id, False),
        "call.forward": lambda c, d: sw.forward(c, d.call_id, d.target),
        "call.transfer": lambda c, d: sw.transfer(c, d.call_id, d.target),
        "call.message": lambda c, d: relay.send_message(c, d.call_id, d.text),
        "call.dtmf": lambda c, d: relay.send_dtmf(c, d.call_id, d.digits),
        "call.extend": lambda c, d: sw.extend(c, d.call_id, d.seconds),
        "call.command": lambda c, d: relay.command(c, d.call_id, d.command, d.target),
        "call.signal": lambda c, d: relay.signal(c, d.call_id, d.kind, d.sdp, d.peer),
        "setup_call": lambda c, d: sw.setup_call(c, d.caller, d.callee),
        "history.query": history,
        "session.blind_transfer": lambda c, d: sv.blind_transfer(
            c, d.session_id, d.transferor, d.target
        ),
        "session.close": lambda c, d: sv.close(c, d.session_id),
        "session.close_with_hangup": lambda c, d: sv.hangup(c, d.session_id),
        "session.hangup": lambda c, d: sv.hangup(c, d.session_id),
        "session.forward": lambda c, d: sv.forward(c, d.session_id, d.target),
        "session.hold": lambda c, d: sv.hold(c, d.session_id, True),
        "session.unhold": lambda c, d: sv.hold(c, d.session_id, False),
        "session.send_dtmf": lambda c, d: sv.send_dtmf(c, d.session_id, d.key, d.party),
        "session.start_listen": lambda c, d: sv.listen(c, d.session_id, True),
        "session.stop_listen": lambda c, d: sv.listen(c, d.session_id, False),
        "session.signal": lambda c, d: sv.listener_signal(c, d.session_id, d.peer, d.kind, d.sdp),
    }
    return table
