"""The station's event log is a seam (``EventStore``): another store plugs in unchanged."""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from intercom.exchange.server import Exchange
from intercom.station.app import Station
from intercom.station.config import load_station_config
from intercom.station.events import EventStore
from tests.station.test_station import station_config

pytestmark = pytest.mark.integration


class MemoryEvents:
    """``EventStore`` in a list, as a central log would hold them elsewhere."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.closed = False

    def add(self, kind: str, snapshot: str | None = None, **detail: Any) -> int:
        self.rows.append({"id": len(self.rows) + 1, "at": time.time(), "kind": kind,
                          "snapshot": snapshot, **detail})  # fmt: skip
        return len(self.rows)

    def link_snapshot(self, event_id: int, path: str) -> None:
        self.rows[event_id - 1]["snapshot"] = path

    def since(self, since: float = 0.0, limit: int = 1000) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["at"] >= since][:limit]

    def recent(
        self, limit: int = 50, kinds: Collection[str] = (), since: float = 0.0
    ) -> list[dict[str, Any]]:
        rows = [r for r in reversed(self.rows) if r["at"] >= since]
        return [r for r in rows if not kinds or r["kind"] in kinds][:limit]

    def close(self) -> None:
        self.closed = True


async def test_a_station_logs_to_the_store_it_is_given(exchange: Exchange, tmp_path: Path) -> None:
    store = MemoryEvents()
    opened: list[Path] = []

    def make(path: Path) -> EventStore:
        opened.append(path)
        return store

    station = Station(
        load_station_config(station_config(tmp_path, exchange.port)),
        tmp_path / "station.toml",
        pin_factory=MockFactory(),
        events=make,
    )
    await station.start()
    await station.wait_until(station.online.is_set)
    station.press(1)
    await station.wait_until(lambda: any(r["kind"] == "bell" for r in store.rows))
    await station.stop()
    assert opened and opened[0].name == "events.db"
    assert [r["kind"] for r in store.rows][:2] == ["start", "online"]
    assert store.rows[-1]["kind"] == "stop" and store.closed
    assert not (tmp_path / "station" / "events.db").exists()  # nothing went to SQLite
