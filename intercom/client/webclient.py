"""OzWebClient: the connection to the exchange, and the entry point of the API.

Every frame from the exchange is decoded with the protocol's models (``EVENTS``, ``RESULTS``):
a frame that does not match them is refused here, so the rest of the client reads typed,
checked data.

Longer than our ~500 lines on purpose: ``OzWebClient`` is the seed's one class for the whole
connection (connecting and reconnecting, the login snapshot, every event the exchange sends,
requests and their answers), and each part reads the state the others keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from intercom.protocol import events as ev
from intercom.protocol import messages as m
from intercom.protocol.enums import (
    CallType,
    ClientStatus,
    ConnectionState,
    EndCause,
    Privilege,
    SessionState,
)
from intercom.protocol.errors import ErrorCode
from intercom.protocol.records import ClientRecord, ErrorRecord, ExtensionRecord, UserRecord
from intercom.protocol.results import LoginResult, decode_result

from .call import Call, DtmfEvent, Message
from .directory import Extension, User
from .errors import NotConnectedError, OzError
from .events import Event
from .helper import Helper
from .session import Session

if TYPE_CHECKING:
    from intercom.media.callmedia import MediaOptions

log = logging.getLogger(__name__)

DEFAULT_PORT = 7777
DEFAULT_SCHEME = "wss"  # the exchange speaks TLS unless configured not to
REQUEST_TIMEOUT = 10.0
#: How long opening the WebSocket (TCP, TLS, HTTP upgrade) and the login's answer may each take:
#: generous, for the handshake's several round trips over slow, lossy links (300 ms, 10 % loss).
OPEN_TIMEOUT = 15.0
LOGIN_TIMEOUT = 15.0
MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024


def server_url(address: str) -> str:
    """``host``, ``host:port``, ``[v6]:port`` or a full ``ws://``/``wss://`` URL."""
    address = address.strip()
    if not address:
        raise ValueError("the server address is empty")
    if "://" in address:
        parts = urlsplit(address)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise ValueError(f"not a WebSocket address: {address!r}")
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        port = parts.port or DEFAULT_PORT
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{scheme}://{host}:{port}{parts.path or '/'}"
    match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]/]+)(?::(\d+))?", address)
    if match is None:
        raise ValueError(f"not a server address: {address!r}")
    v6, v6port, name, port_text = match.groups()
    host = f"[{v6}]" if v6 else name
    return f"{DEFAULT_SCHEME}://{host}:{int(v6port or port_text or DEFAULT_PORT)}/"


@dataclass(frozen=True)
class ConnectionInfo:
    """Payload of ``onConnectionStateChanged``; the seed reads ``info.State``."""

    state: ConnectionState
    extension: str | None = None
    message: str = ""
    #: While a first connection is retried: how many attempts have failed so far.
    attempt: int = 0

    @property
    def State(self) -> ConnectionState:
        return self.state


@dataclass(frozen=True)
class HistoryResult:
    number_of_calls: int
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def numberOfCalls(self) -> int:
        return self.number_of_calls


_HISTORY_KEYS = {
    "pagenumber": "page_number",
    "rowsperpage": "rows_per_page",
    "from": "from",
    "until": "until",
    "to": "until",
    "general": "general",
    "direction": "direction",
    "source": "source",
    "destination": "destination",
    "state": "state",
    "dialed": "dialed",
    "callerid": "caller_id",
    "callid": "call_id",
    "type": "type",
    "extension": "extension",
}


def history_filters(filters: dict[str, Any] | None) -> dict[str, Any]:
    """Accept the HTTP API's (``PageNumber``), camelCase and snake_case filter names."""
    out: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        norm = _HISTORY_KEYS.get(key.replace("_", "").lower())
        if norm is None:
            raise ValueError(f"unknown call history filter {key!r}")
        if value is not None:
            out[norm] = value
    return out


@dataclass
class _Pending:
    kind: str  # the request's type, which says what its result holds
    future: asyncio.Future[dict[str, Any]]
    on_result: Callable[[dict[str, Any]], None] | None


#: An event's handler: the client, the event as its model, and its data as received.
_Handler = Callable[["OzWebClient", Any, dict[str, Any]], None]


def _refusal(error: ErrorRecord) -> OzError:
    return OzError(error.code, error.name, error.message)


def _malformed(what: str, exc: ValidationError) -> OzError:
    """A frame from the exchange that its models refuse, as an error the caller can read."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "data"
    message = f"malformed {what} from the exchange at '{where}': {first['msg']}"
    return OzError(int(ErrorCode.PARSE_ERROR), ErrorCode.PARSE_ERROR.title, message)


class OzWebClient:
    """One connection to an exchange, logged in as one extension."""

    def __init__(
        self,
        *,
        media: MediaOptions | bool = True,
        reconnect: bool = True,
        backoff_base: float = 0.25,
        backoff_cap: float = 4.0,
        request_timeout: float = REQUEST_TIMEOUT,
        trust: ssl.SSLContext | Path | str | None = None,
        open_timeout: float = OPEN_TIMEOUT,
        login_timeout: float = LOGIN_TIMEOUT,
    ) -> None:
        """``trust``: for ``wss://``, the certificate (or CA) to verify the exchange against,
        e.g. the exchange's own self-signed ``tls/certificate.pem``, or a ready SSL context;
        None verifies against the system's CAs. ``open_timeout`` bounds opening the
        connection and ``login_timeout`` the login's answer, each per attempt."""
        if media is True:
            from intercom.media.callmedia import MediaOptions as Options

            media = Options()
        #: How calls carry audio and video; ``None`` for a signalling-only client.
        self.media_options: MediaOptions | None = media or None
        self.reconnect = reconnect
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.request_timeout = request_timeout
        self.open_timeout = open_timeout
        self.login_timeout = login_timeout
        #: Failed attempts in a row at a first connection retried by ``connect(retry=True)``.
        self.attempt = 0
        if trust is not None and not isinstance(trust, ssl.SSLContext):
            from .tls import client_context

            trust = client_context(trust)
        self._trust: ssl.SSLContext | None = trust
        self.state = ConnectionState.CONNECTION_CLOSED
        self.extension: str | None = None
        self.display_name = ""
        self.privileges: frozenset[Privilege] = frozenset()
        self.ice_servers: list[dict[str, Any]] = []
        self.limits: dict[str, float] = {}
        self.extensions: dict[str, Extension] = {}
        self.outside_lines: dict[str, Extension] = {}
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, Call] = {}
        self.helper = Helper(self)

        self._url: str | None = None
        self._login: dict[str, Any] = {}
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._background: set[asyncio.Task[Any]] = set()

        E = Event
        self.on_connection_state_changed: Event[[ConnectionInfo]] = E("onConnectionStateChanged")
        self.on_client_state_changed: Event[[dict[str, Any]]] = E("onClientStateChanged")
        self.on_incoming_call: Event[[Call]] = E("onIncomingCall")
        self.on_error_occured: Event[[OzError]] = E("onErrorOccured")
        self.on_call_history_info_received: Event[[HistoryResult]] = E("onCallHistoryInfoReceived")
        self.on_extension_info_received: Event[[Extension]] = E("onExtensionInfoReceived")
        self.on_extension_removed: Event[[Extension]] = E("onExtensionRemoved")
        self.on_user_info_received: Event[[User]] = E("onUserInfoReceived")
        self.on_user_removed: Event[[User]] = E("onUserRemoved")
        self.on_session_created: Event[[Session]] = E("onSessionCreated")
        self.on_session_closed: Event[[Session]] = E("onSessionClosed")
        self.on_webphone_state_received: Event[[dict[str, Any]]] = E("onWebphoneStateReceived")
        # The seed's spellings, the same Event objects.
        self.onConnectionStateChanged = self.on_connection_state_changed
        self.onClientStateChanged = self.on_client_state_changed
        self.onIncomingCall = self.on_incoming_call
        self.onErrorOccured = self.on_error_occured
        self.onCallHistoryInfoReceived = self.on_call_history_info_received
        self.onExtensionInfoReceived = self.on_extension_info_received
        self.onExtensionRemoved = self.on_extension_removed
        self.onUserInfoReceived = self.on_user_info_received
        self.onUserRemoved = self.on_user_removed
        self.onSessionCreated = self.on_session_created
        self.onSessionClosed = self.on_session_closed
        self.onWebphoneStateReceived = self.on_webphone_state_received

    # ------------------------------------------------------------ connecting

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.ACCESS_GRANTED

    async def connect(
        self,
        server_address: str,
        token: str,
        properties: dict[str, Any] | None = None,
        *,
        password: str | None = None,
        retry: bool = False,
    ) -> ConnectionState:
        """Log in with a token, or with an extension number and its password (the password
        given as ``password=`` or, as in the seed, as ``Password`` in ``properties``).

        Returns the outcome, which is also delivered to ``onConnectionStateChanged``. Once
        logged in, a lost connection is re-established with backoff and jitter.

        With ``retry``, a failed first connection (unreachable, timed out, refused other than
        for its credentials) is retried with the same backoff, each failure reported as
        ``CONNECTION_FAILED`` with its ``attempt``; ``connect`` then returns only once logged
        in, on ``ACCESS_DENIED`` (final: wrong credentials stay wrong), or with
        ``CONNECTION_CLOSED`` when ``disconnect()`` stops the retries.
        """
        if self._task is not None and not self._task.done():
            raise RuntimeError("already connected; disconnect() first")
        self._url = server_url(server_address)
        props = dict(properties or {})
        for key in [k for k in props if k.lower() == "password"]:
            password = password if password is not None else str(props.pop(key))
        self._login = {"properties": props}
        if password is not None:
            self._login.update(extension=token, password=password)
        else:
            self._login["token"] = token
        self._closing = False
        self.attempt = 0
        first: asyncio.Future[ConnectionState] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first, retry))
        return await first

    async def disconnect(self) -> None:
        self._closing = True
        medias = [call.media for call in self.calls.values() if call.media is not None]
        listening = [s for s in self.sessions.values() if s.listen_media is not None]
        task, self._task = self._task, None
        if self._ws is not None:
            await self._ws.close()  # the read loop ends, and with it the connection task
        elif task is not None:
            task.cancel()  # between connections: connecting, or waiting to retry
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for media in medias:  # hung up by the exchange already; release sockets and threads
            await media.close()
        for session in listening:
            await session.close_listen_media()

    def _ssl_for(self, url: str) -> dict[str, Any]:
        return {"ssl": self._trust} if url.startswith("wss:") and self._trust else {}

    async def _run(self, first: asyncio.Future[ConnectionState], retry: bool) -> None:
        attempt = 0
        was_granted = False
        try:
            while not self._closing:
                state, ws, message = await self._open()
                final = state is not ConnectionState.CONNECTION_FAILED
                if not first.done() and (final or not retry):
                    first.set_result(state)
                if state is ConnectionState.ACCESS_GRANTED and ws is not None:
                    if self._closing:
                        await ws.close()
                        self._ws = None
                        return
                    attempt, was_granted, self.attempt = 0, True, 0
                    self._set_state(state)
                    await self._read(ws)
                    self._lost()
                    self._set_state(ConnectionState.CONNECTION_CLOSED)
                    if self._closing or not self.reconnect:
                        return
                    continue
                if state is ConnectionState.ACCESS_DENIED or not (was_granted or retry):
                    self._set_state(state, message)
                    return
                if not was_granted:  # a first connection retried: say so, and how often
                    self.attempt += 1
                    self._set_state(state, message)
                # Reconnecting after a loss or retrying: wait a jittered, growing delay.
                delay = min(self.backoff_cap, self.backoff_base * 2**attempt)
                attempt += 1
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
        finally:
            if not first.done():
                first.set_result(ConnectionState.CONNECTION_CLOSED)

    async def _open(self) -> tuple[ConnectionState, ClientConnection | None, str]:
        assert self._url is not None
        try:
            ws = await ws_connect(
                # The login snapshot of a large directory runs to megabytes.
                self._url,
                compression=None,
                open_timeout=self.open_timeout,
                **self._ssl_for(self._url),
                max_size=MAX_SERVER_FRAME_BYTES,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            return ConnectionState.CONNECTION_FAILED, None, str(exc)
        try:
            await ws.send(m.encode_request("login", self._login, 0))
            async with asyncio.timeout(self.login_timeout):
                frame = m.decode_server_frame(await ws.recv())
        except (ConnectionClosed, TimeoutError, ValueError) as exc:
            await ws.close()
            return ConnectionState.CONNECTION_FAILED, None, str(exc)
        if frame["type"] == "error":
            await ws.close()
            error = OzError.from_data(frame["data"])
            if error.code == ErrorCode.AUTHENTICATION_FAILED:
                return ConnectionState.ACCESS_DENIED, None, error.message
            return ConnectionState.CONNECTION_FAILED, None, error.message
        try:
            snapshot = LoginResult.model_validate(frame["data"])
        except ValidationError as exc:
            await ws.close()
            return ConnectionState.CONNECTION_FAILED, None, _malformed("login", exc).message
        self._ws = ws
        self._apply_snapshot(snapshot, frame["data"])
        return ConnectionState.ACCESS_GRANTED, ws, ""

    def _set_state(self, state: ConnectionState, message: str = "") -> None:
        self.state = state
        info = ConnectionInfo(state, self.extension, message, self.attempt)
        self.on_connection_state_changed.emit(info)

    def _lost(self) -> None:
        """The connection is gone: the exchange has hung up our legs and forgotten us."""
        self._ws = None
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(NotConnectedError())
        self._pending.clear()
        for call in list(self.calls.values()):
            call.connection_lost(EndCause.DISCONNECTED)
        self.calls.clear()

    # ------------------------------------------------------------- snapshot

    def _apply_snapshot(self, snap: LoginResult, raw: dict[str, Any]) -> None:
        """The login snapshot, checked by its model; the API keeps its records as received."""
        self.extension = snap.extension
        self.display_name = snap.displayName
        self.privileges = frozenset(snap.privileges)
        self.ice_servers = list(raw["iceServers"])
        self.limits = dict(raw["limits"])
        # The model has checked each list: the raw entries pair up with its records.
        self.clients = {c.phoneNumber: i for c, i in zip(snap.clients, raw["clients"], strict=True)}
        for ext, info in zip(snap.extensions, raw["extensions"], strict=True):
            self._extension_info(ext, self.extensions, info)
        for line, info in zip(snap.outsideLines, raw["outsideLines"], strict=True):
            self._extension_info(line, self.outside_lines, info)
        for user, info in zip(snap.users, raw["users"], strict=True):
            self._user_info(user, info)
        fresh = {s.sessionId: i for s, i in zip(snap.sessions, raw["sessions"], strict=True)}
        for session_id in list(self.sessions):
            if session_id not in fresh:
                self._session_closed(self.sessions[session_id].info)
        for info in fresh.values():
            self._session_event(info)

    def _extension_info(
        self, record: ExtensionRecord, table: dict[str, Extension], info: dict[str, Any]
    ) -> None:
        ext = table.get(record.id)
        if ext is None:
            ext = table[record.id] = Extension(info)
        else:
            ext.update({**info, "status": ext.status.value})
            ext.set_status(record.status)
        self.on_extension_info_received.emit(ext)

    def _user_info(self, record: UserRecord, info: dict[str, Any]) -> None:
        user = self.users.get(record.id)
        if user is None:
            user = self.users[record.id] = User(info)
        else:
            user.update(info)
        self.on_user_info_received.emit(user)

    def _session_event(self, info: dict[str, Any]) -> None:
        session = self.sessions.get(info["sessionId"])
        if session is None:
            session = self.sessions[info["sessionId"]] = Session(self, info)
            self.on_session_created.emit(session)
            return
        if session.update(info):
            session.on_session_state_changed.emit(session, SessionState(info["sessionState"]))

    def _session_signal(self, signal: ev.ListenerSignal, data: dict[str, Any]) -> None:
        session = self.sessions.get(signal.session_id)
        if session is not None:
            session.handle_listen_signal(data)

    def _session_closed(self, info: dict[str, Any]) -> None:
        session = self.sessions.pop(info["sessionId"], None)
        if session is None:
            return
        changed = session.update(info)
        session.closed = True
        if session.listen_media is not None:
            self._spawn(session.close_listen_media())
        if changed:
            session.on_session_state_changed.emit(session, SessionState(info["sessionState"]))
        self.on_session_closed.emit(session)

    # -------------------------------------------------------------- reading

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    frame = m.decode_server_frame(raw)
                except ValueError:
                    log.warning("ignoring a malformed frame from the exchange")
                    continue
                self._handle(frame)
        except ConnectionClosed:
            pass

    def _handle(self, frame: dict[str, Any]) -> None:
        kind, data = frame["type"], frame.get("data", {})
        request_id = frame.get("id")
        if kind in ("result", "error") and request_id is not None:
            pending = self._pending.pop(request_id, None)
            if pending is None or pending.future.done():
                return
            try:
                if kind == "result":
                    decode_result(pending.kind, data)
                    error = None
                else:
                    error = _refusal(ErrorRecord.model_validate(data))
            except ValidationError as exc:
                error = _malformed(f"answer to {pending.kind}", exc)
            if error is None:
                if pending.on_result is not None:
                    pending.on_result(data)
                pending.future.set_result(data)
            else:
                pending.future.set_exception(error)
                self.on_error_occured.emit(error)
            return
        try:
            event = ev.decode_event(kind, data)
        except ValidationError:
            log.warning("ignoring a malformed %s from the exchange", kind)
            return
        if event is None:
            log.debug("ignoring event %s", kind)
            return
        # Handlers read the typed event; where the API hands on a dict (call.state to Call,
        # session records, presence), they hand on ``data``, which the model has just checked.
        self._events[kind](self, event, data)

    def _on_error(self, error: ErrorRecord, _: dict[str, Any]) -> None:
        self.on_error_occured.emit(_refusal(error))

    def _on_incoming(self, incoming: ev.IncomingCall, _: dict[str, Any]) -> None:
        call = Call(
            self,
            incoming.caller,
            incoming.call_type,
            incoming=True,
            call_id=incoming.call_id,
            session_id=incoming.session_id,
            other_party_name=incoming.caller_name,
        )
        call.dialed = incoming.dialed
        call.other_privileges = frozenset(incoming.other_privileges)
        call.peer = incoming.peer
        call.other_leg = call.peer  # the caller is the other party from the start
        self.calls[incoming.call_id] = call
        if self.media_options is not None:
            call.start_media(self.media_options, self.ice_servers)
        self.on_incoming_call.emit(call)

    def _on_call_state(self, state: ev.LegState, data: dict[str, Any]) -> None:
        call = self.calls.get(state.call_id)
        if call is None:
            return
        call.apply_state(data)
        if call.state is not None and call.state.is_final:
            self.calls.pop(state.call_id, None)

    def _on_message(self, message: ev.TextMessage, _: dict[str, Any]) -> None:
        call = self.calls.get(message.call_id)
        if call is not None:
            call.on_message_received.emit(Message(message.text, message.sender))

    def _on_dtmf(self, digit: ev.DtmfDigit, _: dict[str, Any]) -> None:
        """Signalling digits come from the other party of the call (the exchange sends no
        others as "signalling"); a supervisor's ``Session.sendDtmf`` ("session") does not."""
        call = self.calls.get(digit.call_id)
        if call is not None:
            call.on_dtmf_received.emit(
                DtmfEvent(
                    digit.key,
                    digit.source,
                    digit.sender,
                    frozenset(digit.privileges),
                    from_other_party=digit.source == "signalling",
                )
            )

    def _call_emit(self, call_id: str, event: str, value: Any) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            getattr(call, event).emit(value)

    def _on_client_state(self, record: ClientRecord, data: dict[str, Any]) -> None:
        if record.status is ClientStatus.ONLINE:
            self.clients[record.phoneNumber] = data
        else:
            self.clients.pop(record.phoneNumber, None)
        self.on_client_state_changed.emit(data)

    def _on_extension_removed(self, removal: ev.Removal, _: dict[str, Any]) -> None:
        ext = self.extensions.pop(removal.id, None) or self.outside_lines.pop(removal.id, None)
        if ext is not None:
            self.on_extension_removed.emit(ext)

    def _on_extension_status(self, change: ev.StatusChange, _: dict[str, Any]) -> None:
        ext = self.extensions.get(change.id)
        if ext is not None:
            ext.set_status(change.status)

    def _on_user_removed(self, removal: ev.Removal, _: dict[str, Any]) -> None:
        user = self.users.pop(removal.id, None)
        if user is not None:
            self.on_user_removed.emit(user)

    def _on_extension_info(self, record: ExtensionRecord, data: dict[str, Any]) -> None:
        table = self.outside_lines if record.isOutsideLine else self.extensions
        self._extension_info(record, table, data)

    @staticmethod
    def _relay(event: str) -> _Handler:
        """Hand a call event on to the call's own event (media, listeners, door commands)."""
        return lambda client, typed, data: client._call_emit(typed.call_id, event, data)

    @staticmethod
    def _time_left(event: str) -> _Handler:
        return lambda client, left, _: client._call_emit(left.call_id, event, left.seconds_left)

    # Each event type's handler: the event as its model, and its data as received.
    _events: dict[str, _Handler] = {
        "error": _on_error,
        "call.incoming": _on_incoming,
        "call.state": _on_call_state,
        "call.message": _on_message,
        "call.dtmf": _on_dtmf,
        "call.warning": _time_left("on_call_expiring"),
        "call.extended": _time_left("on_call_extended"),
        "call.signal": _relay("on_signal_received"),
        "call.peer": _relay("on_peer_changed"),
        "call.listener": _relay("on_listener_changed"),
        "call.command": _relay("on_command_received"),
        "client.state": _on_client_state,
        "session.created": lambda c, _, data: c._session_event(data),
        "session.state": lambda c, _, data: c._session_event(data),
        "session.closed": lambda c, _, data: c._session_closed(data),
        "session.signal": lambda c, signal, data: c._session_signal(signal, data),
        "extension.info": _on_extension_info,
        "extension.removed": _on_extension_removed,
        "extension.status": _on_extension_status,
        "user.info": lambda c, record, data: c._user_info(record, data),
        "user.removed": _on_user_removed,
    }

    # ------------------------------------------------------------- requests

    async def request(
        self,
        kind: str,
        data: dict[str, Any],
        on_result: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Send one request and wait for the exchange's answer.

        ``on_result`` runs in the reader as the answer arrives, before any later event is
        handled, so that events about what the request created are never missed."""
        ws = self._ws
        if ws is None or not self.connected:
            error = NotConnectedError()
            self.on_error_occured.emit(error)
            raise error
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(kind, future, on_result)
        try:
            await ws.send(m.encode_request(kind, data, request_id))
            async with asyncio.timeout(self.request_timeout):
                return await future
        except ConnectionClosed:
            raise NotConnectedError() from None
        finally:
            self._pending.pop(request_id, None)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def register_call(self, call: Call) -> None:
        assert call.call_id is not None
        self.calls[call.call_id] = call

    # ----------------------------------------------------------------- API

    def create_call(self, dialed_number: str, call_type: CallType | str = CallType.AUDIO) -> Call:
        """A new outgoing call; nothing is dialled until ``await call.start()``."""
        if not dialed_number:
            raise ValueError("createCall needs a number")
        return Call(self, dialed_number, CallType(call_type))

    async def setup_call(self, caller: str, callee: str) -> str:
        """Click-to-call: ring ``caller``'s devices; once one answers, dial ``callee``."""
        if not caller or not callee:
            raise ValueError("setupCall needs a caller and a callee")
        result = await self.request("setup_call", {"caller": caller, "callee": callee})
        return str(result["session_id"])

    async def get_call_history(self, filters: dict[str, Any] | None = None) -> HistoryResult:
        result = await self.request("history.query", history_filters(filters))
        history = HistoryResult(int(result["numberOfCalls"]), list(result["calls"]))
        self.on_call_history_info_received.emit(history)
        return history

    async def check_webphone_state(
        self,
        server_address: str,
        webphone_id: str,
        callback: Callable[[dict[str, Any]], Any] | None = None,
    ) -> dict[str, Any]:
        """Is this webphone (extension) online? Works before logging in too."""
        url = server_url(server_address)
        if self.connected and url == self._url:
            info = await self.request("webphone.state", {"webphone_id": webphone_id})
        else:
            info = await self._one_shot(url, "webphone.state", {"webphone_id": webphone_id})
        self.on_webphone_state_received.emit(info)
        if callback is not None:
            callback(info)
        return info

    async def _one_shot(self, url: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            async with ws_connect(
                url, compression=None, open_timeout=self.open_timeout, **self._ssl_for(url)
            ) as ws:
                await ws.send(m.encode_request(kind, data, 1))
                async with asyncio.timeout(self.request_timeout):
                    frame = m.decode_server_frame(await ws.recv())
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
            error = OzError(0, "ConnectionFailed", f"cannot reach {url}: {exc}")
            self.on_error_occured.emit(error)
            raise error from None
        try:
            if frame["type"] == "error":
                error = _refusal(ErrorRecord.model_validate(frame["data"]))
            else:
                decode_result(kind, frame["data"])
                return dict(frame["data"])
        except ValidationError as exc:
            error = _malformed(f"answer to {kind}", exc)
        self.on_error_occured.emit(error)
        raise error

    createCall = create_call
    setupCall = setup_call
    getCallHistory = get_call_history
    checkWebphoneState = check_webphone_state
