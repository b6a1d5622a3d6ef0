"""The exchange's network face: WebSocket connections, login, rate limits and reloads."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import ssl
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from intercom import __version__
from intercom.configfile import beside
from intercom.protocol import messages as m
from intercom.protocol.enums import Privilege, WebphoneState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.systemd import Notifier

from .addresses import host_names, local_addresses
from .admission import ConnectionCounter, LoginThrottle, QuietLog, TokenBucket
from .auth import Authenticator, Grant, TokenStore
from .config import ExchangeConfig, data_dir_of, load_exchange_config
from .directory import Directory, outside_line_info, user_info
from .history import HistoryStore
from .switch import Endpoint, Switch
from .tls import CertificatePair, ensure_certificate, server_context
from .web import WebFront

log = logging.getLogger(__name__)

CLOSE_AUTH_FAILED = 4001
CLOSE_AUTH_TIMEOUT = 4002
CLOSE_REMOVED = 4003  # the extension, its password or its token is gone: do not come back
CLOSE_PRIVILEGES = 4004  # a privilege was taken away: log in again to get what is left
CLOSE_ABUSE = 4008
CLOSE_LIMIT = 4009  # a connection limit: too many from this address or for this extension
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the exchange is full

PID_FILE = "exchange.pid"

#: Frames a connection may send before it has logged in (a login needs one or two).
PRE_LOGIN_FRAMES = 20


class Connection:
    """One WebSocket client. Implements the switch's ``Endpoint``."""

    __slots__ = ("address", "conn_id", "extension", "grant", "privileges", "properties", "ws")

    def __init__(
        self,
        ws: ServerConnection,
        conn_id: int,
        grant: Grant,
        properties: dict[str, Any],
        address: str = "",
    ):
        self.ws = ws
        self.conn_id = conn_id
        self.grant = grant
        self.extension = grant.extension
        self.privileges = grant.privileges
        self.properties = properties
        self.address = address

    def send(self, message: str) -> None:
        broadcast((self.ws,), message)


def send_many(endpoints: Iterable[Endpoint], message: str) -> None:
    broadcast([ep.ws for ep in endpoints if isinstance(ep, Connection)], message)


Handler = Callable[[Connection, Any], dict[str, Any] | None]


class Exchange:
    """The phone system: owns the directory, the switch, the stores and the listener."""

    def __init__(
        self,
        config: ExchangeConfig,
        config_path: Path | str,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.config = config
        self.config_path = Path(config_path)
        self.host = host if host is not None else config.exchange.host
        self._port = port if port is not None else config.exchange.port
        data_dir = self.data_dir = data_dir_of(config, config_path)
        self.directory = Directory(config)
        self.history = HistoryStore(data_dir / "history.db")
        self.tokens = TokenStore(data_dir / "tokens.db")
        self.auth = Authenticator(self.directory, self.tokens)
        self.switch = Switch(self.directory, self.history, config.exchange, send_many)
        self._server: Server | None = None
        self._conn_ids = itertools.count(1)
        self._connections: dict[int, Connection] = {}
        self._handlers = self._build_handlers()
        self._background: set[asyncio.Task[None]] = set()
        settings = config.exchange
        self.counter = ConnectionCounter(
            settings.max_connections,
            settings.max_connections_per_address,
            settings.max_pending_per_address,
        )
        self.throttle = LoginThrottle()
        # Password hashes run here, one at a time: the event loop keeps serving everyone
        # else, and a guessing flood can take at most one core.
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check")
        self._refusals = QuietLog(log)
        #: The certificate in use (None when TLS is turned off); made on the first start.
        self.certificate: CertificatePair | None = None
        self.web = WebFront(config.exchange.allowed_origins, secure=config.exchange.tls.enabled)

    @classmethod
    def from_file(cls, path: Path | str, **kwargs: Any) -> Exchange:
        return cls(load_exchange_config(path), path, **kwargs)

    # ------------------------------------------------------------------ life

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        """The WebSocket address clients on this machine connect to."""
        scheme = "wss" if self.config.exchange.tls.enabled else "ws"
        return f"{scheme}://{self._local_host()}:{self.port}/"

    @property
    def web_url(self) -> str:
        """The address of the resident's web app (and of /WebphoneAPI beside it)."""
        scheme = "https" if self.config.exchange.tls.enabled else "http"
        return f"{scheme}://{self._local_host()}:{self.port}/"

    def _local_host(self) -> str:
        if self.host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{self.host}]" if ":" in self.host else self.host

    def _tls(self) -> ssl.SSLContext | None:
        tls = self.config.exchange.tls
        if not tls.enabled:
            return None
        self.certificate = ensure_certificate(
            beside(self.config_path, tls.certificate) if tls.certificate else None,
            beside(self.config_path, tls.key) if tls.key else None,
            self.data_dir,
            tls.names,
        )
        return server_context(self.certificate)

    async def start(self) -> None:
        settings = self.config.exchange
        self._server = await serve(
            self._handle,
            self.host,
            self._port,
            compression=None,  # small JSON, many connections: deflate costs ~3x the memory
            max_size=4 * m.MAX_MESSAGE_BYTES,  # larger frames get an error reply, not a hang-up
            max_queue=32,
            ping_interval=settings.ping_interval,
            ping_timeout=settings.ping_timeout,
            close_timeout=settings.close_timeout,
            process_request=self._process_request,
            server_header=f"intercom/{__version__}",
            ssl=self._tls(),
        )
        self.web.serve_as(self.own_names(), self.port)
        log.info("exchange listening on %s", self.url)
        if self.certificate is not None:
            log.info("TLS certificate SHA-256 %s", self.certificate.fingerprint())

    def own_names(self) -> list[str]:
        """The names and addresses this exchange is reached by: the machine's own, the
        configured ``tls.names`` and the listening address."""
        names = [*host_names(), *local_addresses(), *self.config.exchange.tls.names]
        if self.host not in ("0.0.0.0", "", "::"):
            names.append(self.host)
        return list(dict.fromkeys(names))

    @property
    def pid_file(self) -> Path:
        """Where ``intercom token revoke`` finds the process to reload (SIGHUP)."""
        return self.data_dir / PID_FILE

    def write_pid_file(self) -> None:
        """Once SIGHUP reloads this exchange (not before: it would end the process)."""
        self.pid_file.write_text(str(os.getpid()))

    async def stop(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self._hasher.shutdown(wait=False, cancel_futures=True)
        self.switch.abort_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.history.close()
        self.tokens.close()

    async def serve_forever(
        self, stop: asyncio.Event | None = None, on_ready: Callable[[], None] | None = None
    ) -> None:
        """Serve until SIGINT/SIGTERM (or ``stop``); SIGHUP reloads the configuration. Under a
        ``Type=notify`` unit, tells systemd when it is ready, its status, and pings the
        watchdog."""
        notifier = Notifier()
        await self.start()
        if on_ready is not None:
            on_ready()
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()

        def reload() -> None:
            notifier.reloading()
            self.reload()
            notifier.ready(self.summary())

        loop.add_signal_handler(signal.SIGHUP, reload)
        self.write_pid_file()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        notifier.ready(self.summary())
        background = [asyncio.ensure_future(notifier.watchdog())]
        if notifier.enabled:
            background.append(asyncio.ensure_future(self._report(notifier)))
        try:
            await stop.wait()
        finally:
            notifier.stopping()
            for task in background:
                task.cancel()
            for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self.stop()
            notifier.close()

    def summary(self) -> str:
        """One line for systemd's STATUS= (shown by ``systemctl status``)."""
        return (
            f"{self.url}: {len(self._connections)} clients, "
            f"{len(self.switch.sessions)} calls"
        )

    async def _report(self, notifier: Notifier) -> None:
        while True:
            await asyncio.sleep(5.0)
            notifier.status(self.summary())

    def _process_request(self, conn: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        return self.web.handle(request)

    # --------------------------------------------------------------- reload

    def reload(self) -> bool:
        """Re-read the configuration file (SIGHUP). Bad files change nothing."""
        try:
            config = load_exchange_config(self.config_path)
        except Exception as exc:
            log.error("reload refused, configuration unchanged: %s", exc)
            return False
        self.apply(config)
        return True

    def apply(self, config: ExchangeConfig) -> None:
        old, new = self.directory, Directory(config)
        sw = self.switch
        self.config = config
        self.directory = self.auth.directory = sw.directory = new
        sw.settings = config.exchange
        # Origins follow the file; TLS and the port need a restart.
        self.web.allow(config.exchange.allowed_origins)
        for number in old.extensions.keys() - new.extensions.keys():
            self.tokens.revoke_extension(number)
            self._to_directory_watchers(number, "extension.removed", {"id": number})
        self._reauthorise()
        for number, ext in new.extensions.items():
            before = old.extensions.get(number)
            if before == ext and old.user_of_extension.get(number) == new.user_of_extension.get(
                number
            ):
                continue
            info = new.extension_info(number, sw.extension_status(number))
            self._to_directory_watchers(number, "extension.info", info)
        for line_id in old.outside_lines.keys() - new.outside_lines.keys():
            send_many(sw.watchers.values(), m.encode("extension.removed", {"id": line_id}))
        for line_id, line in new.outside_lines.items():
            if old.outside_lines.get(line_id) != line:
                send_many(sw.watchers.values(), m.encode("extension.info", outside_line_info(line)))
        for user_id in old.users.keys() - new.users.keys():
            send_many(sw.watchers.values(), m.encode("user.removed", {"id": user_id}))
        for user_id, user in new.users.items():
            if old.users.get(user_id) != user:
                send_many(sw.watchers.values(), m.encode("user.info", user_info(user)))
        log.info("configuration reloaded")

    def _reauthorise(self) -> None:
        """Authority follows the directory: a connection whose extension is gone, whose
        password changed, whose token was revoked or expired, or which lost a privilege, is
        closed at once (it may log in again with what it has now)."""
        for conn in list(self._connections.values()):
            now = self.auth.still_valid(conn.grant)
            if now is None:
                code, reason = CLOSE_REMOVED, "your login is no longer valid"
            elif not conn.privileges <= now.privileges:
                code, reason = CLOSE_PRIVILEGES, "your privileges changed; log in again"
            else:
                continue
            log.info("closing extension %s's connection from %s: %s", conn.extension,
                     conn.address, reason)  # fmt: skip
            # Out of every registry now: nothing more reaches it or is done in its name.
            self._connections.pop(conn.conn_id, None)
            self.switch.detach(conn)
            conn.ws.close_timeout = 0.5
            self._in_background(conn.ws.close(code, reason))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _to_directory_watchers(self, number: str, kind: str, data: dict[str, Any]) -> None:
        audience = dict(self.switch.watchers)
        audience.update(self.switch.endpoints.get(number, {}))
        send_many(audience.values(), m.encode(kind, data))

    # ------------------------------------------------------------ connection

    async def _handle(self, ws: ServerConnection) -> None:
        """One connection from its first frame to its last. Whatever ends it (a close, a
        refusal, any exception), the ``finally`` leaves nothing of it behind."""
        address = _address_of(ws)
        refusal = self.counter.open(address)
        if refusal is not None:
            self._refusals.warning("connection from %s refused: %s", address, refusal)
            ws.close_timeout = 0.5
            code = CLOSE_TRY_AGAIN if "full" in refusal else CLOSE_LIMIT
            await ws.close(code, refusal)
            return
        conn: Connection | None = None
        logged_in = False
        try:
            admitted = await self._login_phase(ws, address)
            if admitted is None:
                return
            conn, result = admitted
            self.counter.logged_in(address)
            logged_in = True
            self._connections[conn.conn_id] = conn
            conn.send(result)  # before attach: the snapshot comes before any event
            self.switch.attach(conn)
            await self._serve(conn)
        except ConnectionClosed:
            pass
        except Exception:
            self._refusals.warning(
                "connection from %s ended by an error", address, exc_info=True
            )
        finally:
            self.counter.close(address, logged_in)
            if conn is not None:
                self._connections.pop(conn.conn_id, None)
                self.switch.detach(conn)

    async def _serve(self, conn: Connection) -> None:
        ws = conn.ws
        bucket = TokenBucket(self.config.exchange.rate_limit, self.config.exchange.rate_burst)
        strikes = 0
        async for raw in ws:
            if not bucket.take():
                strikes += 1
                conn.send(
                    m.encode_error(
                        ProtocolError(
                            ErrorCode.RATE_LIMITED,
                            "too many messages; slow down",
                            m.peek_request_id(raw),
                        )
                    )
                )
                if strikes > 2 * self.config.exchange.rate_burst:
                    # Its unread requests fill our queue, so its closing reply may never
                    # be read: do not wait long for it.
                    self._refusals.warning(
                        "%s (extension %s) closed: rate limit", conn.address, conn.extension
                    )
                    ws.close_timeout = 0.5
                    await ws.close(CLOSE_ABUSE, "rate limit exceeded")
                    break
                continue
            strikes = 0
            reply = self._dispatch(conn, raw)
            if reply is not None:
                conn.send(reply)

    async def _login_phase(
        self, ws: ServerConnection, address: str
    ) -> tuple[Connection, str] | None:
        """Frames until a successful login, answered one by one and few in number. Returns
        the new connection, not registered yet, with its login result; or None (the socket
        is closed)."""
        frames = 0
        bucket = TokenBucket(2.0, 5)
        try:
            async with asyncio.timeout(self.config.exchange.auth_timeout):
                async for raw in ws:
                    frames += 1
                    if frames > PRE_LOGIN_FRAMES or not bucket.take():
                        self._refusals.warning("%s closed: too many frames before login", address)
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
                        await ws.send(self._webphone_state_reply(request, public=True))
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

        async def refuse(code: ErrorCode, message: str, close_code: int) -> None:
            await ws.send(m.encode_error(ProtocolError(code, message, request_id)))
            ws.close_timeout = 0.5
            await ws.close(close_code, message[:100])

        number = login.extension or (
            login.token if login.password is not None and login.token else None
        )
        wait = self.throttle.wait(address, number)
        if wait > 0:
            await refuse(
                ErrorCode.RATE_LIMITED,
                f"too many failed logins; try again in {wait:.0f} s",
                CLOSE_AUTH_FAILED,
            )
            return None
        auth, directory = self.auth, self.directory
        if login.password is None:
            grant = auth.authenticate(login.token, login.extension, None)  # a token: one lookup
        else:
            loop = asyncio.get_running_loop()
            grant = await loop.run_in_executor(
                self._hasher, auth.authenticate, login.token, login.extension, login.password
            )
            if grant is not None and self.directory is not directory:
                grant = auth.still_valid(grant)  # the directory was reloaded meanwhile
        if grant is None:
            self.throttle.failed(address, number)
            self._refusals.warning(
                "login refused from %s for %s", address, number or "a token"
            )
            await refuse(
                ErrorCode.AUTHENTICATION_FAILED,
                "unknown token, or wrong extension or password",
                CLOSE_AUTH_FAILED,
            )
            return None
        self.throttle.succeeded(address, grant.extension)
        devices = len(self.switch.endpoints.get(grant.extension, {}))
        limit = self.config.exchange.max_devices_per_extension
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
        result = m.encode_result(request_id, self._snapshot(conn))
        m.encode("client.state", self.switch.presence(conn, online=True))
        return conn, result

    def _snapshot(self, conn: Connection) -> dict[str, Any]:
        """What a client replicates at login, limited to what its privileges let it see."""
        d, sw = self.directory, self.switch
        sees_all = Privilege.DIRECTORY in conn.privileges
        numbers = list(d.extensions) if sees_all else [conn.extension]
        own_user = d.user_of_extension.get(conn.extension)
        users = list(d.users.values()) if sees_all else [d.users[own_user]] if own_user else []
        snapshot: dict[str, Any] = {
            "extension": conn.extension,
            "displayName": d.display_name(conn.extension),
            "connId": conn.conn_id,
            "privileges": sorted(p.value for p in conn.privileges),
            "extensions": [
                d.extension_info(n, sw.extension_status(n)) for n in numbers if n in d.extensions
            ],
            "outsideLines": [outside_line_info(line) for line in d.outside_lines.values()]
            if sees_all
            else [],
            "users": [user_info(u) for u in users],
            "clients": [
                sw.presence(ep, online=True)
                for conns in sw.endpoints.values()
                for ep in conns.values()
            ]
            if sees_all
            else [],
            "sessions": [sw.session_info(s) for s in sw.sessions.values()]
            if Privilege.MONITOR in conn.privileges
            else [],
            "iceServers": [
                s.model_dump(exclude_none=True) for s in self.config.exchange.ice_servers
            ],
            "limits": {
                "ringTimeout": self.config.exchange.ring_timeout,
                "maxCallDuration": self.config.exchange.max_call_duration,
                "callWarning": self.config.exchange.call_warning,
            },
            "server": {"version": __version__, "protocol": m.PROTOCOL_VERSION},
        }
        return snapshot

    def _webphone_state_reply(self, request: m.Request, public: bool) -> str:
        assert isinstance(request.data, m.WebphoneStateQuery)
        number = request.data.webphone_id
        if public and not self.config.exchange.public_webphone_state:
            return m.encode_error(
                ProtocolError(ErrorCode.AUTHENTICATION_REQUIRED, "log in first", request.id)
            )
        if number not in self.directory.extensions:
            state = WebphoneState.NOT_FOUND
        elif number in self.switch.endpoints:
            state = WebphoneState.ONLINE
        else:
            state = WebphoneState.OFFLINE
        return m.encode_result(request.id, {"webphoneId": number, "state": state.value})

    # -------------------------------------------------------------- dispatch

    def _dispatch(self, conn: Connection, raw: str | bytes) -> str | None:
        try:
            request = m.decode_request(raw)
        except ProtocolError as exc:
            return m.encode_error(exc)
        if request.type == "webphone.state":
            return self._webphone_state_reply(request, public=False)
        handler = self._handlers.get(request.type)
        try:
            if handler is None:
                raise ProtocolError(
                    ErrorCode.INAPPROPRIATE_COMMAND, f"{request.type} is not allowed now"
                )
            missing = m.REQUEST_PRIVILEGES[request.type] - conn.privileges
            if missing:
                names = "', '".join(sorted(p.value for p in missing))
                raise ProtocolError(
                    ErrorCode.FORBIDDEN, f"{request.type} needs the '{names}' privilege"
                )
            result = handler(conn, request.data)
        except ProtocolError as exc:
            exc.request_id = request.id
            return m.encode_error(exc)
        except Exception:
            log.exception("request %s failed", request.type)
            return m.encode_error(
                ProtocolError(ErrorCode.INTERNAL_ERROR, "internal error", request.id)
            )
        return m.encode_result(request.id, result or {})

    def _build_handlers(self) -> dict[str, Handler]:
        sw = self.switch

        def history(conn: Connection, q: m.HistoryQuery) -> dict[str, Any]:
            own = Privilege.HISTORY not in conn.privileges
            if own and q.extension is not None and q.extension != conn.extension:
                raise ProtocolError(
                    ErrorCode.FORBIDDEN,
                    "the history of another extension needs the 'history' privilege",
                )
            page = self.history.query(q, only_extension=conn.extension if own else None)
            return {"numberOfCalls": page.total, "calls": page.records}

        def logout(conn: Connection, _: m.Empty) -> None:
            self._in_background(conn.ws.close(1000, "logged out"))

        table: dict[str, Callable[..., dict[str, Any] | None]] = {
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
            "call.message": lambda c, d: sw.send_message(c, d.call_id, d.text),
            "call.dtmf": lambda c, d: sw.send_dtmf(c, d.call_id, d.digits),
            "call.extend": lambda c, d: sw.extend(c, d.call_id, d.seconds),
            "call.command": lambda c, d: sw.command(c, d.call_id, d.command, d.target),
            "call.signal": lambda c, d: sw.relay_signal(c, d.call_id, d.kind, d.sdp, d.peer),
            "setup_call": lambda c, d: sw.setup_call(c, d.caller, d.callee),
            "history.query": history,
            "session.blind_transfer": lambda c, d: sw.session_blind_transfer(
                c, d.session_id, d.transferor, d.target
            ),
            "session.close": lambda c, d: sw.session_close(c, d.session_id),
            "session.close_with_hangup": lambda c, d: sw.session_hangup(c, d.session_id),
            "session.hangup": lambda c, d: sw.session_hangup(c, d.session_id),
            "session.forward": lambda c, d: sw.session_forward(c, d.session_id, d.target),
            "session.hold": lambda c, d: sw.session_hold(c, d.session_id, True),
            "session.unhold": lambda c, d: sw.session_hold(c, d.session_id, False),
            "session.send_dtmf": lambda c, d: sw.session_dtmf(c, d.session_id, d.key, d.party),
            "session.start_listen": lambda c, d: sw.session_listen(c, d.session_id, True),
            "session.stop_listen": lambda c, d: sw.session_listen(c, d.session_id, False),
            "session.signal": lambda c, d: sw.listener_signal(
                c, d.session_id, d.peer, d.kind, d.sdp
            ),
        }
        return table


def reload_running_exchange(data_dir: Path) -> str:
    """Ask the exchange serving ``data_dir`` to reload (SIGHUP): a revoked token's
    connections close at once. Says what happened."""
    try:
        pid = int((data_dir / PID_FILE).read_text())
        # A file left by a crash may name a process that is not ours any more.
        if b"intercom" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            raise ValueError("not an intercom process")
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return "no running exchange found; it applies at the next start"
    return f"the running exchange (pid {pid}) reloaded"


def _address_of(ws: ServerConnection) -> str:
    """The peer's IP address: the key of per-address limits."""
    try:
        return str(ws.remote_address[0])
    except (TypeError, IndexError):
        return "unknown"


async def run_exchange(config_path: Path | str, host: str | None, port: int | None) -> None:
    exchange = Exchange.from_file(config_path, host=host, port=port)
    await exchange.serve_forever()
