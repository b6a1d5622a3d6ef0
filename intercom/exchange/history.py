"""Call history. A row is written when a session starts and completed when it ends; rows
left open by a crash are closed as ABORTED at the next start, so history never lies.

The seam is ``CallHistory``: what the switch records and what ``history.query`` reads.
``HistoryStore`` is today's implementation, in SQLite; a cluster would keep history in
PostgreSQL behind the same three methods.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from intercom.protocol.messages import HistoryQuery
from intercom.sqlite import open_database

MIGRATIONS = [
    """
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        start_time TEXT NOT NULL,
        direction TEXT NOT NULL,
        source TEXT NOT NULL,
        destination TEXT NOT NULL,
        state TEXT,
        dialed TEXT NOT NULL,
        caller_id TEXT NOT NULL,
        type TEXT NOT NULL,
        ring_duration REAL,
        talk_duration REAL,
        end_time TEXT
    );
    CREATE INDEX calls_start ON calls(start_time);
    CREATE INDEX calls_source ON calls(source);
    CREATE INDEX calls_destination ON calls(destination)
    """,
]

FIELDS = {
    "call_id": "CallId",
    "start_time": "StartTime",
    "direction": "Direction",
    "source": "Source",
    "destination": "Destination",
    "state": "State",
    "dialed": "Dialed",
    "caller_id": "CallerId",
    "type": "Type",
    "ring_duration": "RingDuration",
    "talk_duration": "TalkDuration",
    "end_time": "EndTime",
}


def timestamp(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class HistoryPage:
    total: int
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class HistoryStart:
    """A session began: its history row opens (its state unknown until it ends)."""

    call_id: str
    start: float
    direction: str
    source: str
    destination: str
    dialed: str
    caller_id: str
    call_type: str


@dataclass(frozen=True)
class HistoryEnd:
    """A session reached its final state: its row is completed."""

    call_id: str
    destination: str
    state: str
    ring_duration: float
    talk_duration: float
    end: float


class CallHistory(Protocol):
    def started(self, call: HistoryStart) -> None:
        """A session began (its row stays open, state unknown, until ``ended``)."""

    def ended(self, call: HistoryEnd) -> None:
        """A session reached its final state."""

    def query(self, q: HistoryQuery, only_extension: str | None = None) -> HistoryPage:
        """Ended calls, newest first, under the Ozeki HTTP API's field names."""

    def close(self) -> None: ...


class HistoryStore:
    """``CallHistory`` in an SQLite file (WAL)."""

    def __init__(self, path: Path | str) -> None:
        self._db: sqlite3.Connection = open_database(path, MIGRATIONS)
        self._db.execute(
            "UPDATE calls SET state = 'ABORTED', end_time = start_time WHERE state IS NULL"
        )

    def close(self) -> None:
        self._db.close()

    def started(self, call: HistoryStart) -> None:
        self._db.execute(
            "INSERT INTO calls (call_id, start_time, direction, source, destination, dialed,"
            " caller_id, type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                call.call_id,
                timestamp(call.start),
                call.direction,
                call.source,
                call.destination,
                call.dialed,
                call.caller_id,
                call.call_type,
            ),
        )

    def ended(self, call: HistoryEnd) -> None:
        self._db.execute(
            "UPDATE calls SET destination = ?, state = ?, ring_duration = ?, talk_duration = ?,"
            " end_time = ? WHERE call_id = ?",
            (
                call.destination,
                call.state,
                round(call.ring_duration, 3),
                round(call.talk_duration, 3),
                timestamp(call.end),
                call.call_id,
            ),
        )

    def query(self, q: HistoryQuery, only_extension: str | None = None) -> HistoryPage:
        where: list[str] = ["state IS NOT NULL"]
        args: list[Any] = []
        extension = only_extension or q.extension
        if extension is not None:
            where.append("(source = ? OR destination = ?)")
            args += [extension, extension]
        for column, value in (
            ("direction", q.direction),
            ("source", q.source),
            ("destination", q.destination),
            ("dialed", q.dialed),
            ("caller_id", q.caller_id),
            ("call_id", q.call_id),
        ):
            if value is not None:
                where.append(f"{column} = ? COLLATE NOCASE")
                args.append(value)
        if q.state is not None:
            where.append("replace(upper(state), '_', '') = replace(upper(?), '_', '')")
            args.append(q.state)
        if q.type is not None:
            where.append("type = ? COLLATE NOCASE")
            args.append(q.type)
        if q.start_from is not None:
            where.append("start_time >= ?")
            args.append(q.start_from)
        if q.until is not None:
            where.append("start_time < ?")
            args.append(q.until)
        if q.general is not None:
            where.append(
                "(source LIKE ? OR destination LIKE ? OR dialed LIKE ? OR caller_id LIKE ?)"
            )
            args += [f"%{q.general}%"] * 4
        clause = " AND ".join(where)
        total = self._db.execute(f"SELECT count(*) FROM calls WHERE {clause}", args).fetchone()[0]
        rows = self._db.execute(
            f"SELECT * FROM calls WHERE {clause} ORDER BY start_time DESC, rowid DESC"
            " LIMIT ? OFFSET ?",
            [*args, q.rows_per_page, q.page_number * q.rows_per_page],
        ).fetchall()
        return HistoryPage(total, [{FIELDS[k]: row[k] for k in FIELDS} for row in rows])
