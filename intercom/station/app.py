"""The door station: bells in, a video call out, the lock opened only for the right people."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from gpiozero import Factory

from intercom.client import (
    Call,
    CallState,
    CallType,
    ConnectionInfo,
    ConnectionState,
    DtmfEvent,
    Message,
    OzCamera,
    OzWebClient,
)
from intercom.configfile import beside
from intercom.devices.inputs import Bell, Tamper
from intercom.devices.led import LedMode, StatusLed
from intercom.devices.lock import DoorContact, LockRelay
from intercom.devices.pins import pin_factory as make_pin_factory
from intercom.devices.screen import (
    FramebufferScreen,
    LumaScreen,
    PngScreen,
    Screen,
    video_frame_image,
)
from intercom.media.audio import FRAME_SAMPLES, SAMPLE_RATE, AudioSink, mono_frame
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import CameraSource, PiCamera2Camera, SyntheticCamera, V4L2Camera
from intercom.media.displays import display_ids, register_display, unregister_display
from intercom.media.video import CameraMode
from intercom.systemd import Notifier

from .config import StationConfig, data_dir_of, load_station_config, warnings
from .events import EventLog
from .paths import BELL_REQUEST, PID_FILE, status_file
from .screen import ScreenModel, ScreenState
from .unlock import Outcome, UnlockPolicy, dtmf_refusal, hash_code

log = logging.getLogger(__name__)

CAMERA_NAME = "station"
SCREEN_DISPLAY = "station-screen"
NOTICES = {
    "busy": "Busy - please try later",
    "no_answer": "No answer",
    "unknown_number": "Not available",
    "unavailable": "Nobody is home",
    "rejected": "No answer",
}


def camera_for(kind: str) -> CameraSource | None:
    if kind == "synthetic":
        return SyntheticCamera(CameraMode(640, 480, 30), encoded=True)
    if kind == "picamera2":
        return PiCamera2Camera(0, CameraMode(1280, 720, 30))
    if kind == "v4l2":
        return V4L2Camera("/dev/video0")
    return None


def media_options(config: StationConfig) -> MediaOptions:
    """The station's microphone, speaker and echo cancelling, from its configuration."""
    audio = config.audio
    kind = audio.kind
    if kind == "auto":
        kind = "simulated" if config.station.simulated else "pyaudio"
    options = MediaOptions()
    if kind == "pyaudio":
        from intercom.media.audio import PyAudioMicrophone, PyAudioSpeaker

        options = MediaOptions(
            microphone=lambda: PyAudioMicrophone(audio.input_device, audio.rate),
            speaker=lambda: PyAudioSpeaker(audio.output_device, audio.rate),
        )
    if audio.echo_canceller == "speex":
        from intercom.media.echo import SpeexEchoCanceller

        options = dataclasses.replace(options, echo_canceller=SpeexEchoCanceller)
    return options


class Station:
    def __init__(
        self,
        config: StationConfig,
        config_path: Path | str,
        *,
        pin_factory: Factory | None = None,
        media: MediaOptions | None = None,
        camera: CameraSource | None = None,
        trust: Path | None = None,
    ) -> None:
        self.config = config
        self.config_path = Path(config_path)
        self.data_dir = data_dir_of(config, config_path)
        self._pins = pin_factory
        options = media or media_options(config)
        # One door speaker for every call and for the station's own feedback tones.
        self.speaker: AudioSink = options.speaker()
        self._media = dataclasses.replace(options, speaker=lambda: self.speaker)
        self._camera_source = camera
        self.events: EventLog
        self.relays: dict[str, LockRelay] = {}
        self.bells: dict[int, Bell] = {}
        self.door_contact: DoorContact | None = None
        self.tamper: Tamper | None = None
        self.led: StatusLed | None = None
        self.fallback_tried = False
        self.max_call = config.calls.max_call
        self._last_video = 0.0
        self.video_frames_shown = 0
        self.screen = ScreenModel(greeting=config.screen.greeting)
        self.renderer: Screen | None = None
        certificate = config.station.exchange_certificate
        if trust is None and certificate:
            trust = beside(config_path, certificate)
        self.client = OzWebClient(media=self._media, trust=trust)
        self.call: Call | None = None
        self.bell_of_call: int | None = None
        # Wrong codes and lockouts are kept on disk: a restart must not hand out fresh tries.
        self.policy = UnlockPolicy(
            {r.name: [hash_code(c) for c in r.codes] + list(r.code_hashes) for r in config.relays},
            max_wrong=config.unlock.max_wrong,
            lockout_seconds=config.unlock.lockout,
            max_lockout_seconds=config.unlock.max_lockout,
            database=self.data_dir / "unlock.db",
        )
        #: (who, how, reason) of refused digits already logged in this entry: one
        #: ``unlock_refused`` per attempted entry, not one per key
        self._refusing: set[tuple[str, str, str]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._hangup_timer: asyncio.TimerHandle | None = None
        self.online = asyncio.Event()
        self.idle = asyncio.Event()  # no call of the station's in progress
        self.idle.set()
        self.status_file = status_file(self.data_dir)  # what `intercom status` reads
        self.notifier: Notifier | None = None
        self._published = ""
        self._stopping = False

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        cfg = self.config
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(self.data_dir / "events.db")
        pins = self._pins or make_pin_factory(cfg.station.simulated)
        for r in cfg.relays:
            relay = LockRelay(
                r.pin,
                active_high=r.active_high,
                pulse_seconds=r.pulse,
                bistable=r.bistable,
                pin_factory=pins,
            )
            # The status follows the strike itself (a pulse ends on time or when the door opens).
            relay.when_changed = lambda _opened: self._publish()
            self.relays[r.name] = relay
        for b in cfg.bells:
            bell = Bell(b.id, b.pin, pull_up=b.pull_up, bounce_time=b.bounce, pin_factory=pins)
            bell.when_pressed = self.press
            self.bells[b.id] = bell
        if cfg.door_contact is not None:
            contact = DoorContact(
                cfg.door_contact.pin,
                self.relays.get(cfg.door_contact.relay),
                open_too_long=cfg.door_contact.open_too_long,
                pin_factory=pins,
            )
            contact.when_opened = lambda: self._log("door_opened")
            contact.when_closed = lambda: self._log("door_closed")
            contact.when_open_too_long = lambda: self._log("door_open_too_long")
            self.door_contact = contact
        if cfg.tamper_pin is not None:
            self.tamper = Tamper(cfg.tamper_pin, pin_factory=pins)
            self.tamper.when_tampered = lambda: self._log("tamper")
        if cfg.led_pin is not None:
            self.led = StatusLed(cfg.led_pin, pin_factory=pins)
            self.led.show(LedMode.OFFLINE)
        sc = cfg.screen
        if sc.kind == "png":
            path = Path(sc.path)
            self.renderer = PngScreen(
                path if path.is_absolute() else self.data_dir / path, sc.width, sc.height
            )
        elif sc.kind == "framebuffer":
            self.renderer = FramebufferScreen(sc.path, sc.width, sc.height)
        elif sc.kind != "none":
            self.renderer = LumaScreen(
                sc.kind,
                sc.width,
                sc.height,
                spi_port=sc.spi_port,
                spi_device=sc.spi_device,
                gpio_dc=sc.gpio_dc,
                gpio_rst=sc.gpio_rst,
                i2c_address=sc.i2c_address,
                rotate=sc.rotate,
            )
        if self.renderer is not None and sc.show_video and self.renderer.size[0] >= 320:
            register_display(SCREEN_DISPLAY, self)
        source = self._camera_source or camera_for(cfg.station.camera)
        if source is not None:
            OzCamera.register(CAMERA_NAME, source, source.mode)
        self.client.onConnectionStateChanged(self._connection)
        for warning in warnings(cfg):
            log.warning("%s: %s", self.config_path, warning)
        self.events.add("start")
        self.screen.show(ScreenState.OFFLINE, "Connecting...")
        self._spawn(self._connect())
        self._spawn(self._refresh_screen())

    async def stop(self) -> None:
        self._stopping = True  # devices close below: nothing reads them for the status anymore
        for relay in self.relays.values():
            relay.close()  # the door is locked whatever happens next
        for task in list(self._tasks):
            task.cancel()
        await self.client.disconnect()
        for device in [*self.bells.values(), self.door_contact, self.tamper, self.led]:
            if device is not None:
                device.close()
        unregister_display(SCREEN_DISPLAY)
        if self.renderer is not None:
            self.renderer.close()
        source = self._camera_source
        OzCamera.unregister(CAMERA_NAME)
        if source is not None:
            source.close()
        self.events.add("stop")
        self.events.close()
        self.policy.close()

    def _log(self, kind: str, **detail: Any) -> None:
        self.events.add(kind, **detail)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self) -> None:
        """Keep trying until the exchange answers; after that the client reconnects itself."""
        delay = 0.5
        st = self.config.station
        while True:
            if st.token:
                state = await self.client.connect(st.exchange, st.token)
            else:
                state = await self.client.connect(st.exchange, st.extension, password=st.password)
            if state is ConnectionState.ACCESS_GRANTED:
                return
            if state is ConnectionState.ACCESS_DENIED:
                log.error("the exchange refused this station's credentials")
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 10.0)

    def _connection(self, info: ConnectionInfo) -> None:
        if info.state is ConnectionState.ACCESS_GRANTED:
            self.online.set()
            self.events.add("online")
            self.screen.idle()
        elif self.online.is_set():
            self.online.clear()
            self.events.add("offline")
            self.screen.show(ScreenState.OFFLINE, "Offline", "Please try again later")
        self._draw()

    async def _refresh_screen(self) -> None:
        while True:
            if self.screen.expire() or self.screen.state is ScreenState.CALLING:
                self._draw()
            await asyncio.sleep(1.0)  # the ring timer counts seconds

    def _draw(self) -> None:
        if self.led is not None:
            state = self.screen.state
            self.led.show(
                LedMode.OFFLINE if not self.online.is_set()
                else LedMode.RINGING if state is ScreenState.CALLING
                else LedMode.IN_CALL if self.call is not None and self.call.is_active
                else LedMode.IDLE
            )  # fmt: skip
        if self.renderer is not None:
            try:
                self.renderer.draw(self.screen.lines())
            except OSError:
                log.exception("cannot draw the screen")
        self._publish()

    # ---------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        call = self.call
        locked_until = self.policy.lockout_until()
        return {
            "name": self.config.station.name,
            "extension": self.config.station.extension,
            "exchange": self.config.station.exchange,
            "online": self.online.is_set(),
            "screen": self.screen.state.value,
            "call": None
            if call is None or not call.is_active
            else {
                "state": call.state.value if call.state else None,
                "other_party": call.other_party,
                "bell": self.bell_of_call,
            },
            "relays": {name: relay.is_open for name, relay in self.relays.items()},
            "door_open": None if self.door_contact is None else self.door_contact.is_open,
            "lockout": None if locked_until is None else {"until": locked_until},
            "pid": os.getpid(),
        }

    def summary(self) -> str:
        """One line for systemd's STATUS= (shown by ``systemctl status``)."""
        st = self.status()
        parts = ["online" if st["online"] else "offline: connecting to " + st["exchange"]]
        if st["call"]:
            parts.append(f"call {st['call']['state']} with {st['call']['other_party']}")
        parts += [f"{name} open" for name, active in st["relays"].items() if active]
        return f"{st['name']}: " + ", ".join(parts)

    def _publish(self) -> None:
        """Write the status file (atomically) and systemd's status line when they change."""
        if self._stopping:
            return
        status = self.status()
        text = json.dumps(status, sort_keys=True)
        if text == self._published:
            return
        self._published = text
        try:
            tmp = self.status_file.with_name(self.status_file.name + ".tmp")
            tmp.write_text(json.dumps({**status, "at": time.time()}, sort_keys=True))
            os.replace(tmp, self.status_file)
        except OSError:
            log.exception("cannot write %s", self.status_file)
        if self.notifier is not None:
            self.notifier.status(self.summary())

    # ---------------------------------------------------------------- reload

    def reload(self) -> list[str]:
        """Re-read the configuration file (SIGHUP, ``systemctl reload``).

        Bell targets, door codes, call and unlock settings and screen texts apply at once. Parts
        bound to hardware or to the connection (``RESTART_SECTIONS``) keep their running values
        and are returned, to be applied by a restart. A file that does not validate changes
        nothing and raises."""
        old, new = self.config, load_station_config(self.config_path)
        restart = [n for n in RESTART_SECTIONS if _hardware(old, n) != _hardware(new, n)]
        # What needs a restart keeps running as it is (door codes apply at once regardless).
        self.config = new.model_copy(update={name: getattr(old, name) for name in restart})
        self.policy.codes = {
            r.name: [hash_code(c) for c in r.codes] + list(r.code_hashes) for r in new.relays
        }
        self.policy.max_wrong = new.unlock.max_wrong
        self.policy.lockout_seconds = new.unlock.lockout
        self.policy.max_lockout_seconds = new.unlock.max_lockout
        self.max_call = new.calls.max_call
        if self.screen.greeting != new.screen.greeting:
            self.screen.greeting = new.screen.greeting
            if self.screen.state is ScreenState.IDLE:
                self.screen.idle()
        self.events.add("config_reloaded", restart_needed=restart)
        if restart:
            log.warning("configuration reloaded; restart to apply: %s", ", ".join(restart))
        else:
            log.info("configuration reloaded")
        self._draw()
        return restart

    # ----------------------------------------------------------------- bells

    def press(self, bell_id: int = 1) -> None:
        bell = next((b for b in self.config.bells if b.id == bell_id), None)
        if bell is None:
            raise ValueError(f"no bell {bell_id}")
        event_id = self.events.add("bell", bell=bell_id, target=bell.target)
        self._spawn(self._snapshot(event_id))
        if self.call is not None and self.call.is_active:
            if bell.press_in_call == "hangup":
                self._spawn(self.call.hangUp())
            return
        if not self.online.is_set():
            self.screen.show(ScreenState.NOTICE, "Offline", "Please try again later", 10)
            self.events.add("offline", bell=bell_id)
            self._draw()
            return
        self.fallback_tried = False
        self._spawn(self._ring(bell_id, bell.target))

    async def _snapshot(self, event_id: int) -> None:
        """A JPEG of the visitor at each ring, linked to the bell event; the last N are kept."""
        keep = self.config.snapshots
        source = OzCamera.getCameraByName(CAMERA_NAME)
        if keep == 0 or source is None or source.source is None:
            return
        track = source.source.subscribe()
        decoder = av.CodecContext.create("h264", "r") if source.source.encoded else None
        try:
            async with asyncio.timeout(5):
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
        folder = self.data_dir / "snapshots"
        folder.mkdir(exist_ok=True)
        path = folder / f"bell-{event_id:08d}.jpg"
        await asyncio.to_thread(frame.to_image().save, path, quality=85)  # type: ignore[no-untyped-call]
        self.events.link_snapshot(event_id, str(path))
        for old in sorted(folder.glob("bell-*.jpg"))[:-keep]:
            old.unlink(missing_ok=True)

    async def _ring(self, bell_id: int, target: str) -> None:
        call = self.client.createCall(target, CallType.VIDEO)
        call.max_duration = self.max_call
        call.ring_timeout = self.config.calls.ring_timeout
        if self.renderer is not None and SCREEN_DISPLAY in display_ids():
            call.setRemoteDisplay(SCREEN_DISPLAY)
        camera = OzCamera.getCameraByName(CAMERA_NAME)
        if camera is not None:
            call.attachCamera(camera)
        self.call, self.bell_of_call = call, bell_id
        self.idle.clear()
        self.policy.reset_entry()
        self._refusing.clear()
        call.onCallStateChanged(lambda state: self._state(call, state))
        call.onDtmfReceived(lambda event: self._dtmf(call, event))
        call.onMessageReceived(lambda message: self._message(call, message))
        call.on_command_received(lambda data: self._command(call, data))
        call.on_call_expiring(lambda left: self._expiring(left))
        self.screen.show(ScreenState.CALLING, f"Calling {target}...")
        self._draw()
        try:
            await call.start()
        except Exception as exc:
            log.warning("call to %s failed: %s", target, exc)
            self.screen.show(ScreenState.NOTICE, "Not available", "", 10)
            self.call = None
            self.idle.set()
            self._draw()

    # ----------------------------------------------------------------- calls

    def _state(self, call: Call, state: CallState) -> None:
        if call is not self.call:
            return
        if state is CallState.RINGING:
            name = call.other_party_name or call.other_party
            self.screen.show(ScreenState.CALLING, f"Calling {name}...")
        elif state is CallState.IN_CALL:
            if len(call.states_seen) >= 2 and call.states_seen[-2] is CallState.ANSWERED:
                self.events.add("call_answered", bell=self.bell_of_call, by=call.other_party)
            self.screen.show(ScreenState.IN_CALL, call.other_party_name or call.other_party)
        elif state is CallState.HOLD:
            self.screen.show(ScreenState.ON_HOLD, "Please wait")
        elif state.is_final:
            cause = call.end_cause.value if call.end_cause else state.value
            self.events.add(
                "call_ended",
                bell=self.bell_of_call,
                state=state.value,
                cause=cause,
                party=call.other_party,
            )
            bell = next((b for b in self.config.bells if b.id == self.bell_of_call), None)
            if (
                cause == "no_answer"
                and bell is not None
                and bell.fallback_target
                and not self.fallback_tried
            ):
                # Nobody at the first target: try the fallback (a concierge, a mobile).
                self.fallback_tried = True
                self.call = None
                self._spawn(self._ring(bell.id, bell.fallback_target))
                return
            notice = NOTICES.get(cause)
            if notice is not None:
                self.screen.show(ScreenState.NOTICE, notice, "", 10)
            elif self.screen.state is not ScreenState.DOOR_OPEN:
                self.screen.idle()
            if self._hangup_timer is not None:
                self._hangup_timer.cancel()
                self._hangup_timer = None
            self.call = None
            self.idle.set()
        self._draw()

    def push(self, frame: av.VideoFrame) -> None:
        """The resident's video on the panel, during the conversation only, at ``video_fps``
        (text screens take over for notices, messages and hold)."""
        if self.renderer is None or self.screen.state is not ScreenState.IN_CALL:
            return
        now = asyncio.get_running_loop().time()
        if now - self._last_video < 1.0 / self.config.screen.video_fps:
            return
        self._last_video = now
        self.video_frames_shown += 1
        image = video_frame_image(frame, self.renderer.size, self.screen.title)
        self.renderer.draw_image(image)

    def beep(self, tones: tuple[tuple[float, float], ...]) -> None:
        """Feedback at the door: (frequency Hz, seconds) tones on the door speaker."""
        import numpy as np

        samples = []
        for frequency, seconds in tones:
            t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
            samples.append(0.4 * 32767 * np.sin(2 * np.pi * frequency * t))
        wave = np.concatenate(samples).astype(np.int16)
        for i in range(0, len(wave) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            self.speaker.push(mono_frame(wave[i : i + FRAME_SAMPLES], i))

    def _expiring(self, seconds_left: float) -> None:
        self.screen.show(
            ScreenState.NOTICE,
            "Call ends soon",
            f"{int(seconds_left)} s left",
            min(seconds_left, 10.0),
        )
        self._draw()

    def _answered(self, call: Call) -> bool:
        return call is self.call and call.state in (CallState.IN_CALL, CallState.HOLD)

    def _dtmf(self, call: Call, event: DtmfEvent) -> None:
        """A key toward the door code. It counts only from the other party of this answered
        call or from a supervisor holding ``door`` (``dtmf_refusal``); the log names who really
        sent it (a supervisor's extension for session digits) and how."""
        how = f"dtmf-{event.source}"
        who = event.sender or (call.other_party if event.from_other_party else "unknown")
        refusal = dtmf_refusal(
            event.source, event.from_other_party, event.privileges, self._answered(call)
        )
        decision = self.policy.digit(event.key, refusal is None)
        if decision.outcome is Outcome.UNLOCK and decision.relay is not None:
            self._unlock(decision.relay, who, how)
        elif decision.outcome is Outcome.WRONG:
            # The policy has committed the attempt: only now does the door answer.
            self.beep(((300.0, 0.3),))
            self.events.add(
                "wrong_code",
                who=who,
                how=how,
                attempts_left=decision.attempts_left,
                bell=self.bell_of_call,
            )
            self.screen.show(ScreenState.NOTICE, "Wrong code", "", 5)
        elif decision.outcome is Outcome.LOCKED_OUT:
            self.beep(((300.0, 0.3), (200.0, 0.5)))
            self.events.add(
                "lockout",
                who=who,
                how=how,
                bell=self.bell_of_call,
                until=decision.locked_until,
                seconds=round(decision.lockout_seconds),
                started=decision.new_lockout,
            )
            minutes = max(1, round(decision.lockout_seconds / 60))
            self.screen.show(
                ScreenState.NOTICE, "Too many wrong codes", f"Try again in {minutes} min", 10
            )
        elif decision.outcome is Outcome.REFUSED and refusal is not None:
            key = (who, how, refusal)
            if key not in self._refusing:
                self.events.add(
                    "unlock_refused", who=who, how=how, reason=refusal, bell=self.bell_of_call
                )
            if event.key == "#":
                self._refusing.discard(key)  # the next entry is logged again
            else:
                self._refusing.add(key)
        self._draw()

    def _command(self, call: Call, data: dict[str, Any]) -> None:
        who = str(data.get("from", ""))
        if data.get("command") != "unlock":
            return
        if "door" not in data.get("privileges", []) or not self._answered(call):
            self.events.add(
                "unlock_refused",
                who=who,
                how="command",
                reason="no door privilege or no answered call",
            )
            return
        relay = data.get("target") or next(iter(self.relays), "")
        if relay not in self.relays:
            self.events.add("unlock_refused", who=who, how="command", reason="unknown relay")
            return
        self.policy.reset()  # an authorised unlock: wrong codes and lockouts start over
        self._unlock(relay, who, "command")

    def _unlock(self, relay: str, who: str, how: str) -> None:
        self.relays[relay].open()
        self.beep(((880.0, 0.12), (1320.0, 0.2)))
        self.events.add("unlock", relay=relay, who=who, how=how, bell=self.bell_of_call)
        self.screen.show(
            ScreenState.DOOR_OPEN, "Door open", "Please push", self.relays[relay].pulse_seconds
        )
        self._draw()
        call = self.call
        if call is not None and self._hangup_timer is None:
            self._hangup_timer = asyncio.get_running_loop().call_later(
                self.config.calls.hangup_after_unlock, lambda: self._spawn(self._end(call))
            )

    async def _end(self, call: Call) -> None:
        self._hangup_timer = None
        if call.is_active:
            with contextlib.suppress(Exception):
                await call.hangUp()

    def _message(self, call: Call, message: Message) -> None:
        self.events.add(
            "message", who=message.sender, text=str(message)[:200], bell=self.bell_of_call
        )
        self.screen.show(
            ScreenState.MESSAGE, "Message", str(message), self.config.screen.message_seconds
        )
        self._draw()


#: Configuration parts bound to pins, devices or the connection: a reload leaves them running
#: as they are and reports them; a restart applies them. (Bells and relays: only their wiring.)
RESTART_SECTIONS = (
    "station", "bells", "relays", "door_contact", "tamper_pin", "led_pin", "audio", "screen",
)  # fmt: skip


def _hardware(config: StationConfig, name: str) -> Any:
    value = getattr(config, name)
    if name == "bells":
        return [(b.id, b.pin, b.pull_up, b.bounce) for b in value]
    if name == "relays":
        return [r.model_dump(exclude={"codes", "code_hashes"}) for r in value]
    if name == "screen":
        return value.model_dump(exclude={"greeting", "message_seconds"})
    return value


def press_requested_bell(station: Station) -> None:
    """SIGUSR2: press the bell named in ``bell-request`` (written by ``intercom bell N``)."""
    request = station.data_dir / BELL_REQUEST
    try:
        bell = int(request.read_text().strip() or "1")
        request.unlink()
    except (OSError, ValueError):
        bell = 1
    try:
        station.press(bell)
    except ValueError as exc:
        log.warning("%s", exc)


async def serve_station(
    station: Station,
    stop: asyncio.Event,
    on_reload: Callable[[], object] | None = None,
    on_signals: Callable[[], object] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``); SIGHUP reloads, SIGUSR2 presses a bell. Under a
    ``Type=notify`` unit, tells systemd when it is ready, its status, and pings the watchdog.
    ``on_signals`` runs once the signals are handled (an embedded exchange announces its
    process then: before, a SIGHUP would end it)."""
    import signal

    notifier = Notifier()
    station.notifier = notifier
    await station.start()
    loop = asyncio.get_running_loop()
    pid_file = station.data_dir / PID_FILE

    def reload() -> None:
        notifier.reloading()
        try:
            if on_reload is not None:
                on_reload()
            station.reload()
        except Exception as exc:
            log.error("reload refused, configuration unchanged: %s", exc)
        notifier.ready(station.summary())

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR2, lambda: press_requested_bell(station))
    loop.add_signal_handler(signal.SIGHUP, reload)
    pid_file.write_text(str(os.getpid()))  # `intercom bell` and `config set` signal it
    if on_signals is not None:
        on_signals()
    watchdog = asyncio.ensure_future(notifier.watchdog())
    # Ready once the devices are up and the door is locked; the exchange may come later (the
    # status line says so), and a bell pressed meanwhile is answered with "offline".
    notifier.ready(station.summary())
    try:
        await stop.wait()
    finally:
        notifier.stopping()
        watchdog.cancel()
        for sig in (signal.SIGUSR2, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        pid_file.unlink(missing_ok=True)
        await station.stop()
        station.status_file.unlink(missing_ok=True)
        notifier.close()


async def run_station(config_path: Path | str) -> None:
    """``intercom station``; with ``embedded_exchange`` set, the single-door default, the
    exchange runs inside this process too."""
    from intercom.exchange.server import Exchange

    config = load_station_config(config_path)
    exchange = None
    trust = None
    if config.station.embedded_exchange:
        exchange = Exchange.from_file(beside(config_path, config.station.embedded_exchange))
        await exchange.start()
        trust = exchange.certificate.certificate if exchange.certificate else None
    try:
        await serve_station(
            Station(config, config_path, trust=trust),
            asyncio.Event(),
            on_reload=exchange.reload if exchange is not None else None,
            on_signals=exchange.write_pid_file if exchange is not None else None,
        )
    finally:
        if exchange is not None:
            await exchange.stop()


def request_bell(data_dir: Path, bell: int) -> None:
    """``intercom bell N``: ask the station running on ``data_dir`` to press bell N."""
    import os
    import signal

    try:
        pid = int((data_dir / PID_FILE).read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"no station is running on {data_dir}") from None
    (data_dir / BELL_REQUEST).write_text(str(bell))
    os.kill(pid, signal.SIGUSR2)
