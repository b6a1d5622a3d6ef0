"""A picture of the visitor at each ring: one frame of the station's camera as a JPEG, linked to
the bell event; the newest few are kept. An H.264 camera's frame is decoded here (PyAV)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import av

from intercom.client import OzCamera

#: How long a camera may take to give its first frame before the ring goes without a picture.
FRAME_TIMEOUT = 5.0


class Snapshots:
    """Pictures in ``folder`` from the camera registered as ``camera_name``; ``keep()`` is the
    number kept (0: none taken), read at each ring so a reload applies."""

    def __init__(self, folder: Path, camera_name: str, keep: Callable[[], int]) -> None:
        self.folder = folder
        self.camera_name = camera_name
        self._keep = keep

    async def take(self, event_id: int, link: Callable[[int, str], None]) -> None:
        """Save one frame for bell event ``event_id`` and ``link(event_id, path)`` it."""
        keep = self._keep()
        camera = OzCamera.getCameraByName(self.camera_name)
        if keep == 0 or camera is None or camera.source is None:
            return
        source = camera.source
        track = source.subscribe()
        decoder = av.CodecContext.create("h264", "r") if source.encoded else None
        try:
            async with asyncio.timeout(FRAME_TIMEOUT):
                frame = None
                while frame is None:
                    item = await track.recv()
                    if isinstance(item, av.VideoFrame):
                        frame = item
                    elif decoder is not None:
                        frame = next(iter(decoder.decode(item)), None)
        except (TimeoutError, av.FFmpegError):
            return
        finally:
            track.stop()
        self.folder.mkdir(exist_ok=True)
        path = self.folder / f"bell-{event_id:08d}.jpg"
        await asyncio.to_thread(frame.to_image().save, path, quality=85)  # type: ignore[no-untyped-call]
        link(event_id, str(path))
        for old in sorted(self.folder.glob("bell-*.jpg"))[:-keep]:
            old.unlink(missing_ok=True)
