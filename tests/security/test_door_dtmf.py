"""Who may put digits toward the door code: the party of the door's own answered call, or a
client holding the ``door`` privilege, and nobody else, whichever way the digits travel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from gpiozero.pins.mock import MockFactory

from intercom.client import CallState, DtmfEvent, OzWebClient, Session
from intercom.exchange.server import Exchange
from intercom.media.callmedia import MediaOptions
from intercom.media.camera import SyntheticCamera
from intercom.media.video import CameraMode
from intercom.station.app import Station
from intercom.station.config import load_station_config
from tests.conftest import PASSWORD, Recorder, directory_config
from tests.station.test_station import answered, station_config

pytestmark = pytest.mark.integration

DOOR = 27  # the station's lock relay pin


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[Exchange]:
    """The test directory plus 901: a night watch that may monitor and modify sessions, but
    holds no ``door`` privilege."""
    config = directory_config()
    config["extensions"].append({
        "number": "901", "type": "webphone", "display_name": "Night watch",
        "password": PASSWORD.format("901"), "privileges": ["call", "monitor", "modify"],
    })  # fmt: skip
    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(config))
    ex = Exchange.from_file(path)
    await ex.start()
    yield ex
    await ex.stop()


@pytest.fixture
async def station(exchange: Exchange, tmp_path: Path) -> AsyncIterator[tuple[Station, MockFactory]]:
    pins = MockFactory()
    s = Station(
        load_station_config(station_config(tmp_path, exchange.port)),
        tmp_path / "station.toml",
        pin_factory=pins,
        camera=SyntheticCamera(CameraMode(320, 240, 15), encoded=True),
    )
    await s.start()
    await s.wait_until(s.online.is_set)
    yield s, pins
    await s.stop()


async def connect(exchange: Exchange, number: str, media: bool = False) -> OzWebClient:
    client = OzWebClient(media=MediaOptions() if media else False)
    await client.connect(exchange.url, number, password=PASSWORD.format(number))
    return client



def events(s: Station, kind: str) -> list[dict[str, Any]]:
    return [e for e in s.events.since() if e["kind"] == kind]


async def test_a_supervisor_without_the_door_privilege_cannot_enter_the_code(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    s, pins = station
    watch = await connect(exchange, "901")
    flat = await connect(exchange, "201")
    try:
        created = Recorder(watch.onSessionCreated)
        call = await answered(s, flat)
        session: Session = await created.wait_for(lambda x: True)
        assert s.call is not None
        seen = Recorder(s.call.onDtmfReceived)
        for key in "1234#":
            await session.sendDtmf(key, "100")
        await seen.wait_for(lambda d: d.key == "#")
        assert pins.pin(DOOR).state is False
        assert events(s, "unlock") == [] and events(s, "wrong_code") == []
        (refused,) = events(s, "unlock_refused")
        assert (refused["who"], refused["how"]) == ("901", "dtmf-session")
        assert "door" in refused["reason"]
        # Refused digits neither count nor reset: the resident's "12" + the watch's "*#" +
        # the resident's "34#" is the resident's 1234#.
        await call.send_dtmf("12")
        await seen.wait_for(lambda d: d.key == "2")
        await session.sendDtmf("*", "100")
        await session.sendDtmf("#", "100")
        await seen.wait_for(lambda d: d.key == "*")
        await call.send_dtmf("34#")
        await s.wait_until(lambda: pins.pin(DOOR).state is True)
        (unlock,) = events(s, "unlock")
        assert (unlock["who"], unlock["how"]) == ("201", "dtmf-signalling")
    finally:
        await watch.disconnect()
        await flat.disconnect()


async def test_a_supervisor_with_the_door_privilege_may_and_is_named(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    s, pins = station
    concierge = await connect(exchange, "900")
    flat = await connect(exchange, "201")
    try:
        created = Recorder(concierge.onSessionCreated)
        await answered(s, flat)
        session: Session = await created.wait_for(lambda x: True)
        for key in "1234#":
            await session.sendDtmf(key, "100")
        await s.wait_until(lambda: pins.pin(DOOR).state is True)
        (unlock,) = events(s, "unlock")
        assert (unlock["who"], unlock["how"]) == ("900", "dtmf-session")  # not the resident
    finally:
        await concierge.disconnect()
        await flat.disconnect()


async def test_media_digits_count_only_from_the_other_partys_peer(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    """Digits as the client reports them from a listener's peer connection (or any peer that
    is not the answered party's) are refused and logged; from the answered party they count."""
    s, pins = station
    flat = await connect(exchange, "201")
    try:
        await answered(s, flat)
        call = s.call
        assert call is not None
        for key in "1234#":
            call.on_dtmf_received.emit(
                DtmfEvent(key, "rtp", "listener:7", frozenset(), from_other_party=False)
            )
        assert pins.pin(DOOR).state is False
        (refused,) = events(s, "unlock_refused")
        assert (refused["who"], refused["how"]) == ("listener:7", "dtmf-rtp")
        assert events(s, "wrong_code") == []
        for key in "1234#":
            call.on_dtmf_received.emit(
                DtmfEvent(key, "inband", "201", frozenset({"call"}), from_other_party=True)
            )
        await s.wait_until(lambda: pins.pin(DOOR).state is True)
        (unlock,) = events(s, "unlock")
        assert (unlock["who"], unlock["how"]) == ("201", "dtmf-inband")
    finally:
        await flat.disconnect()


async def test_rtp_digits_from_the_answering_resident_open(
    exchange: Exchange, station: tuple[Station, MockFactory]
) -> None:
    """End to end: the resident's RFC 4733 digits come on the peer connection of the leg the
    exchange names as the other party, so they count."""
    s, pins = station
    flat = await connect(exchange, "201", media=True)
    try:
        call = await answered(s, flat)
        assert s.call is not None
        await s.wait_until(lambda: s.call is not None and s.call.other_leg == call.call_id)
        await call.send_dtmf("1234#", method="rtp")
        await s.wait_until(lambda: pins.pin(DOOR).state is True, timeout=15)
        (unlock,) = events(s, "unlock")
        assert (unlock["who"], unlock["how"]) == ("201", "dtmf-rtp")
        await call.wait_for(CallState.COMPLETED)
    finally:
        await flat.disconnect()
