"""The door station: bells in, a video call out, the lock opened only for the right people.

``Station`` composes the rooms that do the work and wires them together:

- ``hardware``: the devices, made from configuration by their factories;
- ``connection``: the link to the exchange;
- ``callflow``: the call from the door (targets, fallback, answered, ended, messages);
- ``door``: codes and unlock commands, the relay, the door's tones, hanging up after;
- ``panel``: the screen and LED; ``snapshots``: a picture at each ring;
- ``reporter``: the status file and systemd's status line; ``reloader``: SIGHUP;
- ``changes``: what changed, announced to the panel, the reporter, tests and integrations.

The service around it (signals, systemd) is ``service.serve_station``; an exchange embedded in
the same process is the appliance's business (``intercom.appliance``), never the station's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from gpiozero import Factory

from intercom.client import Call, OzWebClient
from intercom.configfile import beside
from intercom.devices.inputs import Bell, Tamper
from intercom.devices.led import StatusLed
from intercom.devices.lock import DoorContact, LockRelay
from intercom.devices.screen import Screen
from intercom.media.audio import AudioSink
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import CameraSource
from intercom.systemd import Notifier

from .callflow import CallFlow
from .changes import Change, ChangeFeed, ChangeSubscription
from .config import StationConfig, data_dir_of, load_station_config, warnings
from .connection import ExchangeLink
from .door import DoorActions
from .events import EventLog, EventStore
from .hardware import CAMERA_NAME, Hardware, media_options
from .panel import Panel
from .paths import status_file
from .reloader import reconcile
from .reporter import StatusReporter, summary
from .screen import ScreenModel, ScreenState
from .snapshots import Snapshots
from .unlock import UnlockPolicy

log = logging.getLogger(__name__)


class Station:
    """One door station. ``pin_factory``, ``media`` and ``camera`` replace what configuration
    would choose; ``trust`` is the exchange's certificate (else ``exchange_certificate``)."""

    def __init__(
        self,
        config: StationConfig,
        config_path: Path | str,
        *,
        pin_factory: Factory | None = None,
        media: MediaOptions | None = None,
        camera: CameraSource | None = None,
        trust: Path | None = None,
        events: Callable[[Path], EventStore] = EventLog,
    ) -> None:
        """``events``: makes the event log from its file's path (the seam ``EventStore``);
        by default SQLite in the data directory."""
        self._make_events = events
        self.config = config
        self.config_path = Path(config_path)
        self.data_dir = data_dir_of(config, config_path)
        options = media or media_options(config)
        # One door speaker for every call and for the station's own feedback tones.
        self.speaker: AudioSink = options.speaker()
        certificate = config.station.exchange_certificate
        if trust is None and certificate:
            trust = beside(config_path, certificate)
        self.client = OzWebClient(
            media=dataclasses.replace(options, speaker=lambda: self.speaker), trust=trust
        )
        self.events: EventStore
        self._tasks: set[asyncio.Task[Any]] = set()  # work that ends: rings, hang-ups...
        self._background: list[asyncio.Future[Any]] = []
        self._stopping = False
        self.changes = ChangeFeed(self._observe)
        self.hardware = Hardware(pin_factory, camera)
        self.screen = ScreenModel(greeting=config.screen.greeting)
        self.link = ExchangeLink(
            self.client, lambda: self.config.station, self.screen, self._log, self.commit
        )
        self.flow = CallFlow(
            lambda: self.config,
            self.client,
            self.link.online,
            self.screen,
            self._log,
            self.commit,
            self._spawn,
        )
        self.door = DoorActions(
            config,
            self.data_dir / "unlock.db",
            self.hardware,
            self.speaker,
            self.screen,
            self._log,
            self.commit,
            self._spawn,
        )
        self.panel = Panel(
            self.screen,
            self.hardware,
            lambda: self.config.screen.video_fps,
            lambda frames: self.changes.announce(video_frames=frames),
        )
        self.snapshots = Snapshots(
            self.data_dir / "snapshots", CAMERA_NAME, lambda: self.config.snapshots
        )
        self.reporter = StatusReporter(status_file(self.data_dir), self.status)
        self.flow.when_pressed = lambda _bell, event_id: self._spawn(
            self.snapshots.take(event_id, self._link_snapshot)
        )
        self.flow.when_call_started = self.door.follow
        self.flow.when_call_ended = self.door.call_ended
        self.changes.on_changed(self.panel.follow)
        self.changes.on_changed(self.reporter.follow)

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        cfg = self.config
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.events = self._make_events(self.data_dir / "events.db")
        hw = self.hardware
        hw.open(cfg, self.data_dir)
        for relay in hw.relays.values():
            # The status follows the strike itself (a pulse ends on time or when the door opens).
            relay.when_changed = lambda _opened: self.commit()
        for bell in hw.bells.values():
            bell.when_pressed = self.press
        if hw.door_contact is not None:
            hw.door_contact.when_opened = lambda: self._sensed("door_opened")
            hw.door_contact.when_closed = lambda: self._sensed("door_closed")
            hw.door_contact.when_open_too_long = lambda: self._sensed("door_open_too_long")
        if hw.tamper is not None:
            hw.tamper.when_tampered = lambda: self._sensed("tamper")
        self.panel.open(cfg.screen.show_video)
        self.flow.display = self.panel.display
        for warning in warnings(cfg):
            log.warning("%s: %s", self.config_path, warning)
        self._log("start")
        self.screen.show(ScreenState.OFFLINE, "Connecting...")
        self.commit()
        # Background work that lasts (``settled`` does not wait for it): the connection's
        # retries until the exchange answers, and the screen's timers.
        self._background = [
            asyncio.ensure_future(self.link.connect()),
            asyncio.ensure_future(self.panel.refresh(self.commit)),
        ]

    async def stop(self) -> None:
        self._stopping = True  # devices close below: nothing reads them for the status anymore
        self.reporter.stop()
        self.hardware.lock()  # the door is locked whatever happens next
        for task in [*self._background, *self._tasks]:
            task.cancel()
        await self.client.disconnect()
        self.panel.close()
        self.hardware.close()
        self._log("stop")
        self.changes.close()
        self.events.close()
        self.door.close()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self, timeout: float = 10.0) -> None:
        """Until the work the station has started is done (calls placed, hang-ups sent and
        acknowledged, snapshots saved), and what that work started in turn: a barrier for
        scripts and tests, after which the exchange has heard all of it. (A hang-up timed to
        follow an unlock is work only once its time comes.)"""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    # --------------------------------------------------------------- changes

    def commit(self) -> None:
        """Announce what the parts changed (they call this once their change is complete)."""
        self.changes.commit()

    def on_changed(self, handler: Callable[[Change], object]) -> ChangeSubscription:
        """Call ``handler(change)`` whenever the station's state changes or it logs an event."""
        return self.changes.on_changed(handler)

    async def wait_until(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        """Until ``predicate()`` holds, now or at one of the station's changes."""
        await self.changes.wait_until(predicate, timeout)

    def _observe(self) -> Mapping[str, Any]:
        contact = self.hardware.door_contact
        return {
            "online": self.online.is_set(),
            "screen": self.screen.shown(),
            "call": self.flow.view(),
            # Closed relays are off: once stopping, they are not read (their pins are gone).
            "relays": {
                name: not self._stopping and relay.is_open
                for name, relay in self.hardware.relays.items()
            },
            "door_open": None if contact is None or self._stopping else contact.is_open,
            "lockout": self.door.policy.lockout_until(),
        }

    def _log(self, kind: str, /, **detail: Any) -> int:
        event_id = self.events.add(kind, **detail)
        self.changes.logged({"id": event_id, "kind": kind, **detail})
        return event_id

    def _link_snapshot(self, event_id: int, path: str) -> None:
        self.events.link_snapshot(event_id, path)
        self.changes.logged({"id": event_id, "kind": "bell", "snapshot": path})

    def _sensed(self, kind: str) -> None:
        """A sensor's event: logged, and the door's state announced (open, closed)."""
        self._log(kind)
        self.commit()

    # ---------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        now = self._observe()
        call, locked_until = now["call"], now["lockout"]
        return {
            "name": self.config.station.name,
            "extension": self.config.station.extension,
            "exchange": self.config.station.exchange,
            "online": now["online"],
            # Failed tries at reaching the exchange the first time, while it retries.
            "connect_attempts": self.link.attempt,
            "screen": now["screen"].state.value,
            "call": None
            if call is None
            else {"state": call.state, "other_party": call.other_party, "bell": call.bell},
            "relays": now["relays"],
            "door_open": now["door_open"],
            "lockout": None if locked_until is None else {"until": locked_until},
            "pid": os.getpid(),
        }

    def summary(self) -> str:
        """One line for systemd's STATUS= (shown by ``systemctl status``)."""
        return summary(self.status())

    # ---------------------------------------------------------------- reload

    def reload(self) -> list[str]:
        """Re-read the configuration file (SIGHUP, ``systemctl reload``).

        Bell targets, door codes, call and unlock settings and screen texts apply at once. Parts
        bound to hardware or to the connection (``reloader.RESTART_SECTIONS``) keep their
        running values and are returned, to be applied by a restart. A file that does not
        validate changes nothing and raises."""
        new = load_station_config(self.config_path)
        self.config, restart = reconcile(self.config, new)
        self.door.reconfigure(new)
        self.flow.max_call = new.calls.max_call
        self.screen.set_greeting(new.screen.greeting)
        self._log("config_reloaded", restart_needed=restart)
        if restart:
            log.warning("configuration reloaded; restart to apply: %s", ", ".join(restart))
        else:
            log.info("configuration reloaded")
        self.commit()
        return restart

    # ---------------------------------------------------------------- bells

    def press(self, bell_id: int = 1) -> None:
        """Bell ``bell_id`` pressed (its button, ``intercom bell``, or a test)."""
        self.flow.press(bell_id)

    # ------------------------------------------------------- the parts' state

    @property
    def online(self) -> asyncio.Event:
        return self.link.online

    @property
    def idle(self) -> asyncio.Event:
        """Set while no call of the station's is in progress."""
        return self.flow.idle

    @property
    def call(self) -> Call | None:
        return self.flow.call

    @property
    def bell_of_call(self) -> int | None:
        return self.flow.bell_of_call

    @property
    def max_call(self) -> float:
        return self.flow.max_call

    @max_call.setter
    def max_call(self, seconds: float) -> None:
        self.flow.max_call = seconds

    @property
    def policy(self) -> UnlockPolicy:
        return self.door.policy

    @property
    def relays(self) -> dict[str, LockRelay]:
        return self.hardware.relays

    @property
    def bells(self) -> dict[int, Bell]:
        return self.hardware.bells

    @property
    def door_contact(self) -> DoorContact | None:
        return self.hardware.door_contact

    @property
    def tamper(self) -> Tamper | None:
        return self.hardware.tamper

    @property
    def led(self) -> StatusLed | None:
        return self.hardware.led

    @property
    def renderer(self) -> Screen | None:
        return self.hardware.screen

    @property
    def video_frames_shown(self) -> int:
        return self.panel.video_frames_shown

    @property
    def status_file(self) -> Path:
        """What ``intercom status`` reads."""
        return self.reporter.path

    @property
    def notifier(self) -> Notifier | None:
        return self.reporter.notifier

    @notifier.setter
    def notifier(self, notifier: Notifier | None) -> None:
        self.reporter.notifier = notifier
