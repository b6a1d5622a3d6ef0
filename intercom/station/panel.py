"""What the visitor sees: the screen's text, the resident's video during a conversation, and
the status LED. The panel follows the station's changes: it draws when the connection, the
screen or the call changed, and every second while ringing (the ring timer counts seconds)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import av

from intercom.devices.led import LedMode
from intercom.devices.screen import video_frame_image
from intercom.media.displays import register_display, unregister_display

from .changes import Change
from .hardware import Hardware
from .screen import ScreenModel, ScreenState

log = logging.getLogger(__name__)

#: The display id calls show the resident's video on (``Call.setRemoteDisplay``).
SCREEN_DISPLAY = "station-screen"
#: Narrower panels keep to text: a face would be a smudge.
MIN_VIDEO_WIDTH = 320


class Panel:
    """Draws ``screen`` on the hardware's screen and LED. ``video_fps`` is read at each frame
    (a reload may change it); ``when_video(frames)`` runs after each frame shown."""

    def __init__(
        self,
        screen: ScreenModel,
        hardware: Hardware,
        video_fps: Callable[[], float],
        when_video: Callable[[int], None] | None = None,
    ) -> None:
        self.screen = screen
        self.hardware = hardware
        self._video_fps = video_fps
        self.when_video = when_video
        self.display: str | None = None  # SCREEN_DISPLAY while the panel shows video
        self.video_frames_shown = 0
        self._last_video = 0.0
        self._online = False
        self._in_call = False

    def open(self, show_video: bool) -> None:
        renderer = self.hardware.screen
        if renderer is not None and show_video and renderer.size[0] >= MIN_VIDEO_WIDTH:
            register_display(SCREEN_DISPLAY, self)
            self.display = SCREEN_DISPLAY

    def close(self) -> None:
        if self.display is not None:
            unregister_display(self.display)
            self.display = None

    def follow(self, change: Change) -> None:
        if "online" in change:
            self._online = bool(change.state["online"])
        if "call" in change:
            self._in_call = change.state["call"] is not None
        if "online" in change or "screen" in change or "call" in change:
            self.draw()

    def draw(self) -> None:
        led = self.hardware.led
        if led is not None:
            state = self.screen.state
            led.show(
                LedMode.OFFLINE if not self._online
                else LedMode.RINGING if state is ScreenState.CALLING
                else LedMode.IN_CALL if self._in_call
                else LedMode.IDLE
            )  # fmt: skip
        renderer = self.hardware.screen
        if renderer is not None:
            try:
                renderer.draw(self.screen.lines())
            except Exception:  # a broken panel must not stop the screen's timers for good
                log.exception("cannot draw the screen")

    async def refresh(self, when_expired: Callable[[], None]) -> None:
        """Run for the station's life: a timed text that ran out gives way (``when_expired``
        announces it, which draws), and the ring timer is redrawn each second."""
        while True:
            if self.screen.expire():
                when_expired()
            elif self.screen.state is ScreenState.CALLING:
                self.draw()
            # Wake when the notice up runs out, if that is sooner than the next second: a
            # notice lasts what it says, not up to a second more.
            pause = 1.0
            if self.screen.until is not None:
                pause = min(pause, max(0.01, self.screen.until - time.monotonic()))
            await asyncio.sleep(pause)

    def push(self, frame: av.VideoFrame) -> None:
        """The resident's video on the panel, during the conversation only, at ``video_fps``
        (text screens take over for notices, messages and hold)."""
        renderer = self.hardware.screen
        if renderer is None or self.screen.state is not ScreenState.IN_CALL:
            return
        now = asyncio.get_running_loop().time()
        if now - self._last_video < 1.0 / self._video_fps():
            return
        self._last_video = now
        self.video_frames_shown += 1
        renderer.draw_image(video_frame_image(frame, renderer.size, self.screen.title))
        if self.when_video is not None:
            self.when_video(self.video_frames_shown)
