"""``intercom protocol schema``: the JSON Schema exported from the models, on stdout."""

from __future__ import annotations

import json

import pytest

from intercom.cli import main
from intercom.protocol.events import EVENTS
from intercom.protocol.messages import REQUESTS


def test_protocol_schema_prints_the_whole_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["requests"]) == set(REQUESTS)
    assert set(schema["events"]) == set(EVENTS)
    assert {"ClientFrame", "ServerFrame", "LegState", "CallStart"} <= set(schema["$defs"])
