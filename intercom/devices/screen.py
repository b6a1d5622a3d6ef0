"""The station's small screen: text drawn with Pillow, shown on a luma SPI LCD or I2C OLED, on
the Linux framebuffer, or (simulated) written to a PNG file. ``screen_for`` makes the one a
configuration names, from ``SCREENS`` (gpiozero's pin factories are the model)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Screen(Protocol):
    size: tuple[int, int]

    def draw(self, lines: list[str]) -> None: ...

    def draw_image(self, image: Any) -> None: ...

    def close(self) -> None: ...


def render(lines: list[str], size: tuple[int, int], mode: str = "RGB") -> Any:
    """The title large and yellow, the rest white, on black; sized to the panel."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    image = Image.new(mode, size, 0)
    draw = ImageDraw.Draw(image)
    big = max(10, height // 7)
    y = max(2, height // 40)
    for i, line in enumerate(lines):
        size_px = big if i == 0 else max(9, big * 4 // 5)
        font = ImageFont.load_default(size=size_px)
        colour = ("#ffd54a" if i == 0 else "white") if mode == "RGB" else 255
        draw.text((max(2, width // 30), y), line, fill=colour, font=font)
        y += size_px + max(2, size_px // 4)
        if y >= height:
            break
    return image


class PngScreen:
    """The simulated screen: what a panel would show, written to a PNG file."""

    def __init__(self, path: Path | str, width: int = 240, height: int = 135) -> None:
        self.path = Path(path)
        self.size = (width, height)

    def draw(self, lines: list[str]) -> None:
        self.draw_image(render(lines, self.size))

    def draw_image(self, image: Any) -> None:
        tmp = self.path.with_suffix(".tmp.png")
        image.save(tmp)
        tmp.replace(self.path)  # readers never see half a picture

    def close(self) -> None:
        pass


class FramebufferScreen:
    """A Linux framebuffer (an HDMI panel, or an SPI LCD with a kernel fbtft driver), 16-bit
    RGB565 as those panels use."""

    def __init__(
        self, device: Path | str = "/dev/fb0", width: int = 320, height: int = 240
    ) -> None:
        self.device = Path(device)
        self.size = (width, height)

    def draw(self, lines: list[str]) -> None:
        self.draw_image(render(lines, self.size))

    def draw_image(self, image: Any) -> None:
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint16)
        r, g, b = rgb[..., 0] >> 3, rgb[..., 1] >> 2, rgb[..., 2] >> 3
        with self.device.open("r+b" if self.device.exists() else "wb") as fb:
            fb.write(((r << 11) | (g << 5) | b).astype("<u2").tobytes())

    def close(self) -> None:
        pass


class LumaScreen:
    """An SPI LCD (ST7789, ILI9341) or an I2C OLED (SSD1306) through luma (the ``pi`` extra,
    imported only here)."""

    def __init__(
        self,
        kind: str,
        width: int,
        height: int,
        *,
        spi_port: int = 0,
        spi_device: int = 0,
        gpio_dc: int = 24,
        gpio_rst: int = 25,
        i2c_port: int = 1,
        i2c_address: int = 0x3C,
        rotate: int = 0,
    ) -> None:
        if kind == "ssd1306":
            from luma.core.interface.serial import i2c
            from luma.oled.device import ssd1306

            serial = i2c(port=i2c_port, address=i2c_address)
            self.device = ssd1306(serial, width=width, height=height, rotate=rotate)
        elif kind in ("st7789", "ili9341"):
            from luma.core.interface.serial import spi
            from luma.lcd import device as lcd

            serial = spi(port=spi_port, device=spi_device, gpio_DC=gpio_dc, gpio_RST=gpio_rst)
            self.device = getattr(lcd, kind)(serial, width=width, height=height, rotate=rotate)
        else:
            raise ValueError(f"unknown screen {kind!r}: st7789, ili9341 or ssd1306")
        self.size = (width, height)

    def draw(self, lines: list[str]) -> None:
        self.device.display(render(lines, self.size, self.device.mode))

    def draw_image(self, image: Any) -> None:
        self.device.display(image.convert(self.device.mode))

    def close(self) -> None:
        self.device.cleanup()


def video_frame_image(frame: Any, size: tuple[int, int], caption: str) -> Any:
    """A received video frame fitted to the panel, with a caption bar along the bottom."""
    from PIL import ImageDraw, ImageFont, ImageOps

    image = ImageOps.fit(frame.to_image(), size)
    draw = ImageDraw.Draw(image)
    bar = max(12, size[1] // 10)
    draw.rectangle((0, size[1] - bar, size[0], size[1]), fill="black")
    draw.text((4, size[1] - bar), caption, fill="white", font=ImageFont.load_default(size=bar - 2))
    return image


class ScreenSettings(Protocol):
    """What ``screen_for`` reads: the station's ``[screen]`` section, or anything shaped so."""

    @property
    def kind(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def rotate(self) -> int: ...
    @property
    def spi_port(self) -> int: ...
    @property
    def spi_device(self) -> int: ...
    @property
    def gpio_dc(self) -> int: ...
    @property
    def gpio_rst(self) -> int: ...
    @property
    def i2c_address(self) -> int: ...


#: Makes a screen from its settings; ``folder`` holds a PNG file named by a relative path.
ScreenFactory = Callable[[ScreenSettings, Path], Screen | None]


def _png(settings: ScreenSettings, folder: Path) -> Screen:
    # An absolute path stays as it is: Path("/data") / "/tmp/screen.png" is the latter.
    return PngScreen(folder / settings.path, settings.width, settings.height)


def _framebuffer(settings: ScreenSettings, folder: Path) -> Screen:
    return FramebufferScreen(settings.path, settings.width, settings.height)


def _luma(settings: ScreenSettings, folder: Path) -> Screen:
    return LumaScreen(
        settings.kind,
        settings.width,
        settings.height,
        spi_port=settings.spi_port,
        spi_device=settings.spi_device,
        gpio_dc=settings.gpio_dc,
        gpio_rst=settings.gpio_rst,
        i2c_address=settings.i2c_address,
        rotate=settings.rotate,
    )


def _no_screen(settings: ScreenSettings, folder: Path) -> None:
    return None


#: Every screen by the name configuration gives it. Each is made only when chosen, so luma (a
#: Pi-only library) is imported only by a station that has such a panel.
SCREENS: dict[str, ScreenFactory] = {
    "png": _png,
    "framebuffer": _framebuffer,
    "st7789": _luma,
    "ili9341": _luma,
    "ssd1306": _luma,
    "none": _no_screen,
}


def screen_for(settings: ScreenSettings, folder: Path) -> Screen | None:
    """The screen ``settings.kind`` names (None for "none")."""
    factory = SCREENS.get(settings.kind)
    if factory is None:
        raise ValueError(f"unknown screen {settings.kind!r}: {', '.join(sorted(SCREENS))}")
    return factory(settings, folder)
