"""The protocol as one JSON Schema document, exported from the models (``intercom protocol
schema``): what other implementations, the browser library's tests among them, check frames
against.

The document validates any frame: ``ClientFrame`` (a request) or ``ServerFrame`` (an event, a
result or an error). ``requests``, ``events`` and ``results`` map each type to the schema of its
``data``, for tools that look one type up. Requests are described as the exchange accepts them
(validation), everything the exchange sends as it is sent (serialisation: a field that is
always present is required).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .events import EVENTS
from .messages import PROTOCOL_VERSION, REQUESTS
from .records import ErrorRecord
from .results import RESULTS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF = "#/$defs/{model}"


def protocol_schema() -> dict[str, Any]:
    """The whole protocol: every request, event and result, and the frames around them."""
    sent: list[type[BaseModel]] = list(dict.fromkeys([*EVENTS.values(), *RESULTS.values()]))
    received: list[type[BaseModel]] = list(dict.fromkeys(REQUESTS.values()))
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((model, "validation") for model in received),
        *((model, "serialization") for model in sent),
    ]
    refs, document = models_json_schema(wanted, ref_template=_REF)
    defs: dict[str, Any] = document.get("$defs", {})

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(refs[(model, mode)])

    requests = {kind: ref(model, "validation") for kind, model in REQUESTS.items()}
    events = {kind: ref(model, "serialization") for kind, model in EVENTS.items()}
    results = {kind: ref(model, "serialization") for kind, model in RESULTS.items()}
    defs["ClientFrame"] = {
        "description": "A request: the exchange answers it with a result or an error "
        "carrying the same id.",
        "oneOf": [_frame(kind, data, "request") for kind, data in requests.items()],
    }
    result_data = list({schema["$ref"]: schema for schema in results.values()}.values())
    defs["ServerFrame"] = {
        "description": "An event (no id), or the answer to a request (its id).",
        "oneOf": [
            *(_frame(kind, data, "event") for kind, data in events.items()),
            _frame("result", {"anyOf": result_data}, "answer"),
            _frame("error", ref(ErrorRecord, "serialization"), "answer"),
        ],
    }
    return {
        "$schema": DIALECT,
        "$id": f"urn:intercom:protocol:{PROTOCOL_VERSION}",
        "title": f"intercom wire protocol, version {PROTOCOL_VERSION}",
        "description": "One JSON object per WebSocket text frame (docs/PROTOCOL.md).",
        "oneOf": [
            {"$ref": _REF.format(model="ClientFrame")},
            {"$ref": _REF.format(model="ServerFrame")},
        ],
        "requests": requests,
        "events": events,
        "results": results,
        "$defs": defs,
    }


def _frame(
    kind: str, data: dict[str, Any], role: Literal["request", "event", "answer"]
) -> dict[str, Any]:
    """One frame: ``v``, ``type`` and ``data``; an ``id`` on a request, and on an answer (an
    error without one is an event). A request may leave out ``v`` and an empty ``data``."""
    properties: dict[str, Any] = {
        "v": {"const": PROTOCOL_VERSION},
        "type": {"const": kind},
        "data": data,
    }
    if role == "request":
        properties["id"] = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
        required = ["type", "id"]
    else:
        if role == "answer":
            properties["id"] = {"type": "integer", "minimum": 0}
        required = ["v", "type", "data"]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
