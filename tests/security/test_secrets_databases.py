"""Secrets at rest: the databases (token hashes, call history, the door's event log) and their
WAL and shared-memory files are readable by their owner alone, whatever the umask."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from intercom.exchange.auth import TokenStore
from intercom.exchange.history import HistoryStore
from intercom.protocol.enums import Privilege
from intercom.sqlite import open_database
from intercom.station.events import EventLog


def modes(path: Path) -> dict[str, int]:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return {f.name: f.stat().st_mode & 0o777 for f in files if f.exists()}


def use_tokens(path: Path) -> Callable[[], None]:
    store = TokenStore(path)
    store.create("201", {Privilege.CALL})
    return store.close


def use_history(path: Path) -> Callable[[], None]:
    store = HistoryStore(path)
    return store.close


def use_events(path: Path) -> Callable[[], None]:
    log = EventLog(path)
    log.add("bell", bell=1)
    return log.close


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize(
    ("name", "use"),
    [("tokens.db", use_tokens), ("history.db", use_history), ("events.db", use_events)],
)
def test_new_databases_and_their_wal_files_are_private(
    tmp_path: Path, name: str, use: Callable[[Path], Callable[[], None]]
) -> None:
    path = tmp_path / name
    close = use(path)
    try:
        found = modes(path)
        # While open, WAL mode keeps the -wal and -shm files beside the database.
        assert set(found) == {name, f"{name}-wal", f"{name}-shm"}
        assert found == dict.fromkeys(found, 0o600)
    finally:
        close()
    assert modes(path) == {name: 0o600}


@pytest.mark.usefixtures("open_umask")
def test_an_existing_readable_database_is_made_private_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    # As an older version left it: made under the umask, WAL files present (held open here).
    older = sqlite3.connect(path)
    older.execute("PRAGMA journal_mode=WAL")
    older.execute("CREATE TABLE t (x)")
    older.execute("INSERT INTO t VALUES (1)")
    older.commit()
    try:
        assert modes(path) == {"tokens.db": 0o644, "tokens.db-wal": 0o644, "tokens.db-shm": 0o644}
        db = open_database(path, [])
        try:
            assert modes(path) == {
                "tokens.db": 0o600,
                "tokens.db-wal": 0o600,
                "tokens.db-shm": 0o600,
            }
            assert db.execute("SELECT x FROM t").fetchone()[0] == 1  # its rows are kept
        finally:
            db.close()
    finally:
        older.close()
