"""Every request type against every role, generated from the protocol's own definitions: a
new request type fails here until it declares the privileges it needs and a sample payload.

Roles: a stranger (not logged in), logins by password, tokens holding each privilege alone
and none, a token narrowed by its extension, an expired and a revoked token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from intercom.exchange.history import HistoryStore
from intercom.exchange.server import Exchange
from intercom.protocol import messages as m
from intercom.protocol.enums import Privilege
from intercom.protocol.errors import ErrorCode
from tests.security.helpers import answer, closed, connect_raw, frame, login_raw, login_token

pytestmark = pytest.mark.integration

#: A payload that validates for each request type (ids that name nothing).
SAMPLES: dict[str, dict[str, Any]] = {
    "login": {"extension": "201", "password": "x"},
    "logout": {},
    "webphone.state": {"webphone_id": "201"},
    "history.query": {},
    "call.start": {"number": "nobody-here"},
    "call.accept": {"call_id": "c"},
    "call.reject": {"call_id": "c"},
    "call.hangup": {"call_id": "c"},
    "call.hold": {"call_id": "c"},
    "call.unhold": {"call_id": "c"},
    "call.forward": {"call_id": "c", "target": "202"},
    "call.transfer": {"call_id": "c", "target": "202"},
    "call.message": {"call_id": "c", "text": "hi"},
    "call.dtmf": {"call_id": "c", "digits": "1234#"},
    "call.extend": {"call_id": "c", "seconds": 30},
    "call.command": {"call_id": "c", "command": "unlock"},
    "call.signal": {"call_id": "c", "kind": "offer", "sdp": "v=0"},
    "setup_call": {"caller": "201", "callee": "202"},
    "session.blind_transfer": {"session_id": "s", "transferor": "201", "target": "202"},
    "session.close": {"session_id": "s"},
    "session.close_with_hangup": {"session_id": "s"},
    "session.forward": {"session_id": "s", "target": "202"},
    "session.hangup": {"session_id": "s"},
    "session.hold": {"session_id": "s"},
    "session.unhold": {"session_id": "s"},
    "session.send_dtmf": {"session_id": "s", "key": "1", "party": "100"},
    "session.start_listen": {"session_id": "s"},
    "session.stop_listen": {"session_id": "s"},
    "session.signal": {"session_id": "s", "peer": "p", "kind": "answer", "sdp": "v=0"},
}

REFUSED_FOR_PRIVILEGE = {ErrorCode.FORBIDDEN}
NOT_LOGGED_IN = {ErrorCode.AUTHENTICATION_REQUIRED}


def test_every_request_type_declares_privileges_and_a_sample() -> None:
    assert set(m.REQUEST_PRIVILEGES) == set(m.REQUESTS)
    assert set(SAMPLES) == set(m.REQUESTS)
    for kind, data in SAMPLES.items():
        m.decode_request(frame(kind, data))  # every sample is well-formed


async def test_a_stranger_can_only_log_in_or_ask_for_a_state(exchange: Exchange) -> None:
    for kind in m.REQUESTS:
        ws = await connect_raw(exchange)
        reply = await answer(ws, frame(kind, SAMPLES[kind]))
        if kind in m.PRE_LOGIN_REQUESTS:
            assert reply["type"] == "result" or reply["data"]["code"] != 304, kind
        else:
            assert reply["type"] == "error", kind
            assert reply["data"]["code"] in NOT_LOGGED_IN, (kind, reply)
        await ws.close()
    assert not exchange.switch.sessions


def _history_rows(exchange: Exchange) -> int:
    assert isinstance(exchange.history, HistoryStore)
    return int(exchange.history._db.execute("SELECT count(*) FROM calls").fetchone()[0])


Roles = dict[str, tuple[ClientConnection, set[str]]]


async def _role_connections(exchange: Exchange) -> Roles:
    roles: Roles = {}
    for number in ("100", "203", "300", "900"):
        ws, reply = await login_raw(exchange, number)
        assert reply["type"] == "result", reply
        roles[f"password {number}"] = (ws, set(reply["data"]["privileges"]))
    # Tokens of the concierge (who has every privilege) holding one privilege, or none.
    for privilege in [None, *Privilege]:
        held = set() if privilege is None else {privilege}
        token = exchange.tokens.create("900", held)
        ws, reply = await login_token(exchange, token)
        assert reply["type"] == "result", reply
        assert set(reply["data"]["privileges"]) == {p.value for p in held}
        roles[f"token {privilege}"] = (ws, {p.value for p in held})
    # A token made (outside the command's check) with more than its extension has: narrowed.
    wide = exchange.tokens.create("203", {Privilege.CALL, Privilege.DOOR, Privilege.MODIFY})
    ws, reply = await login_token(exchange, wide)
    assert reply["data"]["privileges"] == ["call"]
    roles["narrowed token"] = (ws, {"call"})
    return roles


@pytest.fixture
async def roomy(config_path: Callable[..., Path]) -> AsyncIterator[Exchange]:
    """An exchange that lets the concierge hold a connection per role."""
    exchange = Exchange.from_file(config_path(max_devices_per_extension=16))
    await exchange.start()
    yield exchange
    await exchange.stop()


async def test_every_request_type_against_every_role(roomy: Exchange) -> None:
    exchange = roomy
    roles = await _role_connections(exchange)
    own = {name: name.split()[-1] for name in roles if name.startswith("password")}
    own.update({name: "900" for name in roles if name.startswith("token")})
    own["narrowed token"] = "203"
    rows = _history_rows(exchange)
    # First every request a role may not make: refused, and nothing happens.
    for name, (ws, held) in roles.items():
        for request_id, kind in enumerate(m.REQUESTS, start=1):
            needed = {p.value for p in m.REQUEST_PRIVILEGES[kind]}
            if needed <= held:
                continue
            reply = await answer(ws, frame(kind, SAMPLES[kind], request_id))
            assert reply["type"] == "error", (name, kind)
            assert reply["data"]["code"] in REFUSED_FOR_PRIVILEGE, (name, kind, reply)
    assert not exchange.switch.sessions
    assert _history_rows(exchange) == rows
    # Then every request it may make: never refused for privileges (the ids name nothing,
    # so most fail for that reason instead).
    for name, (ws, held) in roles.items():
        for request_id, kind in enumerate(m.REQUESTS, start=100):
            needed = {p.value for p in m.REQUEST_PRIVILEGES[kind]}
            if not needed <= held or kind == "logout":
                continue
            data = dict(SAMPLES[kind])
            if kind == "setup_call":  # for itself: for others it also needs MODIFY
                data["caller"] = own[name]
            reply = await answer(ws, frame(kind, data, request_id))
            if reply["type"] == "error":
                assert reply["data"]["code"] not in REFUSED_FOR_PRIVILEGE | NOT_LOGGED_IN, (
                    name,
                    kind,
                    reply,
                )
        reply = await answer(ws, frame("logout", {}, 999))
        assert reply["type"] == "result"
        await closed(ws)


async def test_expired_and_revoked_tokens_get_nothing(exchange: Exchange) -> None:
    expired = exchange.tokens.create("900", set(Privilege), ttl_seconds=-1)
    revoked = exchange.tokens.create("900", set(Privilege))
    (info,) = [
        t
        for t in exchange.tokens.list()
        if t.created_at == max(t.created_at for t in exchange.tokens.list())
    ]
    exchange.tokens.revoke(info.id)
    for token in (expired, revoked, "oz_" + "x" * 43):
        ws, reply = await login_token(exchange, token)
        assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
        await closed(ws)
    # Nor may they try again at once: each refusal counts against the address.
    assert exchange.throttle.addresses.entries["127.0.0.1"].count == 3
