"""The sd_notify protocol against a real datagram socket, as systemd listens on it."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from intercom.systemd import Notifier


def listener(tmp_path: Path) -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    return sock, path


def test_ready_status_reloading_stopping(tmp_path: Path) -> None:
    sock, path = listener(tmp_path)
    notifier = Notifier({"NOTIFY_SOCKET": path})
    notifier.ready("up")
    assert sock.recv(4096) == b"READY=1\nSTATUS=up"
    notifier.status("up")  # unchanged: not sent again
    notifier.status("busy")
    assert sock.recv(4096) == b"STATUS=busy"
    notifier.reloading()
    lines = sock.recv(4096).decode().split("\n")
    assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
    notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    notifier.close()
    sock.close()


def test_abstract_socket_names(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"intercom-test-{os.getpid()}"
    sock.bind("\0" + name)
    sock.settimeout(2)
    Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
    assert sock.recv(4096) == b"READY=1"
    sock.close()


async def test_watchdog_pings_at_half_the_interval(tmp_path: Path) -> None:
    sock, path = listener(tmp_path)
    sock.setblocking(False)
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    assert notifier.watchdog_seconds == 0.2
    task = asyncio.ensure_future(notifier.watchdog())
    loop = asyncio.get_running_loop()
    pings = [await asyncio.wait_for(loop.sock_recv(sock, 64), 2) for _ in range(3)]
    task.cancel()
    assert pings == [b"WATCHDOG=1"] * 3
    sock.close()


def test_nothing_happens_outside_systemd() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_seconds is None
    notifier.ready("x")  # no socket, no error
    # A watchdog meant for another process is not ours to ping.
    other = Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"})
    assert other.watchdog_seconds is None
