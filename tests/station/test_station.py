"""The station end to end on simulated pins: bell -> video call -> answer -> unlock."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from gpiozero.pins.mock import MockFactory

from intercom.client import Call, CallState, OzError, OzWebClient
from intercom.devices.screen import PngScreen
from intercom.exchange.server import Exchange
from intercom.media.audio import CountingAudioSink
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.video import CameraMode
from intercom.station.app import Station
from intercom.station.changes import STATUS_PARTS, Change
from intercom.station.config import load_station_config
from intercom.station.screen import ScreenState
from tests.conftest import PASSWORD, Recorder

pytestmark = pytest.mark.integration


def station_config(
    tmp_path: Path, port: int, screen: dict[str, Any] | None = None, **calls: Any
) -> Path:
    data = {
        "station": {
            "name": "Front door",
            "extension": "100",
            "password": PASSWORD.format("100"),
            "exchange": f"ws://127.0.0.1:{port}",
            "simulated": True,
            "data_dir": str(tmp_path / "station"),
            "camera": "none",
        },
        "bells": [
            {"id": 1, "pin": 17, "target": "201"},
            {"id": 2, "pin": 18, "target": "555"},
            {"id": 3, "pin": 19, "target": "202", "fallback_target": "201"},
            {"id": 4, "pin": 20, "target": "201", "press_in_call": "hangup"},
        ],
        "door_contact": {"pin": 5, "relay": "door", "open_too_long": 0.5},
        "tamper_pin": 6,
        "led_pin": 4,
        "relays": [{"name": "door", "pin": 27, "pulse": 1.0, "codes": ["1234"]}],
        "calls": {"hangup_after_unlock": 0.3, **calls},
        "unlock": {"max_wrong": 2, "lockout": 60},
        "screen": screen or {},
    }
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.fixture
async def exchange(config_path: Any) -> AsyncIterator[Exchange]:
    """The station tests' exchange: a short ring timeout, so "no answer" comes quickly."""
    ex = Exchange.from_file(config_path(ring_timeout=1.0, call_warning=1.0))
    await ex.start()
    yield ex
    await ex.stop()


@pytest.fixture
async def station(exchange: Exchange, tmp_path: Path) -> AsyncIterator[tuple[Station, MockFactory]]:
    pins = MockFactory()
    camera = SyntheticCamera(CameraMode(320, 240, 15), encoded=True)
    s = Station(
        load_station_config(station_config(tmp_path, exchange.port)),
        tmp_path / "station.toml",
        pin_factory=pins,
        camera=camera,
    )
    await s.start()
    await s.wait_until(s.online.is_set)
    yield s, pins
    await s.stop()


def logged(s: Station, kind: str, count: int = 1) -> Callable[[], bool]:
    """A condition for ``wait_until``: ``count`` events of ``kind`` in the station's log."""
    return lambda: sum(e["kind"] == kind for e in s.events.since()) >= count


async def answered(s: Station, flat: OzWebClient) -> Call:
    """The visitor rings bell 1 and the resident answers; once the door's screen shows it."""
    incoming = Recorder(flat.onIncomingCall)
    s.press(1)
    call: Call = await incoming.wait_for(lambda c: True)
    await call.accept()
    await s.wait_until(lambda: s.screen.state is ScreenState.IN_CALL)
    return call


async def resident(exchange: Exchange) -> OzWebClient:
    client = OzWebClient(media=MediaOptions())
    await client.connect(exchange.url, "201", password=PASSWORD.format("201"))
    return client


async def test_bell_call_answer_code_unlock_hangup(exchange: Exchange, station: Any) -> None:
    s, pins = station
    flat = await resident(exchange)
    try:
        incoming = Recorder(flat.onIncomingCall)
        assert pins.pin(27).state is False  # locked at start
        pins.pin(17).drive_low()  # the visitor presses bell 1
        inc: Call = await incoming.wait_for(lambda c: True)
        assert inc.getOtherParty() == "100"
        assert s.screen.state is ScreenState.CALLING
        await inc.accept()
        await s.wait_until(lambda: s.screen.state is ScreenState.IN_CALL)
        await inc.sendMessage("I'm coming")
        await s.wait_until(lambda: s.screen.state is ScreenState.MESSAGE)
        assert "I'm coming" in s.screen.lines()
        assert isinstance(s.speaker, CountingAudioSink)
        beeps_before = s.speaker.loud_frames  # the resident's simulated microphone is silent
        await inc.send_dtmf("1234#")
        await s.wait_until(lambda: pins.pin(27).state is True)  # the strike is energised
        assert s.speaker.loud_frames > beeps_before  # and the door beeps
        await inc.wait_for(CallState.COMPLETED)  # the station hangs up after the unlock
        await s.wait_until(lambda: pins.pin(27).state is False, timeout=3)  # 1 s pulse
        kinds = [e["kind"] for e in s.events.since()]
        assert kinds[:4] == ["start", "online", "bell", "call_answered"]
        unlock = next(e for e in s.events.since() if e["kind"] == "unlock")
        assert (unlock["relay"], unlock["who"], unlock["how"]) == ("door", "201", "dtmf-signalling")
        assert "call_ended" in kinds
        assert isinstance(s.renderer, PngScreen) and s.renderer.path.exists()
    finally:
        await flat.disconnect()


async def test_wrong_codes_lock_out_and_command_needs_privilege(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    s, pins = station
    flat = await resident(exchange)
    try:
        incoming = Recorder(flat.onIncomingCall)
        s.press(1)
        inc: Call = await incoming.wait_for(lambda c: True)
        with pytest.raises(OzError):  # not answered yet: the exchange refuses digits and unlock
            await inc.send_dtmf("1234#")
        with pytest.raises(OzError):
            await inc.unlock()
        await inc.accept()
        await s.wait_until(lambda: s.screen.state is ScreenState.IN_CALL)
        await inc.send_dtmf("1111#")
        await inc.send_dtmf("2222#")
        await s.wait_until(logged(s, "lockout"))
        await inc.send_dtmf("1234#")  # right code, but locked out
        await s.wait_until(logged(s, "lockout", 2))
        assert pins.pin(27).state is False
        # 201 holds the door privilege: the unlock command works.
        await inc.unlock()
        await s.wait_until(lambda: pins.pin(27).state is True)
        unlock = next(e for e in s.events.since() if e["kind"] == "unlock")
        assert unlock["how"] == "command" and unlock["who"] == "201"
    finally:
        await flat.disconnect()


async def test_unlock_command_without_door_privilege_is_refused(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    s, pins = station
    flat3 = OzWebClient(media=MediaOptions())
    await flat3.connect(exchange.url, "203", password=PASSWORD.format("203"))
    try:
        # 203 calls the door station directly, and the station answers nothing: use the
        # station's own client to accept, as a door-side test harness would.
        incoming = Recorder(s.client.onIncomingCall)
        call = flat3.createCall("100")
        await call.start()
        at_door: Call = await incoming.wait_for(lambda c: True)
        await at_door.accept()
        await call.wait_for(CallState.IN_CALL)
        with pytest.raises(OzError) as info:
            await call.unlock()
        assert info.value.code == 306
        assert pins.pin(27).state is False
    finally:
        await flat3.disconnect()


async def test_offline_bell_press_is_shown_and_logged(exchange: Exchange, station: Any) -> None:
    s, pins = station
    await exchange.stop()
    await s.wait_until(lambda: not s.online.is_set())
    pins.pin(17).drive_low()
    await s.wait_until(lambda: s.screen.state is ScreenState.NOTICE)
    assert s.screen.title == "Offline"
    assert [e["kind"] for e in s.events.since()][-2:] == ["bell", "offline"]


async def test_each_outcome_has_its_own_notice_and_log(exchange: Exchange, station: Any) -> None:
    s, pins = station
    flat1 = await resident(exchange)
    try:
        # unknown target
        s.press(2)
        await s.wait_until(lambda: s.screen.title == "Not available")
        # a busy resident: 201 is in a call with 203
        other = OzWebClient(media=False)
        await other.connect(exchange.url, "203", password=PASSWORD.format("203"))
        incoming = Recorder(flat1.onIncomingCall)
        busy_call = other.createCall("201")
        await busy_call.start()
        await (await incoming.wait_for(lambda c: True)).accept()
        await busy_call.wait_for(CallState.IN_CALL)
        s.press(1)
        await s.wait_until(lambda: s.screen.title == "Busy - please try later")
        await busy_call.hangUp()
        await other.disconnect()
        # nobody answers at 202... (offline) -> "Nobody is home"; bell 3 falls back only on
        # no answer, so ring 201 and let it time out: no fallback configured on bell 1.
        s.press(1)
        await s.wait_until(lambda: s.screen.title == "No answer", timeout=5)
        ended = [e for e in s.events.since() if e["kind"] == "call_ended"]
        assert [e["cause"] for e in ended] == ["unknown_number", "busy", "no_answer"]
    finally:
        await flat1.disconnect()


async def test_no_answer_falls_back(exchange: Exchange, station: Any) -> None:
    s, pins = station
    flat1 = await resident(exchange)
    flat2 = OzWebClient(media=False)
    await flat2.connect(exchange.url, "202", password=PASSWORD.format("202"))
    try:
        first = Recorder(flat2.onIncomingCall)
        fallback = Recorder(flat1.onIncomingCall)
        s.press(3)  # 202 first, 201 if nobody answers
        await first.wait_for(lambda c: True)
        call: Call = await fallback.wait_for(lambda c: True, timeout=5)
        await call.accept()
        await s.wait_until(lambda: s.screen.state is ScreenState.IN_CALL)
        assert s.led is not None and s.led.mode.value == "in_call" and s.led.is_lit
    finally:
        await flat1.disconnect()
        await flat2.disconnect()


async def test_ring_snapshot_is_linked_to_the_bell_event(exchange: Exchange, station: Any) -> None:
    s, pins = station
    flat = await resident(exchange)
    try:
        s.press(1)
        await s.wait_until(lambda: any(e.get("snapshot") for e in s.events.since()))
        bell = next(e for e in s.events.since() if e["kind"] == "bell")
        picture = Path(bell["snapshot"])
        assert picture.exists() and picture.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    finally:
        await flat.disconnect()


async def test_relay_is_off_after_a_crash_and_restart(exchange: Exchange, tmp_path: Path) -> None:
    pins = MockFactory()
    config = load_station_config(station_config(tmp_path, exchange.port))
    crashed = Station(config, tmp_path / "station.toml", pin_factory=pins)
    await crashed.start()
    crashed.relays["door"].open()
    assert pins.pin(27).state is True
    # The process dies here: no stop(). The pin keeps its level until the next start...
    # (the OS frees every line when the process goes, leaving the levels as they were)
    for relay in crashed.relays.values():
        relay._out.close()
    for device in [*crashed.bells.values(), crashed.led, crashed.door_contact, crashed.tamper]:
        if device is not None:
            device.close()
    restarted = Station(config, tmp_path / "station.toml", pin_factory=pins)
    await restarted.start()
    assert pins.pin(27).state is False  # ...which switches it off before anything else
    assert [e["kind"] for e in restarted.events.since()].count("start") == 2
    await restarted.stop()
    await crashed.client.disconnect()


async def test_pressing_during_a_call_ignores_or_hangs_up(exchange: Exchange, station: Any) -> None:
    s, pins = station
    flat = await resident(exchange)
    try:
        incoming = Recorder(flat.onIncomingCall)
        inc = await answered(s, flat)
        s.press(1)  # "ignore": logged, nothing else
        # The barrier: what the press started is done (a hang-up would have been acknowledged
        # by the exchange), and the resident's next message still reaches the door through
        # this call (the exchange refuses one on an ended call, and any end reaches the
        # resident before the answer to the message).
        await s.settled()
        await inc.sendMessage("Still there?")
        await s.wait_until(lambda: s.screen.state is ScreenState.MESSAGE)
        assert inc.getCallState() is CallState.IN_CALL
        assert s.call is not None and s.call.is_active
        s.press(4)  # "hangup"
        await inc.wait_for(CallState.COMPLETED)
        bells = [e["bell"] for e in s.events.since() if e["kind"] == "bell"]
        assert bells == [1, 1, 4]
        assert len(incoming.items) == 1
    finally:
        await flat.disconnect()


async def test_door_contact_and_tamper_are_logged(exchange: Exchange, station: Any) -> None:
    s, pins = station
    pins.pin(6).drive_low()  # the front is on
    s.relays["door"].open()
    pins.pin(5).drive_low()  # the door opens: the pulse ends early
    await s.wait_until(lambda: pins.pin(27).state is False)
    await s.wait_until(logged(s, "door_open_too_long"))
    pins.pin(5).drive_high()
    pins.pin(6).drive_high()  # somebody takes the front off
    await s.wait_until(logged(s, "tamper"))
    kinds = [e["kind"] for e in s.events.since()]
    assert (
        kinds.index("door_opened") < kinds.index("door_open_too_long") < kinds.index("door_closed")
    )


async def test_station_comes_back_online_with_the_exchange(
    exchange: Exchange, station: Any, config_path: Any
) -> None:
    s, pins = station
    port = exchange.port
    await exchange.stop()
    await s.wait_until(lambda: not s.online.is_set())
    assert s.screen.state is ScreenState.OFFLINE
    again = Exchange.from_file(config_path(ring_timeout=1.0), port=port)
    await again.start()
    try:
        await s.wait_until(s.online.is_set)
        assert s.screen.state is ScreenState.IDLE
        kinds = [e["kind"] for e in s.events.since()]
        assert kinds[-2:] == ["offline", "online"]
    finally:
        await again.stop()


async def test_calls_from_the_door_are_limited_and_can_be_extended(
    exchange: Exchange, station: Any
) -> None:
    s, pins = station
    s.max_call = 2.0  # (120 s in the field)
    flat = await resident(exchange)
    try:
        incoming = Recorder(flat.onIncomingCall)
        s.press(1)
        inc: Call = await incoming.wait_for(lambda c: True)
        warned = Recorder(inc.on_call_expiring)
        await inc.accept()
        await warned.wait_for(lambda left: left <= 1.0)  # the resident is warned...
        await s.wait_until(lambda: s.screen.title == "Call ends soon")  # ...and the door too
        assert await inc.extend(2) > 2.0
        await inc.wait_for(CallState.COMPLETED, timeout=10)
        assert inc.end_cause is not None and inc.end_cause.value == "max_duration"
        ended = [e for e in s.events.since() if e["kind"] == "call_ended"][-1]
        assert ended["cause"] == "max_duration"
    finally:
        await flat.disconnect()


async def test_the_residents_video_on_a_large_screen(exchange: Exchange, tmp_path: Path) -> None:
    from intercom.client import OzCamera

    pins = MockFactory()
    path = station_config(tmp_path, exchange.port, screen={"width": 320, "height": 240})
    s = Station(load_station_config(path), path, pin_factory=pins)
    await s.start()
    camera = SyntheticCamera(CameraMode(320, 240, 15), encoded=True)
    OzCamera.register("resident-camera", camera, camera.mode)
    flat = await resident(exchange)
    try:
        await s.wait_until(s.online.is_set)
        incoming = Recorder(flat.onIncomingCall)
        s.press(1)
        inc: Call = await incoming.wait_for(lambda c: True)
        inc.attachCamera(OzCamera.getCameraByName("resident-camera"))
        await inc.accept()
        await s.wait_until(lambda: s.video_frames_shown >= 3)
        assert isinstance(s.renderer, PngScreen)
        from PIL import Image

        assert Image.open(s.renderer.path).size == (320, 240)
    finally:
        await flat.disconnect()
        OzCamera.unregister("resident-camera")
        camera.close()
        await s.stop()


async def test_stopping_reads_no_closed_device(
    exchange: Exchange, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping disconnects, which changes the screen; nothing may read the closed devices."""
    s = Station(
        load_station_config(station_config(tmp_path, exchange.port)),
        tmp_path / "station.toml",
        pin_factory=MockFactory(),
    )
    await s.start()
    await s.wait_until(s.online.is_set)
    assert s.status()["online"] is True and s.status()["relays"] == {"door": False}
    with caplog.at_level(logging.WARNING):
        await s.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_status_file_follows_the_relay(exchange: Exchange, station: Any) -> None:
    s, pins = station

    def relays() -> dict[str, bool]:
        return dict(json.loads(s.status_file.read_text())["relays"])

    await s.wait_until(lambda: s.status_file.exists() and relays() == {"door": False})
    s.relays["door"].open()
    await s.wait_until(lambda: relays() == {"door": True})
    pins.pin(5).drive_low()  # the door opens: the pulse ends early
    await s.wait_until(lambda: relays() == {"door": False})


async def test_the_station_announces_what_changed_and_the_status_file_follows(
    exchange: Exchange, station: Any
) -> None:
    s, pins = station
    changes: list[Change] = []
    written: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def follow(change: Change) -> None:
        changes.append(change)
        if change.state.keys() & STATUS_PARTS:  # the writer, subscribed first, has written
            on_file = json.loads(s.status_file.read_text())
            on_file.pop("at")
            written.append((on_file, s.status()))  # (a handler's assert would be only logged)

    s.on_changed(follow)
    flat = await resident(exchange)
    try:
        inc = await answered(s, flat)
        await inc.send_dtmf("1234#")
        await inc.wait_for(CallState.COMPLETED)
        await s.wait_until(lambda: not s.relays["door"].is_open, timeout=3)
        await s.settled()  # the visitor's picture is saved too
    finally:
        await flat.disconnect()

    def values(part: str) -> list[Any]:
        return [c.state[part] for c in changes if part in c]

    calls = [None if v is None else v.state for v in values("call")]
    assert calls[0] == "RINGING" and "IN_CALL" in calls and calls[-1] is None
    screens = [v.state for v in values("screen")]
    for state in (ScreenState.CALLING, ScreenState.IN_CALL, ScreenState.DOOR_OPEN):
        assert state in screens
    assert values("relays") == [{"door": True}, {"door": False}]
    events = [c.event for c in changes if c.event is not None]
    added = [e["kind"] for e in events if "snapshot" not in e]
    assert [k for k in added if k in ("bell", "call_answered", "unlock", "call_ended")] == [
        "bell", "call_answered", "unlock", "call_ended",
    ]  # fmt: skip
    (linked,) = [e for e in events if "snapshot" in e]  # the visitor's picture, once taken
    assert linked["kind"] == "bell" and Path(linked["snapshot"]).exists()
    # Each announced status reached the file at once: the relay's pulse too.
    assert len(written) == sum(bool(c.state.keys() & STATUS_PARTS) for c in changes)
    assert all(on_file == status for on_file, status in written)  # at each change
    assert {"door": True} in [on_file["relays"] for on_file, _ in written]
