"""Media fixtures: a synthetic camera and a probe display, registered for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from intercom.client import OzCamera
from intercom.media.camera import SyntheticCamera
from intercom.media.displays import FrameProbe, register_display, unregister_display
from intercom.media.video import CameraMode


def registered_camera(encoded: bool) -> Iterator[SyntheticCamera]:
    source = SyntheticCamera(CameraMode(320, 240, 15), encoded=encoded)
    OzCamera.register("door-camera", source, source.mode)
    yield source
    OzCamera.unregister("door-camera")
    source.close()


@pytest.fixture(params=[True, False], ids=["h264-passthrough", "aiortc-encodes"])
def camera(request: pytest.FixtureRequest) -> Iterator[SyntheticCamera]:
    yield from registered_camera(request.param)


@pytest.fixture
def passthrough_camera() -> Iterator[SyntheticCamera]:
    yield from registered_camera(True)


@pytest.fixture
def probe() -> Iterator[FrameProbe]:
    display = FrameProbe()
    register_display("probe", display)
    yield display
    unregister_display("probe")
