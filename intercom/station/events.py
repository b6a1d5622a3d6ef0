"""The station's event log in SQLite: what happened at the door, who did it and how."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Protocol

from intercom.sqlite import open_database

MIGRATIONS = [
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        snapshot TEXT
    );
    CREATE INDEX events_at ON events(at)
    """,
]

KINDS = frozenset({
    "start", "stop", "bell", "call_answered", "call_ended", "unlock", "unlock_refused",
    "wrong_code", "lockout", "door_opened", "door_closed", "door_open_too_long", "tamper",
    "offline", "online", "message", "config_reloaded",
})  # fmt: skip


class Log(Protocol):
    """How the station's parts write to the log: ``log(kind, **detail)``, the new event's id."""

    def __call__(self, kind: str, /, **detail: Any) -> int: ...


class EventStore(Protocol):
    """The seam: what the station keeps of what happened at its door and what ``intercom
    events`` and ``intercom status`` read back. ``EventLog`` is today's implementation, in
    SQLite beside the station; another (a building's central log) plugs in through
    ``Station(events=...)``."""

    def add(self, kind: str, snapshot: str | None = None, **detail: Any) -> int: ...

    def link_snapshot(self, event_id: int, path: str) -> None: ...

    def since(self, since: float = 0.0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def recent(
        self, limit: int = 50, kinds: Collection[str] = (), since: float = 0.0
    ) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class EventLog:
    """``EventStore`` in an SQLite file (WAL) in the station's data directory."""

    def __init__(self, path: Path | str) -> None:
        self._db: sqlite3.Connection = open_database(path, MIGRATIONS)

    def add(self, kind: str, snapshot: str | None = None, **detail: Any) -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        cursor = self._db.execute(
            "INSERT INTO events (at, kind, detail, snapshot) VALUES (?, ?, ?, ?)",
            (time.time(), kind, json.dumps(detail, sort_keys=True), snapshot),
        )
        return int(cursor.lastrowid or 0)

    def link_snapshot(self, event_id: int, path: str) -> None:
        self._db.execute("UPDATE events SET snapshot = ? WHERE id = ?", (path, event_id))

    def since(self, since: float = 0.0, limit: int = 1000) -> list[dict[str, Any]]:
        """The oldest ``limit`` events from ``since`` on, oldest first."""
        rows = self._db.execute(
            "SELECT id, at, kind, detail, snapshot FROM events WHERE at >= ? ORDER BY id LIMIT ?",
            (since, limit),
        ).fetchall()
        return self._decode(rows)

    def recent(
        self, limit: int = 50, kinds: Collection[str] = (), since: float = 0.0
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` events (of ``kinds``, if given) from ``since`` on, newest first:
        what someone at the door's log wants to see first."""
        unknown = set(kinds) - KINDS
        if unknown:
            raise ValueError(f"unknown event kind(s) {sorted(unknown)}")
        where = "at >= ?"
        params: list[float | str] = [since]
        if kinds:  # placeholders only: the kinds themselves are parameters
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        rows = self._db.execute(
            f"SELECT id, at, kind, detail, snapshot FROM events WHERE {where}"
            " ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return self._decode(rows)

    @staticmethod
    def _decode(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        return [
            {
                "id": r["id"],
                "at": r["at"],
                "kind": r["kind"],
                **json.loads(r["detail"]),
                **({"snapshot": r["snapshot"]} if r["snapshot"] else {}),
            }
            for r in rows
        ]

    def close(self) -> None:
        self._db.close()
