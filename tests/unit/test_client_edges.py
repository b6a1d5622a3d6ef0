"""The Python API's edges match the browser library's, and its objects need only narrow
interfaces from the connection: enums exported, event arguments, Call and Helper on fakes."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import intercom.client
from intercom.client import Call, CallState, CallType, EndCause, Extension, Helper
from intercom.client.events import Event

WEB = Path(intercom.client.__file__).parent.parent / "web"


def browser_enums() -> dict[str, set[str]]:
    """The enums of the browser library, each declared as ``[export] var Name = freeze([...])``
    in one of its sources (read wherever in intercom/web they are, one file or several)."""
    enums: dict[str, set[str]] = {}
    for source in sorted(WEB.rglob("*.js")):
        declared = re.findall(
            r"(?:export\s+)?var (\w+) = freeze\(\[(.*?)\]\)", source.read_text(), re.S
        )
        for name, values in declared:
            enums[name] = set(re.findall(r'"(\w+)"', values))
    return enums


def test_every_enum_of_the_browser_library_is_exported_with_the_same_members() -> None:
    enums = browser_enums()
    assert "ClientStatus" in enums  # the parse found the table it reads
    for name, values in enums.items():
        assert name in intercom.client.__all__, f"intercom.client does not export {name}"
        exported = getattr(intercom.client, name)
        assert issubclass(exported, enum.Enum)
        assert {member.value for member in exported} == values, name


def test_handlers_get_as_many_leading_arguments_as_they_take() -> None:
    event: Event[[str, int]] = Event("onPair")
    seen: list[tuple[Any, ...]] = []

    class Recorder:
        def one(self, first: str) -> None:
            seen.append(("method", first))

    def with_default(first: str, second: int = 0, third: str = "unset") -> None:
        seen.append(("default", first, second, third))

    event(lambda: seen.append(("none",)))
    event(lambda first: seen.append(("one", first)))
    event(lambda first, second: seen.append(("two", first, second)))
    event(lambda *args: seen.append(("all", *args)))
    event(Recorder().one)
    event(with_default)
    event.emit("a", 1)
    assert seen == [
        ("none",),
        ("one", "a"),
        ("two", "a", 1),
        ("all", "a", 1),
        ("method", "a"),
        ("default", "a", 1, "unset"),
    ]


def test_a_subscription_used_as_a_decorator_takes_what_its_handler_takes() -> None:
    event: Event[[str, int]] = Event("onPair")
    got: list[str] = []

    @event
    def handler(first: str) -> None:
        got.append(first)

    handler("direct", 2)
    event.emit("emitted", 3)
    handler.unsubscribe()
    event.emit("gone", 4)
    assert got == ["direct", "emitted"]
    assert len(event) == 0


class FakeHost:
    """All a Call needs from its connection (``intercom.client.call.CallHost``)."""

    media_options = None
    ice_servers: list[dict[str, Any]] = []

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.registered: list[Call] = []

    async def request(self, kind: str, data: dict[str, Any], on_result: Any = None) -> Any:
        self.requests.append((kind, data))
        result = {"call_id": "leg-1", "session_id": "s-1"} if kind == "call.start" else {}
        if on_result is not None:
            on_result(result)
        return result

    def register_call(self, call: Call) -> None:
        self.registered.append(call)


async def test_a_call_runs_on_the_narrow_host_interface() -> None:
    host = FakeHost()
    call = Call(host, "201", CallType.VIDEO)
    await call.start()
    assert host.registered == [call] and call.call_id == "leg-1"
    await call.hangUp()
    assert host.requests == [
        ("call.start", {"number": "201", "call_type": "VIDEO"}),
        ("call.hangup", {"call_id": "leg-1"}),
    ]


def test_call_state_handlers_get_the_state_and_the_call_or_the_state_alone() -> None:
    call = Call(FakeHost(), "201", CallType.AUDIO)
    pairs: list[tuple[CallState, Call]] = []
    states: list[CallState] = []
    call.onCallStateChanged(lambda state, of: pairs.append((state, of)))
    call.on_call_state_changed(states.append)
    call.apply_state({"state": "RINGING", "call_id": "leg-1"})
    call.apply_state({"state": "ANSWERED", "call_id": "leg-1"})
    call.connection_lost(EndCause.DISCONNECTED)
    expected = [CallState.RINGING, CallState.ANSWERED, CallState.COMPLETED]
    assert pairs == [(state, call) for state in expected]
    assert states == expected


class FakeView:
    """All a Helper needs from its connection (``intercom.client.helper.ClientView``)."""

    def __init__(self) -> None:
        self.extensions = {"201": Extension({"id": "201", "type": "webphone"})}
        self.outside_lines: dict[str, Extension] = {}
        self.users: dict[str, Any] = {}
        self.sessions: dict[str, Any] = {}
        self.filters: list[dict[str, Any] | None] = []

    async def get_call_history(self, filters: dict[str, Any] | None = None) -> str:
        self.filters.append(filters)
        return "history"


async def test_the_helper_runs_on_the_narrow_view_interface() -> None:
    view = FakeView()
    helper = Helper(view)
    assert helper.getExtensionsByType("WEBPHONE") == view.extensions
    assert await helper.getCallHistoryOfExtension("201", {"rowsPerPage": 5}) == "history"
    assert view.filters == [{"rowsPerPage": 5, "extension": "201"}]
