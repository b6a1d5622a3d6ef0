"""Displays: named sinks for received video, chosen by ``Call.setRemoteDisplay(displayId)``.

The registry is open: the station adds its screen, tests add probes. A display only receives
frames; the call's media keeps reading its tracks whatever is registered, so nothing backs up.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from . import counter


class Display(Protocol):
    def push(self, frame: av.VideoFrame) -> None: ...


class NullDisplay:
    """Discards frames (the default when no display is set)."""

    def push(self, frame: av.VideoFrame) -> None:
        pass


class FrameProbe:
    """Records what arrives: sizes, counters painted by our synthetic sources, and timing."""

    def __init__(self) -> None:
        self.frames = 0
        self.first_frame_at: float | None = None
        self.width = 0
        self.height = 0
        self.counters: list[tuple[int, float]] = []  # (painted counter, arrival perf_counter)

    def push(self, frame: av.VideoFrame) -> None:
        now = time.perf_counter()
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.frames += 1
        self.width, self.height = frame.width, frame.height
        luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
        self.counters.append((counter.read(luma), now))
        if len(self.counters) > 10000:
            del self.counters[:5000]


class SnapshotDisplay:
    """Keeps the latest frame and writes it as a JPEG or PNG on request."""

    def __init__(self) -> None:
        self.latest: av.VideoFrame | None = None

    def push(self, frame: av.VideoFrame) -> None:
        self.latest = frame

    def save(self, path: Path | str) -> bool:
        if self.latest is None:
            return False
        self.latest.to_image().save(path)  # type: ignore[no-untyped-call]
        return True


_registry: dict[str, Display] = {}


def register_display(display_id: str, display: Display) -> None:
    _registry[display_id] = display


def unregister_display(display_id: str) -> None:
    _registry.pop(display_id, None)


def get_display(display_id: str | None) -> Display | None:
    return _registry.get(display_id) if display_id else None


def display_ids() -> list[str]:
    return list(_registry)
