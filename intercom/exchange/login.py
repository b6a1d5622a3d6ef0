"""The way in: the frames a connection may send before its login, the credentials (checked
throttled and off the event loop), the limits, and the snapshot a client starts from.

Nothing is registered here: ``admit`` returns a connection and its encoded login result, made
so that nothing can fail once the server registers it.
"""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from intercom import __version__
from intercom.protocol import messages as m
from intercom.protocol.enums import Privilege, WebphoneState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import encode_event
from intercom.protocol.results import (
    IceServerRecord,
    Limits,
    LoginResult,
    ServerInfo,
    WebphoneStateResult,
    encode_result_of,
)

from .admission import TokenBucket
from .connection import CLOSE_ABUSE, CLOSE_AUTH_FAILED, CLOSE_AUTH_TIMEOUT, CLOSE_LIMIT, Connection
from .directory import outside_line_info, user_info
from .registry import presence

if TYPE_CHECKING:
    from .server import Exchange

#: Frames a connection may send before it has logged in (a login needs one or two).
PRE_LOGIN_FRAMES = 20


class Gate:
    """Logins for one exchange, whose configuration and directory may change under it (a
    reload): it reads them from the exchange each time."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._conn_ids = itertools.count(1)
        # Password hashes run here, one at a time: the event loop keeps serving everyone
        # else, and a guessing flood can take at most one core.
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check")

    def close(self) -> None:
        self._hasher.shutdown(wait=False, cancel_futures=True)

    async def admit(self, ws: ServerConnection, address: str) -> tuple[Connection, str] | None:
        """Frames until a successful login, answered one by one and few in number. Returns
        the new connection, not registered yet, with its login result; or None (the socket
        is closed)."""
        ex = self.exchange
        frames = 0
        bucket = TokenBucket(2.0, 5)
        try:
            async with asyncio.timeout(ex.config.exchange.auth_timeout):
                async for raw in ws:
                    frames += 1
                    if frames > PRE_LOGIN_FRAMES or not bucket.take():
                        ex.refusals.warning("%s closed: too many frames before login", address)
                        ws.close_timeout = 0.5
                        await ws.close(CLOSE_ABUSE, "log in first")
                        return None
                    try:
                        request = m.decode_request(raw)
                    except ProtocolError as exc:
                        await ws.send(m.encode_error(exc))
                        continue
                    if request.type == "webphone.state":
                        assert isinstance(request.data, m.WebphoneStateQuery)
                        await ws.send(self.webphone_state(request, public=True))
                        continue
                    if request.type != "login":
                        await ws.send(
                            m.encode_error(
                                ProtocolError(
                                    ErrorCode.AUTHENTICATION_REQUIRED,
                                    "log in first",
                                    request.id,
                                )
                            )
                        )
                        continue
                    assert isinstance(request.data, m.Login)
                    return await self._log_in(ws, address, request.id, request.data)
        except ConnectionClosed:
            pass
        except TimeoutError:
            await ws.close(CLOSE_AUTH_TIMEOUT, "no login in time")
        return None

    async def _log_in(
        self, ws: ServerConnection, address: str, request_id: int, login: m.Login
    ) -> tuple[Connection, str] | None:
        """Check the credentials (throttled, off the event loop) and the limits; make the
        connection and its login result, so that nothing can fail once it is registered."""
        ex = self.exchange

        async def refuse(code: ErrorCode, message: str, close_code: int) -> None:
            await ws.send(m.encode_error(ProtocolError(code, message, request_id)))
            ws.close_timeout = 0.5
            await ws.close(close_code, message[:100])

        # The extension a password is tried on (the seed's login names it in ``token``). A
        # failed token login counts against its address only: naming an extension beside a
        # made-up token must not hold that flat's own devices back.
        named = (login.extension or login.token) if login.password is not None else None
        number = named if named is not None and named in ex.directory.extensions else None
        # Said in the log as a known extension or not at all: a stranger's text (a newline, a
        # forged line, a real token sent as an extension) never reaches the journal.
        who = number or ("a token" if login.password is None else "an unknown extension")
        async with ex.throttle.turn(address, number):
            wait = ex.throttle.wait(address, number)
            if wait > 0:
                await refuse(
                    ErrorCode.RATE_LIMITED,
                    f"too many failed logins; try again in {wait:.0f} s",
                    CLOSE_AUTH_FAILED,
                )
                return None
            auth, directory = ex.auth, ex.directory
            if login.password is None:
                grant = auth.authenticate(login.token, login.extension, None)  # one lookup
            else:
                loop = asyncio.get_running_loop()
                grant = await loop.run_in_executor(
                    self._hasher, auth.authenticate, login.token, login.extension, login.password
                )
                if grant is not None and ex.directory is not directory:
                    grant = auth.still_valid(grant)  # the directory was reloaded meanwhile
            if grant is None:
                ex.throttle.failed(address, number)
                ex.refusals.warning("login refused from %s for %s", address, who)
                await refuse(
                    ErrorCode.AUTHENTICATION_FAILED,
                    "unknown token, or wrong extension or password",
                    CLOSE_AUTH_FAILED,
                )
                return None
            ex.throttle.succeeded(address, grant.extension)
        devices = len(ex.registry.devices(grant.extension))
        limit = ex.config.exchange.max_devices_per_extension
        if devices >= limit:
            await refuse(
                ErrorCode.LIMIT_REACHED,
                f"extension {grant.extension} already has {devices} devices logged in "
                f"(at most {limit}); log out on one of them",
                CLOSE_LIMIT,
            )
            return None
        conn = Connection(ws, next(self._conn_ids), grant, dict(login.properties), address)
        # What could fail (encoding the snapshot and this client's presence) is done before
        # anything is registered.
        result = encode_result_of("login", request_id, self.snapshot(conn))
        encode_event("client.state", presence(conn, online=True))
        return conn, result

    def snapshot(self, conn: Connection) -> LoginResult:
        """What a client replicates at login, limited to what its privileges let it see."""
        ex = self.exchange
        d, sw, settings = ex.directory, ex.switch, ex.config.exchange
        sees_all = Privilege.DIRECTORY in conn.privileges
        numbers = list(d.extensions) if sees_all else [conn.extension]
        own_user = d.user_of_extension.get(conn.extension)
        users = list(d.users.values()) if sees_all else [d.users[own_user]] if own_user else []
        return LoginResult(
            extension=conn.extension,
            displayName=d.display_name(conn.extension),
            connId=conn.conn_id,
            privileges=sorted(conn.privileges),
            extensions=[
                d.extension_info(n, sw.extension_status(n)) for n in numbers if n in d.extensions
            ],
            outsideLines=[outside_line_info(line) for line in d.outside_lines.values()]
            if sees_all
            else [],
            users=[user_info(u) for u in users],
            clients=[presence(ep, online=True) for ep in ex.registry.everyone()]
            if sees_all
            else [],
            sessions=[sw.session_record(s) for s in sw.sessions.values()]
            if Privilege.MONITOR in conn.privileges
            else [],
            iceServers=[
                IceServerRecord.model_validate(s.model_dump()) for s in settings.ice_servers
            ],
            limits=Limits(
                ringTimeout=settings.ring_timeout,
                maxCallDuration=settings.max_call_duration,
                callWarning=settings.call_warning,
            ),
            server=ServerInfo(version=__version__, protocol=m.PROTOCOL_VERSION),
        )

    def webphone_state(self, request: m.Request, public: bool) -> str:
        """The answer to ``webphone.state``; before login (``public``) only if allowed."""
        ex = self.exchange
        assert isinstance(request.data, m.WebphoneStateQuery)
        number = request.data.webphone_id
        if public and not ex.config.exchange.public_webphone_state:
            return m.encode_error(
                ProtocolError(ErrorCode.AUTHENTICATION_REQUIRED, "log in first", request.id)
            )
        if number not in ex.directory.extensions:
            # A stranger learns nothing of which numbers exist: an unknown one is just offline.
            state = WebphoneState.OFFLINE if public else WebphoneState.NOT_FOUND
        elif ex.registry.is_online(number):
            state = WebphoneState.ONLINE
        else:
            state = WebphoneState.OFFLINE
        result = WebphoneStateResult(webphoneId=number, state=state)
        return encode_result_of(request.type, request.id, result)
