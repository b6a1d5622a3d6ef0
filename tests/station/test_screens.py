"""Screen backends: the PNG file, the framebuffer, and luma panels at their library seam."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from intercom.devices.screen import FramebufferScreen, LumaScreen, PngScreen


def test_png_screen_draws_the_lines(tmp_path: Path) -> None:
    screen = PngScreen(tmp_path / "screen.png", 240, 135)
    screen.draw(["Please ring", "Front door"])
    image = Image.open(tmp_path / "screen.png")
    assert image.size == (240, 135)
    pixels = np.asarray(image)
    assert pixels.max() > 200 and (pixels == 0).mean() > 0.5  # text on black


def test_framebuffer_gets_rgb565(tmp_path: Path) -> None:
    fb = tmp_path / "fb0"
    FramebufferScreen(fb, 320, 240).draw(["Door open", "Please push"])
    data = np.frombuffer(fb.read_bytes(), dtype="<u2")
    assert data.size == 320 * 240 and data.max() > 0


@pytest.mark.parametrize("kind", ["st7789", "ssd1306"])
def test_luma_panels(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    shown: list[Any] = []

    class Device:
        def __init__(self, serial: Any, width: int, height: int, rotate: int = 0) -> None:
            self.mode = "1" if kind == "ssd1306" else "RGB"
            self.serial, self.size = serial, (width, height)

        def display(self, image: Any) -> None:
            shown.append(image)

        def cleanup(self) -> None:
            shown.append("cleanup")

    serial = types.ModuleType("luma.core.interface.serial")
    serial.spi = lambda **kw: ("spi", kw)  # type: ignore[attr-defined]
    serial.i2c = lambda **kw: ("i2c", kw)  # type: ignore[attr-defined]
    lcd = types.ModuleType("luma.lcd.device")
    lcd.st7789 = Device  # type: ignore[attr-defined]
    lcd.ili9341 = Device  # type: ignore[attr-defined]
    oled = types.ModuleType("luma.oled.device")
    oled.ssd1306 = Device  # type: ignore[attr-defined]
    for name, module in {
        "luma": types.ModuleType("luma"), "luma.core": types.ModuleType("luma.core"),
        "luma.core.interface": types.ModuleType("luma.core.interface"),
        "luma.core.interface.serial": serial, "luma.lcd": types.ModuleType("luma.lcd"),
        "luma.lcd.device": lcd, "luma.oled": types.ModuleType("luma.oled"),
        "luma.oled.device": oled,
    }.items():  # fmt: skip
        monkeypatch.setitem(sys.modules, name, module)
    if kind == "ssd1306":
        monkeypatch.setattr(sys.modules["luma.oled"], "device", oled, raising=False)
    else:
        monkeypatch.setattr(sys.modules["luma.lcd"], "device", lcd, raising=False)
    screen = LumaScreen(kind, 128 if kind == "ssd1306" else 240, 64 if kind == "ssd1306" else 240)
    screen.draw(["Calling Flat 1...", "3 s"])
    assert shown[0].size == screen.size and shown[0].mode == ("1" if kind == "ssd1306" else "RGB")
    screen.close()
    assert shown[-1] == "cleanup"
    with pytest.raises(ValueError):
        LumaScreen("crt", 10, 10)
