"""``intercom status``: what the running station reports about itself, and its last events."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .events import EventLog
from .paths import RUNTIME_DIR, STATUS_FILE


def read_status(data_dir: Path, runtime_dir: Path = RUNTIME_DIR) -> dict[str, Any] | None:
    """The station's status file, if a station is running (its pid is alive)."""
    for folder in (runtime_dir, data_dir):
        try:
            status: dict[str, Any] = json.loads((folder / STATUS_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(int(status.get("pid", 0)), 0)
        except PermissionError:
            pass  # alive, but another user's process (the service's)
        except (OSError, ValueError):
            continue  # left by a station that died
        return status
    return None


def last_events(data_dir: Path, count: int = 5) -> list[dict[str, Any]]:
    path = data_dir / "events.db"
    if not path.exists():
        return []
    log = EventLog(path)
    try:
        return log.recent(count)[::-1]  # the newest few, in the order they happened
    finally:
        log.close()


def _span(seconds: float) -> str:
    seconds = int(seconds + 0.999)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds // 60 % 60} min"


def format_status(status: dict[str, Any] | None, events: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    if status is None:
        lines.append("station: not running")
    else:
        lines.append(f"station: {status['name']} (extension {status['extension']}), running")
        state = "online" if status["online"] else "OFFLINE, retrying"
        lines.append(f"exchange: {status['exchange']}: {state}")
        call = status.get("call")
        lines.append(
            f"call: {call['state']} with {call['other_party']} (bell {call['bell']})"
            if call
            else "call: none"
        )
        for name, active in sorted(status.get("relays", {}).items()):
            lines.append(f"relay {name}: {'OPEN (energised)' if active else 'locked'}")
        if status.get("door_open") is not None:
            lines.append(f"door: {'open' if status['door_open'] else 'closed'}")
        lockout_end = (status.get("lockout") or {}).get("until") or 0.0
        left = lockout_end - time.time()
        if left > 0:  # the file is written when something changes, not when a lockout ends
            until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(lockout_end))
            lines.append(f"lockout: codes refused until {until} ({_span(left)} left)")
        lines.append(f"screen: {status['screen']}")
    if events:
        lines.append("last events:")
        for event in events:
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event["at"]))
            detail = {k: v for k, v in event.items() if k not in ("id", "at", "kind")}
            extra = " ".join(f"{k}={v}" for k, v in sorted(detail.items()))
            lines.append(f"  {at} {event['kind']} {extra}".rstrip())
    return "\n".join(lines)
