"""The station's devices, made from its configuration: the lock relays, bells, door contact,
tamper switch and LED on pins, the screen, the camera, and the microphone and speaker.

Each kind of device comes from its own factory (``pin_factory``, ``screen_for``, ``camera_for``,
``audio_devices``, ``echo_canceller_for``), chosen by the name configuration gives it, so a
backend is added where its kind lives and Pi-only libraries are imported only when chosen.
Nothing here decides what the devices do: the station wires their callbacks.
"""

from __future__ import annotations

from pathlib import Path

from gpiozero import Factory

from intercom.client import OzCamera
from intercom.devices.inputs import Bell, Tamper
from intercom.devices.led import LedMode, StatusLed
from intercom.devices.lock import DoorContact, LockRelay
from intercom.devices.pins import pin_factory as make_pin_factory
from intercom.devices.screen import Screen, screen_for
from intercom.media.audio import audio_devices
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import CameraSource, camera_for
from intercom.media.echo import echo_canceller_for

from .config import StationConfig

#: The name the station's camera is registered under (``OzCamera``), for its calls to show.
CAMERA_NAME = "station"


def media_options(config: StationConfig) -> MediaOptions:
    """The station's microphone, speaker and echo cancelling, from its configuration."""
    audio = config.audio
    kind = audio.kind
    if kind == "auto":
        kind = "simulated" if config.station.simulated else "pyaudio"
    devices = audio_devices(kind, audio.input_device, audio.output_device, audio.rate)
    return MediaOptions(
        microphone=devices.microphone,
        speaker=devices.speaker,
        echo_canceller=echo_canceller_for(audio.echo_canceller),
    )


class Hardware:
    """The devices of one station. Empty until ``open``; ``lock`` switches every relay off
    first thing at a stop, ``close`` lets go of the rest.

    ``pin_factory`` and ``camera`` replace what configuration would choose (tests, the bench)."""

    def __init__(
        self, pin_factory: Factory | None = None, camera: CameraSource | None = None
    ) -> None:
        self._pins = pin_factory
        self.camera = camera
        self.relays: dict[str, LockRelay] = {}
        self.bells: dict[int, Bell] = {}
        self.door_contact: DoorContact | None = None
        self.tamper: Tamper | None = None
        self.led: StatusLed | None = None
        self.screen: Screen | None = None

    def open(self, config: StationConfig, data_dir: Path) -> None:
        """Make every configured device. Relays first: each is off as soon as it exists."""
        pins = self._pins or make_pin_factory(config.station.simulated)
        for r in config.relays:
            self.relays[r.name] = LockRelay(
                r.pin,
                active_high=r.active_high,
                pulse_seconds=r.pulse,
                bistable=r.bistable,
                pin_factory=pins,
            )
        for b in config.bells:
            self.bells[b.id] = Bell(
                b.id, b.pin, pull_up=b.pull_up, bounce_time=b.bounce, pin_factory=pins
            )
        if config.door_contact is not None:
            self.door_contact = DoorContact(
                config.door_contact.pin,
                self.relays.get(config.door_contact.relay),
                open_too_long=config.door_contact.open_too_long,
                pin_factory=pins,
            )
        if config.tamper_pin is not None:
            self.tamper = Tamper(config.tamper_pin, pin_factory=pins)
        if config.led_pin is not None:
            self.led = StatusLed(config.led_pin, pin_factory=pins)
            self.led.show(LedMode.OFFLINE)
        self.screen = screen_for(config.screen, data_dir)
        if self.camera is None:
            self.camera = camera_for(config.station.camera)
        if self.camera is not None:
            OzCamera.register(CAMERA_NAME, self.camera, self.camera.mode)

    def lock(self) -> None:
        """Every relay off and closed: the door is locked whatever happens next."""
        for relay in self.relays.values():
            relay.close()

    def close(self) -> None:
        for device in [*self.bells.values(), self.door_contact, self.tamper, self.led]:
            if device is not None:
                device.close()
        if self.screen is not None:
            self.screen.close()
        OzCamera.unregister(CAMERA_NAME)
        if self.camera is not None:
            self.camera.close()
