"""Local preview: a camera's own picture on a display (``OzCamera.setDisplay``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError

from .displays import get_display

_previews: dict[int, asyncio.Task[None]] = {}


async def _run(source: Any, display_id: str) -> None:
    display = get_display(display_id)
    if display is None:
        return
    track = source.subscribe()
    decoder = av.CodecContext.create("h264", "r") if source.encoded else None
    try:
        with contextlib.suppress(MediaStreamError):
            while True:
                item = await track.recv()
                if isinstance(item, av.VideoFrame):
                    display.push(item)
                elif decoder is not None:  # an encoded source: decode for the screen
                    for frame in decoder.decode(item):
                        display.push(frame)
    finally:
        track.stop()


def start_preview(camera: Any, display_id: str) -> None:
    if get_display(display_id) is None:
        raise ValueError(f"no display {display_id!r}")
    _previews[id(camera)] = asyncio.get_running_loop().create_task(_run(camera.source, display_id))


def stop_preview(camera: Any) -> None:
    task = _previews.pop(id(camera), None)
    if task is not None:
        task.cancel()
