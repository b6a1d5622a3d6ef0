"""Devices chosen by the names configuration gives them: each kind through its own factory
(screens in ``devices``, cameras, audio and echo cancellers in ``media``), Pi-only libraries
imported only when their device is used, and the station's hardware made through them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.devices import screen as screens
from intercom.devices.screen import SCREENS, FramebufferScreen, PngScreen, screen_for
from intercom.media import camera as cameras
from intercom.media.audio import (
    AUDIO_DEVICES,
    CountingAudioSink,
    GeneratedAudioTrack,
    audio_devices,
)
from intercom.media.camera import CAMERAS, PiCamera2Camera, SyntheticCamera, V4L2Camera, camera_for
from intercom.media.echo import ECHO_CANCELLERS, SpeexEchoCanceller, echo_canceller_for
from intercom.station.config import ScreenConfig, StationConfig, StationSettings
from intercom.station.hardware import CAMERA_NAME, Hardware


def test_every_configurable_screen_has_a_factory() -> None:
    kinds = ScreenConfig.model_fields["kind"].annotation.__args__  # type: ignore[union-attr]
    assert set(SCREENS) == set(kinds)


def test_every_configurable_camera_audio_device_and_echo_canceller_has_a_factory() -> None:
    """The names the configuration accepts and the factories' names are one list each."""
    from intercom.media.audio import AUDIO_DEVICES
    from intercom.media.camera import CAMERAS
    from intercom.media.echo import ECHO_CANCELLERS
    from intercom.station.config import AudioConfig

    def names(model: Any, field: str) -> set[str]:
        return set(model.model_fields[field].annotation.__args__)

    assert set(CAMERAS) == names(StationSettings, "camera")
    assert set(AUDIO_DEVICES) | {"auto"} == names(AudioConfig, "kind")  # auto: by the pins
    assert set(ECHO_CANCELLERS) == names(AudioConfig, "echo_canceller")


def test_screens_by_kind(tmp_path: Path) -> None:
    png = screen_for(ScreenConfig(kind="png", path="screen.png"), tmp_path)
    assert isinstance(png, PngScreen) and png.path == tmp_path / "screen.png"
    elsewhere = screen_for(ScreenConfig(kind="png", path=str(tmp_path / "x.png")), Path("/data"))
    assert isinstance(elsewhere, PngScreen) and elsewhere.path == tmp_path / "x.png"
    fb = screen_for(ScreenConfig(kind="framebuffer", path="/dev/fb1", width=320), tmp_path)
    assert isinstance(fb, FramebufferScreen) and fb.device == Path("/dev/fb1")
    assert fb.size == (320, 135)
    assert screen_for(ScreenConfig(kind="none"), tmp_path) is None
    assert "luma" not in sys.modules  # nothing chosen so far needed it


def test_luma_panels_get_their_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[tuple[Any, ...]] = []

    class Panel:
        def __init__(self, kind: str, width: int, height: int, **wiring: int) -> None:
            made.append((kind, width, height, wiring))

    monkeypatch.setattr(screens, "LumaScreen", Panel)
    for kind in ("st7789", "ili9341", "ssd1306"):
        settings = ScreenConfig(kind=kind, width=128, height=64, gpio_dc=22, rotate=2)
        assert isinstance(screen_for(settings, tmp_path), Panel)
    assert [m[0] for m in made] == ["st7789", "ili9341", "ssd1306"]
    assert made[0][1:3] == (128, 64)
    assert made[0][3] == {
        "spi_port": 0, "spi_device": 0, "gpio_dc": 22, "gpio_rst": 25,
        "i2c_address": 0x3C, "rotate": 2,
    }  # fmt: skip


def test_unknown_kinds_are_named() -> None:
    class Settings:
        kind = "crt"

    with pytest.raises(ValueError, match="crt"):
        screen_for(Settings(), Path())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="webcam"):
        camera_for("webcam")
    with pytest.raises(ValueError, match="alsa"):
        audio_devices("alsa")
    with pytest.raises(ValueError, match="webrtc"):
        echo_canceller_for("webrtc")


def test_cameras_by_kind() -> None:
    synthetic = camera_for("synthetic")
    assert isinstance(synthetic, SyntheticCamera) and synthetic.encoded
    assert (synthetic.mode.width, synthetic.mode.height) == (640, 480)
    usb = camera_for("v4l2")
    assert isinstance(usb, V4L2Camera) and usb.device == "/dev/video0"
    pi = camera_for("picamera2")
    assert isinstance(pi, PiCamera2Camera) and (pi.mode.width, pi.mode.height) == (1280, 720)
    assert "picamera2" not in sys.modules  # imported when the camera starts, on a Pi
    assert camera_for("none") is None
    kinds = StationSettings.model_fields["camera"].annotation.__args__  # type: ignore[union-attr]
    assert set(CAMERAS) == set(kinds)


def test_audio_and_echo_cancelling_by_kind() -> None:
    simulated = audio_devices("simulated")
    assert simulated.microphone is GeneratedAudioTrack
    assert simulated.speaker is CountingAudioSink
    sound_card = audio_devices("pyaudio", 2, 3, 16000)
    assert callable(sound_card.microphone) and callable(sound_card.speaker)
    assert "pyaudio" not in sys.modules  # opened (and imported) when a call needs it
    assert set(AUDIO_DEVICES) == {"simulated", "pyaudio"}
    assert echo_canceller_for("speex") is SpeexEchoCanceller
    assert echo_canceller_for("none") is None
    assert set(ECHO_CANCELLERS) == {"none", "speex"}


def config() -> StationConfig:
    return StationConfig.model_validate({
        "station": {"extension": "100", "password": "x", "simulated": True,
                    "camera": "synthetic"},
        "relays": [{"name": "door", "pin": 27}],
        "screen": {"kind": "png"},
    })  # fmt: skip


async def test_the_station_makes_its_devices_through_the_factories(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A backend replaced in its registry is what the station gets: the station names none."""
    from intercom.client import OzCamera

    class Camera(SyntheticCamera):
        pass

    class Screen(PngScreen):
        pass

    monkeypatch.setitem(cameras.CAMERAS, "synthetic", lambda: Camera())
    monkeypatch.setitem(SCREENS, "png", lambda _s, folder: Screen(folder / "elsewhere.png"))
    hardware = Hardware(MockFactory())
    hardware.open(config(), tmp_path)
    try:
        assert isinstance(hardware.camera, Camera)
        camera = OzCamera.getCameraByName(CAMERA_NAME)
        assert camera is not None and camera.source is hardware.camera
        assert isinstance(hardware.screen, Screen)
        assert list(hardware.relays) == ["door"] and not hardware.relays["door"].is_open
    finally:
        hardware.lock()
        hardware.close()
    assert OzCamera.getCameraByName(CAMERA_NAME) is None
