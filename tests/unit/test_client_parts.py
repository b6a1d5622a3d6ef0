"""Client pieces that need no exchange: addresses, filters, events, the camera object."""

from __future__ import annotations

import pytest

from intercom.client import OzCamera, server_url
from intercom.client.events import Event
from intercom.client.webclient import history_filters


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("192.168.1.10", "wss://192.168.1.10:7777/"),
        ("door.local:8000", "wss://door.local:8000/"),
        ("[::1]", "wss://[::1]:7777/"),
        ("[::1]:9", "wss://[::1]:9/"),
        ("wss://pbx.example:443/", "wss://pbx.example:443/"),
        ("ws://127.0.0.1", "ws://127.0.0.1:7777/"),
        ("https://pbx.example", "wss://pbx.example:7777/"),
    ],
)
def test_server_address_forms(given: str, url: str) -> None:
    assert server_url(given) == url


@pytest.mark.parametrize("bad", ["", "ftp://x", "a:b:c", "host:port"])
def test_bad_server_addresses(bad: str) -> None:
    with pytest.raises(ValueError):
        server_url(bad)


def test_history_filters_accept_every_spelling() -> None:
    assert history_filters({"PageNumber": 2, "rowsPerPage": 5, "callerId": "100", "From": "x"}) == {
        "page_number": 2,
        "rows_per_page": 5,
        "caller_id": "100",
        "from": "x",
    }
    with pytest.raises(ValueError, match="colour"):
        history_filters({"colour": 1})


def test_event_handlers_subscribe_decorate_and_unsubscribe() -> None:
    event: Event[[int]] = Event("onThing")
    seen: list[tuple[str, int]] = []

    @event
    def first(value: int) -> None:
        seen.append(("first", value))

    second = event(lambda value: seen.append(("second", value)))
    event(lambda value: 1 / 0)  # a failing handler does not stop the others
    event.emit(1)
    second.unsubscribe()
    first(5)  # the decorator left a callable behind
    event.emit(2)
    assert seen == [("first", 1), ("second", 1), ("first", 5), ("first", 2)]
    with pytest.raises(TypeError):
        event(42)  # type: ignore[arg-type]


def test_camera_registry_and_settings() -> None:
    OzCamera.register("test-cam-a")
    OzCamera.register("test-cam-b")
    try:
        names = OzCamera.getNames()
        assert names.index("test-cam-a") < names.index("test-cam-b")
        cam = OzCamera.getCameraByName("test-cam-b")
        assert cam is not None and cam.getName() == "test-cam-b"
        assert OzCamera.getCameraByName("absent") is None
        assert OzCamera.getCameraByIndex(len(names)) is None
        cam.setMode(1280, 720, 25)
        assert (cam.getWidth(), cam.getHeight(), cam.getFps()) == (1280, 720, 25)
        cam.setQuality(500_000, 0)
        assert (cam.bandwidth, cam.quality) == (500_000, 0)
        with pytest.raises(ValueError):
            cam.setQuality(0, 101)
        with pytest.raises(ValueError):
            cam.setMode(0, 720, 25)
    finally:
        OzCamera.unregister("test-cam-a")
        OzCamera.unregister("test-cam-b")
