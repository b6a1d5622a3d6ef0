"""The station's configuration file (TOML), validated with errors naming file, key and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from intercom.configfile import beside, load_toml

#: 4 to 8 digits (``unlock.check_code``): three digits fall to a thousand tries.
Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationSettings(Strict):
    name: str = "Front door"
    extension: str
    password: str = ""
    token: str = ""
    exchange: str = "127.0.0.1:7777"
    #: The certificate (or CA) the exchange's TLS is verified against: its self-signed
    #: ``tls/certificate.pem`` copied here. None: the system's CAs; an embedded exchange's own
    #: certificate is trusted without this.
    exchange_certificate: str | None = None
    simulated: bool = False
    data_dir: str = "station-data"
    camera: Literal["picamera2", "v4l2", "synthetic", "none"] = "picamera2"
    #: an exchange configuration file to run inside the station (single-door homes)
    embedded_exchange: str | None = None


class BellConfig(Strict):
    id: Annotated[int, Field(ge=1)]
    pin: Annotated[int, Field(ge=0, le=53)]
    target: str
    fallback_target: str | None = None
    pull_up: bool = True
    bounce: Annotated[float, Field(ge=0.0, le=2.0)] = 0.1
    press_in_call: Literal["ignore", "hangup"] = "ignore"


class RelayConfig(Strict):
    name: str = "door"
    pin: Annotated[int, Field(ge=0, le=53)]
    active_high: bool = True
    pulse: Annotated[float, Field(ge=1.0, le=30.0)] = 5.0
    bistable: bool = False
    #: plain-text codes, still accepted (hashed in memory at load); `intercom config validate`
    #: warns, and `intercom code set` replaces them by hashes
    codes: list[Code] = Field(default_factory=list)
    code_hashes: list[str] = Field(default_factory=list)


class DoorContactConfig(Strict):
    pin: Annotated[int, Field(ge=0, le=53)]
    relay: str = "door"
    open_too_long: Annotated[float, Field(gt=0)] = 60.0


class ScreenConfig(Strict):
    kind: Literal["png", "framebuffer", "st7789", "ili9341", "ssd1306", "none"] = "png"
    path: str = "screen.png"  # the PNG file, or the framebuffer device
    width: Annotated[int, Field(ge=32, le=4096)] = 240
    height: Annotated[int, Field(ge=16, le=4096)] = 135
    rotate: Literal[0, 1, 2, 3] = 0
    spi_port: int = 0
    spi_device: int = 0
    gpio_dc: int = 24
    gpio_rst: int = 25
    i2c_address: int = 0x3C
    greeting: str = "Please ring"
    message_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    #: how long a call's end is told at the door ("No answer", "Busy - please try later")
    notice_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0
    #: show the resident's video during a call, on panels at least 320 pixels wide
    show_video: bool = True
    video_fps: Annotated[float, Field(gt=0, le=30)] = 10.0


class CallsConfig(Strict):
    ring_timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    #: a call from the door ends after this; the exchange warns both sides before, and the
    #: resident can extend it (``Call.extend``)
    max_call: Annotated[float, Field(gt=0, le=86400)] = 120.0
    hangup_after_unlock: Annotated[float, Field(ge=0, le=120)] = 5.0


class AudioConfig(Strict):
    #: "auto": simulated on simulated hardware, else the sound card through PyAudio
    kind: Literal["auto", "pyaudio", "simulated"] = "auto"
    input_device: int | None = None  # PortAudio device index; None: the default device
    output_device: int | None = None
    rate: Annotated[int, Field(ge=8000, le=48000)] = 48000
    #: "none" where the sound server cancels echo (PipeWire/PulseAudio echo-cancel)
    echo_canceller: Literal["none", "speex"] = "none"


class UnlockConfig(Strict):
    max_wrong: Annotated[int, Field(ge=1, le=100)] = 5
    #: the first lockout, in seconds: never 0, which would let codes be tried without end
    lockout: Annotated[float, Field(gt=0, le=86400)] = 300.0
    #: each further lockout (until an authorised unlock) lasts twice as long, up to this
    max_lockout: Annotated[float, Field(gt=0, le=7 * 86400)] = 86400.0

    @model_validator(mode="after")
    def _check(self) -> UnlockConfig:
        if self.max_lockout < self.lockout:
            raise ValueError("max_lockout must be at least lockout")
        return self


class StationConfig(Strict):
    station: StationSettings
    bells: list[BellConfig] = Field(default_factory=list)
    relays: list[RelayConfig] = Field(default_factory=list)
    door_contact: DoorContactConfig | None = None
    tamper_pin: Annotated[int, Field(ge=0, le=53)] | None = None
    led_pin: Annotated[int, Field(ge=0, le=53)] | None = None
    snapshots: Annotated[int, Field(ge=0, le=1000)] = 20  # JPEGs kept, one per ring
    screen: ScreenConfig = Field(default_factory=ScreenConfig)
    calls: CallsConfig = Field(default_factory=CallsConfig)
    unlock: UnlockConfig = Field(default_factory=UnlockConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)

    @model_validator(mode="after")
    def _check(self) -> StationConfig:
        pins = [b.pin for b in self.bells] + [r.pin for r in self.relays]
        if self.door_contact is not None:
            pins.append(self.door_contact.pin)
        if self.tamper_pin is not None:
            pins.append(self.tamper_pin)
        if self.led_pin is not None:
            pins.append(self.led_pin)
        dupes = {p for p in pins if pins.count(p) > 1}
        if dupes:
            raise ValueError(f"pin(s) {sorted(dupes)} used twice")
        if len({b.id for b in self.bells}) != len(self.bells):
            raise ValueError("bell ids must be unique")
        if len({r.name for r in self.relays}) != len(self.relays):
            raise ValueError("relay names must be unique")
        if not self.station.password and not self.station.token:
            raise ValueError("station needs a password or a token")
        return self


def warnings(config: StationConfig) -> list[str]:
    """What is accepted but should change: `intercom config validate` prints these."""
    return [
        f"relays[{i}].codes: door codes in plain text; store them hashed with"
        f" `intercom code set --relay {relay.name}`"
        for i, relay in enumerate(config.relays)
        if relay.codes
    ]


def load_station_config(path: Path | str) -> StationConfig:
    return load_toml(path, StationConfig)


def data_dir_of(config: StationConfig, config_path: Path | str) -> Path:
    return beside(config_path, config.station.data_dir)
