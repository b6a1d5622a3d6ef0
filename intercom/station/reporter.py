"""The running station's status for others to read: the status file (``intercom status``, and
``status.py`` to read it) and systemd's status line, both rewritten whenever a part of the
status changes, as the station announces it."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intercom.systemd import Notifier

from .changes import STATUS_PARTS, Change

log = logging.getLogger(__name__)


def summary(status: dict[str, Any]) -> str:
    """One line for systemd's STATUS= (shown by ``systemctl status``)."""
    parts = ["online" if status["online"] else "offline: connecting to " + status["exchange"]]
    if not status["online"] and status.get("connect_attempts"):
        parts[0] += f" (attempt {status['connect_attempts'] + 1})"
    if status["call"]:
        parts.append(f"call {status['call']['state']} with {status['call']['other_party']}")
    parts += [f"{name} open" for name, active in status["relays"].items() if active]
    return f"{status['name']}: " + ", ".join(parts)


class StatusReporter:
    """Writes ``status()`` to ``path`` (atomically) and to ``notifier``, when it changed."""

    def __init__(self, path: Path, status: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._status = status
        self.notifier: Notifier | None = None
        self._published = ""
        self._stopped = False

    def follow(self, change: Change) -> None:
        if change.state.keys() & STATUS_PARTS:
            self.publish()

    def publish(self) -> None:
        if self._stopped:
            return
        status = self._status()
        text = json.dumps(status, sort_keys=True)
        if text == self._published:
            return
        self._published = text
        try:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({**status, "at": time.time()}, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError:
            log.exception("cannot write %s", self.path)
        if self.notifier is not None:
            self.notifier.status(summary(status))

    def stop(self) -> None:
        """From now on nothing is written: the station is closing its devices, and the file
        is removed by whoever serves it (``serve_station``)."""
        self._stopped = True
