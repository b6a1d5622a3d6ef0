"""OzCamera: the seed's camera object.

Cameras are provided by camera sources registered here; the media layer registers real ones
(picamera2, V4L2, synthetic). The object keeps the requested mode and quality so that a source
can apply them when it starts sending.
"""

from __future__ import annotations

from typing import Any, ClassVar

from intercom.media.video import CameraMode


class OzCamera:
    _registry: ClassVar[dict[str, dict[str, Any]]] = {}
    _order: ClassVar[list[str]] = []

    def __init__(self, name: str, source: Any = None, mode: CameraMode | None = None) -> None:
        self._name = name
        self.source = source
        self.mode = mode or CameraMode()
        self.bandwidth = 0  # bytes per second, 0 = as much as the quality needs
        self.quality = 0  # 1..100, 0 = let the quality vary to keep the bandwidth
        self.display_id: str | None = None

    # ------------------------------------------------------------- registry

    @classmethod
    def register(cls, name: str, source: Any = None, mode: CameraMode | None = None) -> None:
        """Make a camera available by name; the first one registered is the default."""
        if name not in cls._registry:
            cls._order.append(name)
        cls._registry[name] = {"source": source, "mode": mode or CameraMode()}

    @classmethod
    def unregister(cls, name: str) -> None:
        if cls._registry.pop(name, None) is not None:
            cls._order.remove(name)

    @classmethod
    def get_names(cls) -> list[str]:
        return list(cls._order)

    @classmethod
    def get_camera_by_index(cls, index: int) -> OzCamera | None:
        if not 0 <= index < len(cls._order):
            return None
        return cls._make(cls._order[index])

    @classmethod
    def get_camera_by_name(cls, name: str | None = None) -> OzCamera | None:
        """No name: the default camera."""
        if name is None:
            return cls.get_camera_by_index(0)
        return cls._make(name) if name in cls._registry else None

    @classmethod
    def _make(cls, name: str) -> OzCamera:
        entry = cls._registry[name]
        return cls(name, entry["source"], entry["mode"])

    # -------------------------------------------------------------- object

    def get_id(self) -> str:
        return f"camera:{self._name}"

    def get_name(self) -> str:
        return self._name

    def get_width(self) -> int:
        return self.mode.width

    def get_height(self) -> int:
        return self.mode.height

    def get_fps(self) -> int:
        return self.mode.fps

    def set_mode(self, width: int, height: int, fps: int) -> None:
        if width <= 0 or height <= 0 or not 0 < fps <= 120:
            raise ValueError(f"invalid camera mode {width}x{height}@{fps}")
        self.mode = CameraMode(int(width), int(height), int(fps))
        self._configure_source()

    def set_quality(self, bandwidth: int, quality: int) -> None:
        if bandwidth < 0:
            raise ValueError("bandwidth is bytes per second, 0 or more")
        if not 0 <= quality <= 100:
            raise ValueError("quality is 1..100, or 0 to let it vary")
        self.bandwidth = int(bandwidth)
        self.quality = int(quality)
        self._configure_source()

    def _configure_source(self) -> None:
        configure = getattr(self.source, "configure", None)
        if configure is not None:
            configure(self.mode, self.bandwidth, self.quality)

    def set_display(self, display_id: str | None) -> None:
        """Show this camera's own picture on a registered display (local preview); ``None``
        stops the preview. Needs a running event loop when a display is given."""
        from intercom.media.preview import start_preview, stop_preview

        stop_preview(self)
        self.display_id = display_id
        if display_id is not None and self.source is not None:
            start_preview(self, display_id)

    getNames = get_names
    getCameraByIndex = get_camera_by_index
    getCameraByName = get_camera_by_name
    getId = get_id
    getName = get_name
    getWidth = get_width
    getHeight = get_height
    getFps = get_fps
    setMode = set_mode
    setQuality = set_quality
    setDisplay = set_display
