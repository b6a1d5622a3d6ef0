"""Reloading the configuration of a running station (SIGHUP, ``systemctl reload``, ``intercom
config set``): what applies at once, and what keeps running as it is until a restart."""

from __future__ import annotations

from typing import Any

from .config import StationConfig

#: Configuration parts bound to pins, devices or the connection: a reload leaves them running
#: as they are and reports them; a restart applies them. (Bells and relays: only their wiring.)
RESTART_SECTIONS = (
    "station", "bells", "relays", "door_contact", "tamper_pin", "led_pin", "audio", "screen",
)  # fmt: skip


def _hardware(config: StationConfig, name: str) -> Any:
    """The part of section ``name`` that only a restart can apply."""
    value = getattr(config, name)
    if name == "bells":
        return [(b.id, b.pin, b.pull_up, b.bounce) for b in value]
    if name == "relays":
        return [r.model_dump(exclude={"codes", "code_hashes"}) for r in value]
    if name == "screen":
        return value.model_dump(exclude={"greeting", "message_seconds", "notice_seconds"})
    return value


def reconcile(running: StationConfig, new: StationConfig) -> tuple[StationConfig, list[str]]:
    """The configuration to run now, and the sections that need a restart: those keep their
    running values. (Door codes and the greeting apply regardless: the parts that use them
    take them from ``new``.)"""
    restart = [n for n in RESTART_SECTIONS if _hardware(running, n) != _hardware(new, n)]
    return new.model_copy(update={name: getattr(running, name) for name in restart}), restart
