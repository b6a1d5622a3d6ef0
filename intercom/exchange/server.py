"""The exchange's network face: the asyncio adapter around call control.

It serves WebSocket connections (who they are: connection.py; how they log in: login.py),
rate-limits and decodes their requests and hands them to their handlers (requests.py), sends
what the switch emits, arms one loop timer for the switch's next deadline (``Wakeup``), and
reloads the configuration on SIGHUP. Call control itself does no I/O (switch.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from intercom import __version__
from intercom.configfile import beside
from intercom.protocol import messages as m
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import Removal
from intercom.protocol.results import encode_result_of
from intercom.systemd import Notifier

from .addresses import dial_host, host_names, local_addresses
from .admission import ConnectionCounter, LoginThrottle, QuietLog, TokenBucket
from .auth import Authenticator, TokenRegistry, TokenStore
from .config import ExchangeConfig, data_dir_of, load_exchange_config
from .connection import (
    CLOSE_ABUSE,
    CLOSE_AUTH_FAILED,
    CLOSE_AUTH_TIMEOUT,
    CLOSE_LIMIT,
    CLOSE_PRIVILEGES,
    CLOSE_REMOVED,
    CLOSE_TRY_AGAIN,
    Connection,
    CountedConnection,
    address_of,
    counted_by,
    send_event,
)
from .directory import Directory, outside_line_info, user_info
from .history import CallHistory, HistoryStore
from .login import Gate
from .registry import ConnectionRegistry, Registry
from .relay import Relay
from .requests import request_handlers
from .supervisor import Supervisor
from .switch import Switch
from .tls import CertificatePair, ensure_certificate, server_context
from .web import WebFront

__all__ = [  # the close codes clients and tests read from here
    "CLOSE_ABUSE",
    "CLOSE_AUTH_FAILED",
    "CLOSE_AUTH_TIMEOUT",
    "CLOSE_LIMIT",
    "CLOSE_PRIVILEGES",
    "CLOSE_REMOVED",
    "CLOSE_TRY_AGAIN",
    "PID_FILE",
    "Exchange",
    "reload_running_exchange",
    "run_exchange",
]

log = logging.getLogger(__name__)

PID_FILE = "exchange.pid"
#: Seconds a new connection has for its TLS and WebSocket handshakes: as long as the clients
#: give them (``intercom.client.webclient.OPEN_TIMEOUT``), so a slow, lossy link is not cut
#: short; it bounds how long an unfinished handshake holds a descriptor.
OPEN_TIMEOUT = 15.0

class Wakeup:
    """The switch's timers on the event loop: one loop timer, for the switch's next deadline.
    ``rearm`` after everything that may have changed the switch's deadlines."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None

    def rearm(self) -> None:
        when = self.switch.next_deadline()
        if when == self._armed_for:
            return
        self.cancel()
        if when is None:
            return
        delay = max(0.0, when - self.switch.timer_clock())
        self._handle = asyncio.get_running_loop().call_later(delay, self._tick)
        self._armed_for = when

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._armed_for = None

    def _tick(self) -> None:
        self._handle = self._armed_for = None
        try:
            self.switch.tick()
        except Exception:  # one failing timer must not stop the others for good
            log.exception("a call timer failed")
        self.rearm()


class Exchange:
    """The phone system: owns the directory, the switch, the stores and the listener."""

    def __init__(
        self,
        config: ExchangeConfig,
        config_path: Path | str,
        *,
        host: str | None = None,
        port: int | None = None,
        history: CallHistory | None = None,
        tokens: TokenRegistry | None = None,
        registry: ConnectionRegistry | None = None,
    ) -> None:
        """``history``, ``tokens`` and ``registry``: other backends for the seams (a
        cluster's); by default SQLite files in the data directory and this process."""
        self.config = config
        self.config_path = Path(config_path)
        self.host = host if host is not None else config.exchange.host
        self._port = port if port is not None else config.exchange.port
        data_dir = self.data_dir = data_dir_of(config, config_path)
        self.directory = Directory(config)
        self.history = history or HistoryStore(data_dir / "history.db")
        self.tokens = tokens or TokenStore(data_dir / "tokens.db")
        self.auth = Authenticator(self.directory, self.tokens)
        self.registry = registry or Registry(send_event)
        self.switch = Switch(
            self.directory, self.history, config.exchange, self.registry, send_event
        )
        self.relay = Relay(self.switch)
        self.supervisor = Supervisor(self.switch, self.relay)
        self.wakeup = Wakeup(self.switch)
        self.gate = Gate(self)
        self._server: Server | None = None
        self._connections: dict[int, Connection] = {}
        self._handlers = request_handlers(self)
        self._background: set[asyncio.Task[None]] = set()
        settings = config.exchange
        self.counter = ConnectionCounter(
            settings.max_connections,
            settings.max_connections_per_address,
            settings.max_pending_per_address,
        )
        self.throttle = LoginThrottle()
        #: Refused connections, logins and frames, logged without flooding the journal.
        self.refusals = QuietLog(log)
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
        return dial_host(self.host)

    def _tls(self, names: list[str]) -> ssl.SSLContext | None:
        tls = self.config.exchange.tls
        if not tls.enabled:
            return None
        self.certificate = ensure_certificate(
            beside(self.config_path, tls.certificate) if tls.certificate else None,
            beside(self.config_path, tls.key) if tls.key else None,
            self.data_dir,
            names,  # the generated certificate names every way to reach us
        )
        return server_context(self.certificate)

    async def start(self) -> None:
        settings = self.config.exchange
        names = self.own_names()  # read once: the certificate and the own origins agree
        # Tokens of extensions removed while the exchange was stopped go now: a number given
        # to the next tenant must not let the last one's tokens in.
        for number in self.tokens.extensions() - self.directory.extensions.keys():
            log.info("revoked %d token(s) of extension %s, no longer in the directory",
                     self.tokens.revoke_extension(number), number)  # fmt: skip
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
            ssl=self._tls(names),
            # Counted from acceptance, so connections that never finish their handshake count
            # toward their address's limit too; and they may not take long to finish it.
            create_connection=counted_by(self.counter, self.refusals),
            open_timeout=OPEN_TIMEOUT,
        )
        self.web.serve_as(names, self.port)
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
        self.gate.close()
        self.switch.abort_all()
        self.wakeup.cancel()
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
        sw, tell = self.switch, self.registry.to_directory_watchers
        self.config = config
        self.directory = self.auth.directory = sw.directory = new
        sw.settings = config.exchange
        self.counter.set_limits(
            config.exchange.max_connections,
            config.exchange.max_connections_per_address,
            config.exchange.max_pending_per_address,
        )
        # Origins follow the file; TLS and the port need a restart.
        self.web.allow(config.exchange.allowed_origins)
        for number in old.extensions.keys() - new.extensions.keys():
            self.tokens.revoke_extension(number)
            tell(number, "extension.removed", Removal(id=number))
        self._reauthorise()
        for number, ext in new.extensions.items():
            before = old.extensions.get(number)
            if before == ext and old.user_of_extension.get(number) == new.user_of_extension.get(
                number
            ):
                continue
            tell(number, "extension.info", new.extension_info(number, sw.extension_status(number)))
        for line_id in old.outside_lines.keys() - new.outside_lines.keys():
            tell(None, "extension.removed", Removal(id=line_id))
        for line_id, line in new.outside_lines.items():
            if old.outside_lines.get(line_id) != line:
                tell(None, "extension.info", outside_line_info(line))
        for user_id in old.users.keys() - new.users.keys():
            tell(None, "user.removed", Removal(id=user_id))
        for user_id, user in new.users.items():
            if old.users.get(user_id) != user:
                tell(None, "user.info", user_info(user))
        self.wakeup.rearm()
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
            conn.closed = True
            self._connections.pop(conn.conn_id, None)
            self.switch.detach(conn)
            self.wakeup.rearm()
            conn.ws.close_timeout = 0.5
            self.in_background(conn.ws.close(code, reason))

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------ connection

    async def _handle(self, ws: ServerConnection) -> None:
        """One connection from its first frame to its last. Whatever ends it (a close, a
        refusal, any exception), the ``finally`` leaves nothing of it behind."""
        address = address_of(ws)
        conn: Connection | None = None
        try:
            admitted = await self.gate.admit(ws, address)
            if admitted is None:
                return
            conn, result = admitted
            if isinstance(ws, CountedConnection):
                ws.mark_logged_in()
            self._connections[conn.conn_id] = conn
            conn.send(result)  # before attach: the snapshot comes before any event
            self.switch.attach(conn)
            self.wakeup.rearm()
            await self._serve(conn)
        except ConnectionClosed:
            pass
        except Exception:
            self.refusals.warning(
                "connection from %s ended by an error", address, exc_info=True
            )
        finally:
            if conn is not None:
                self._connections.pop(conn.conn_id, None)
                self.switch.detach(conn)
                self.wakeup.rearm()

    async def _serve(self, conn: Connection) -> None:
        ws = conn.ws
        bucket = TokenBucket(self.config.exchange.rate_limit, self.config.exchange.rate_burst)
        strikes = 0
        async for raw in ws:
            if conn.closed:
                break  # its login was withdrawn: what it still sends is not served
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
                    self.refusals.warning(
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

    # -------------------------------------------------------------- dispatch

    def _dispatch(self, conn: Connection, raw: str | bytes) -> str | None:
        try:
            request = m.decode_request(raw)
        except ProtocolError as exc:
            return m.encode_error(exc)
        if request.type == "webphone.state":
            return self.gate.webphone_state(request, public=False)
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
            reply = encode_result_of(request.type, request.id, result)
        except ProtocolError as exc:
            exc.request_id = request.id
            return m.encode_error(exc)
        except Exception:
            log.exception("request %s failed", request.type)
            return m.encode_error(
                ProtocolError(ErrorCode.INTERNAL_ERROR, "internal error", request.id)
            )
        finally:
            self.wakeup.rearm()
        return reply


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


async def run_exchange(config_path: Path | str, host: str | None, port: int | None) -> None:
    exchange = Exchange.from_file(config_path, host=host, port=port)
    await exchange.serve_forever()
