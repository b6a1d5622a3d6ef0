"""The station as a service: signals (SIGINT/SIGTERM stop, SIGHUP reloads, SIGUSR2 presses the
bell ``intercom bell`` asked for), its pid file, and systemd's notify protocol (ready, status,
reloading, stopping, watchdog). Light to import: ``intercom bell`` only needs ``request_bell``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from intercom.systemd import Notifier

from .paths import BELL_REQUEST, PID_FILE

if TYPE_CHECKING:
    from .app import Station

log = logging.getLogger(__name__)


def press_requested_bell(station: Station) -> None:
    """SIGUSR2: press the bell named in ``bell-request`` (written by ``intercom bell N``)."""
    request = station.data_dir / BELL_REQUEST
    try:
        bell = int(request.read_text().strip() or "1")
        request.unlink()
    except (OSError, ValueError):
        bell = 1
    try:
        station.press(bell)
    except ValueError as exc:
        log.warning("%s", exc)


async def serve_station(
    station: Station,
    stop: asyncio.Event,
    on_reload: Callable[[], object] | None = None,
    on_signals: Callable[[], object] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``); SIGHUP reloads, SIGUSR2 presses a bell. Under a
    ``Type=notify`` unit, tells systemd when it is ready, its status, and pings the watchdog.
    ``on_reload`` runs at each SIGHUP before the station reloads (an embedded exchange reloads
    too); ``on_signals`` runs once the signals are handled (an embedded exchange announces its
    process then: before, a SIGHUP would end it)."""
    notifier = Notifier()
    station.notifier = notifier
    await station.start()
    loop = asyncio.get_running_loop()
    pid_file = station.data_dir / PID_FILE

    def reload() -> None:
        notifier.reloading()
        try:
            if on_reload is not None:
                on_reload()
            station.reload()
        except Exception as exc:
            log.error("reload refused, configuration unchanged: %s", exc)
        notifier.ready(station.summary())

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR2, lambda: press_requested_bell(station))
    loop.add_signal_handler(signal.SIGHUP, reload)
    pid_file.write_text(str(os.getpid()))  # `intercom bell` and `config set` signal it
    if on_signals is not None:
        on_signals()
    watchdog = asyncio.ensure_future(notifier.watchdog())
    # Ready once the devices are up and the door is locked; the exchange may come later (the
    # status line says so), and a bell pressed meanwhile is answered with "offline".
    notifier.ready(station.summary())
    try:
        await stop.wait()
    finally:
        notifier.stopping()
        watchdog.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR2, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        pid_file.unlink(missing_ok=True)
        await station.stop()
        station.status_file.unlink(missing_ok=True)
        notifier.close()


def request_bell(data_dir: Path, bell: int) -> None:
    """``intercom bell N``: ask the station running on ``data_dir`` to press bell N."""
    try:
        pid = int((data_dir / PID_FILE).read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"no station is running on {data_dir}") from None
    (data_dir / BELL_REQUEST).write_text(str(bell))
    os.kill(pid, signal.SIGUSR2)
