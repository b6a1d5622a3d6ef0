"""The browser library's protocol constants against the Python protocol: the frame version, the
enums, the request types it sends, the event types it handles (and the fields it reads from
them), the error and close codes it acts on and the history filters it sends. They are read
from the library's sources (intercom/web/lib), which keep them literal for this reason.

The event types come from ``intercom.protocol.events.EVENTS`` and the field names from the
protocol's JSON Schema (``intercom.protocol.schema``); where the protocol has neither yet, the
event types are the ones docs/PROTOCOL.md says the exchange sends and the field checks are
skipped."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

import intercom.exchange
import intercom.protocol.enums as enums
import intercom.protocol.errors as errors
import intercom.protocol.messages as messages
import intercom.protocol.session_state as session_state

LIB = Path(enums.__file__).parent.parent / "web" / "lib"
EXCHANGE = Path(intercom.exchange.__file__).parent
PROTOCOL = Path(enums.__file__).parent
PROTOCOL_DOC = Path(__file__).parents[2] / "docs" / "PROTOCOL.md"

#: Events the exchange sends that the browser library leaves alone, and why.
NOT_FOR_BROWSERS = {
    "call.command": "an unlock instruction for the station; a browser is never the door",
}

#: The library's JSDoc typedefs of wire payloads, and the event each describes.
PAYLOAD_TYPEDEFS = {
    ("call.js", "CallStateData"): "call.state",
    ("session.js", "SessionInfo"): "session.state",
    ("session.js", "ListenSignal"): "session.signal",
    ("directory.js", "ExtensionInfo"): "extension.info",
    ("directory.js", "UserInfo"): "user.info",
}

#: Functions that read a request's result: (file, function, the result's variable, request).
RESULT_READERS = [
    ("client.js", "WebClient.prototype._snapshot", "snap", "login"),
    ("call.js", "Call.prototype.start", "result", "call.start"),
    ("client.js", "WebClient.prototype.setupCall", "r", "setup_call"),
    ("client.js", "WebClient.prototype.getCallHistory", "r", "history.query"),
]


# ------------------------------------------------------------ reading the library


def source(name: str) -> str:
    return (LIB / name).read_text()


def frozen_enums() -> dict[str, set[str]]:
    """``export var Name = freeze([...])`` in enums.js."""
    found = re.findall(r"^export var (\w+) = freeze\(\[(.*?)\]\);", source("enums.js"), re.M | re.S)
    return {name: set(re.findall(r'"(\w+)"', values)) for name, values in found}


def state_list(name: str) -> set[str]:
    """``export var NAME = [CallState.X, ...]`` in enums.js, as the members' values."""
    match = re.search(rf"^export var {name} = \[(.*?)\];", source("enums.js"), re.M | re.S)
    assert match is not None, f"enums.js declares no {name}"
    return set(re.findall(r"\w+\.([A-Z_]+)", match.group(1)))


def frozen_codes(name: str) -> dict[str, int]:
    """``export var Name = Object.freeze({ KEY: 123 })`` in protocol.js (comments allowed)."""
    match = re.search(
        rf"^export var {name} = Object\.freeze\(\{{(.*?)\}}\);", source("protocol.js"), re.M | re.S
    )
    assert match is not None, f"protocol.js declares no {name}"
    return {key: int(value) for key, value in re.findall(r"^\s*(\w+): (\d+)", match.group(1), re.M)}


def request_union() -> set[str]:
    """The members of the ``RequestType`` typedef in protocol.js."""
    match = re.search(r"@typedef \{(.*?)\} RequestType", source("protocol.js"), re.S)
    assert match is not None, "protocol.js declares no RequestType"
    return set(re.findall(r'"([\w.]+)"', match.group(1)))


def requests_sent() -> set[str]:
    """Every request type named where one is sent: ``_request("x"``, ``_do("x"``,
    ``encodeRequest("x"``, in every module."""
    sent: set[str] = set()
    for path in LIB.glob("*.js"):
        sent |= set(re.findall(r'\b(?:_request|_do|encodeRequest)\("([\w.]+)"', path.read_text()))
    return sent


def event_handlers() -> dict[str, str]:
    """The client's event table (``var EVENTS = {...}`` in client.js): type -> handler source."""
    match = re.search(r"^var EVENTS = \{\n(.*?)^\};", source("client.js"), re.M | re.S)
    assert match is not None, "client.js declares no EVENTS table"
    parts = re.split(r'^  "([\w.]+)": ', match.group(1), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def typedef_properties(file: str, name: str) -> set[str]:
    """The ``@property`` names of a ``@typedef {Object} name``."""
    match = re.search(rf"@typedef \{{Object\}} {name}\n(.*?)\*/", source(file), re.S)
    assert match is not None, f"{file} declares no typedef {name}"
    return set(re.findall(r"@property \{[^}]*\} \[?(\w+)", match.group(1)))


def function_source(file: str, name: str) -> str:
    """A top-level function assignment, ``name = function (...) {`` to its closing ``};``."""
    match = re.search(rf"^{re.escape(name)} = function \(.*?^\}};", source(file), re.M | re.S)
    assert match is not None, f"{file} has no {name}"
    return match.group(0)


def reads(code: str, variable: str) -> set[str]:
    return set(re.findall(rf"\b{variable}\.([A-Za-z_]\w*)", code))


# ------------------------------------------------------------ reading the protocol


def documented_events() -> set[str]:
    """The event types of docs/PROTOCOL.md's "Events" table: what the exchange sends."""
    text = PROTOCOL_DOC.read_text()
    table = text.split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[^|]*`) \|", table, re.M)
    return {name for row in rows for name in re.findall(r"`([\w.]+)`", row)}


def close_code(name: str) -> int:
    """A WebSocket close code the exchange or the protocol defines (``NAME = 4003``), read
    from their sources: wherever it is declared, once."""
    found = [
        int(value)
        for folder in (EXCHANGE, PROTOCOL)
        for path in folder.glob("*.py")
        for value in re.findall(rf"^{name}\s*(?::\s*\w+\s*)?=\s*(\d+)", path.read_text(), re.M)
    ]
    assert len(found) == 1, f"{name} is declared {len(found)} times"
    return found[0]


def protocol_events() -> set[str]:
    """The protocol's event table where it has one, else the documented ones."""
    table: dict[str, Any] | None = None
    if importlib.util.find_spec("intercom.protocol.events") is not None:
        table = getattr(importlib.import_module("intercom.protocol.events"), "EVENTS", None)
    return set(table) if table is not None else documented_events()


def protocol_schema() -> dict[str, Any] | None:
    """The protocol's JSON Schema (as ``intercom protocol schema`` prints it), if it has one."""
    if importlib.util.find_spec("intercom.protocol.schema") is None:
        return None
    export = getattr(importlib.import_module("intercom.protocol.schema"), "protocol_schema", None)
    if export is None:
        return None
    document: dict[str, Any] = json.loads(json.dumps(export()))
    return document


def fields(schema: dict[str, Any], table: str, kind: str) -> set[str]:
    """The properties of the data of one event or result, following its ``$ref``."""
    assert kind in schema[table], f"the schema has no {kind} in {table}"
    data = schema[table][kind]
    name = data["$ref"].rsplit("/", 1)[-1]
    return set(schema["$defs"][name].get("properties", {}))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document = protocol_schema()
    if document is None:
        pytest.skip("intercom.protocol has no JSON Schema export yet")
    return document


def values(enum: type[Enum]) -> set[str]:
    return {str(member.value) for member in enum}


# ------------------------------------------------------------------------ tests


def test_frames_carry_the_protocols_version() -> None:
    match = re.search(r"^export var PROTOCOL_VERSION = (\d+);", source("protocol.js"), re.M)
    assert match is not None
    assert int(match.group(1)) == messages.PROTOCOL_VERSION


def test_every_enum_has_the_protocols_members() -> None:
    found = frozen_enums()
    expected = {
        "ConnectionState": enums.ConnectionState,
        "CallState": enums.CallState,
        "CallType": enums.CallType,
        "SessionState": enums.SessionState,
        "ClientStatus": enums.ClientStatus,
        "WebphoneState": enums.WebphoneState,
        "ExtensionStatus": enums.ExtensionStatus,
    }
    assert set(found) == set(expected)
    for name, enum in expected.items():
        assert found[name] == values(enum), name


def test_final_and_hold_states_are_the_protocols() -> None:
    assert state_list("FINAL_CALL_STATES") == {str(s) for s in enums.FINAL_CALL_STATES}
    assert state_list("HOLD_SESSION_STATES") == {str(s) for s in session_state.HOLD_STATES}


def test_every_request_it_sends_is_declared_and_accepted_by_the_exchange() -> None:
    declared = request_union()
    sent = requests_sent()
    assert "call.start" in sent and "session.signal" in sent  # the scan found the call sites
    assert sent == declared, "RequestType lists exactly the requests the library sends"
    assert declared <= set(messages.REQUESTS), declared - set(messages.REQUESTS)


def test_every_event_it_handles_is_one_the_exchange_sends() -> None:
    handled = set(event_handlers())
    assert "call.incoming" in handled and "user.removed" in handled
    sent = protocol_events()
    assert handled <= sent, handled - sent


def test_every_event_the_exchange_sends_is_handled_unless_it_is_for_others() -> None:
    unhandled = protocol_events() - set(event_handlers())
    assert unhandled <= set(NOT_FOR_BROWSERS), unhandled - set(NOT_FOR_BROWSERS)


def test_the_protocol_document_lists_every_event_the_library_handles() -> None:
    # What stands in for the protocol's event table where it has none.
    documented = documented_events()
    assert "call.incoming" in documented and "error" in documented
    assert set(event_handlers()) <= documented


def test_the_error_and_close_codes_it_acts_on_are_the_exchanges() -> None:
    codes = frozen_codes("ErrorCode")
    assert codes == {"AUTHENTICATION_FAILED": 305}  # the parse found the table
    for name, code in codes.items():
        assert errors.ErrorCode[name] == code, name
    assert frozen_codes("CloseCode") == {"REMOVED": close_code("CLOSE_REMOVED")}


def test_history_filters_are_fields_of_the_history_query() -> None:
    match = re.search(r"^var HISTORY_KEYS = \{(.*?)\};", source("history.js"), re.M | re.S)
    assert match is not None
    sent = set(re.findall(r':\s*"(\w+)"', match.group(1)))
    query = messages.HistoryQuery.model_fields
    accepted = {field.alias or name for name, field in query.items()}
    assert sent == accepted, "every filter the exchange takes, and only those"


def test_the_event_fields_it_reads_are_in_the_schema(schema: dict[str, Any]) -> None:
    for kind, handler in event_handlers().items():
        read = reads(handler, "d")
        assert read <= fields(schema, "events", kind), (kind, read - fields(schema, "events", kind))


def test_its_payload_typedefs_name_only_fields_of_the_schema(schema: dict[str, Any]) -> None:
    for (file, name), kind in PAYLOAD_TYPEDEFS.items():
        declared = typedef_properties(file, name)
        assert declared, name
        assert declared <= fields(schema, "events", kind), (
            name,
            declared - fields(schema, "events", kind),
        )


def test_the_result_fields_it_reads_are_in_the_schema(schema: dict[str, Any]) -> None:
    for file, function, variable, kind in RESULT_READERS:
        read = reads(function_source(file, function), variable)
        assert read, function
        assert read <= fields(schema, "results", kind), (
            function,
            read - fields(schema, "results", kind),
        )
