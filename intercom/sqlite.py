"""Opening SQLite databases the one way this project uses them: private files, WAL, durable
commits, and schema migrations kept in code and applied in order by ``PRAGMA user_version``."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

#: Tokens' hashes, call history, the door's event log: for the service's user alone.
MODE = 0o600


def _make_private(path: Path) -> None:
    """The database and its WAL and shared-memory files 0600, whatever the umask was when they
    were made (older versions left them world-readable)."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if os.stat(file).st_mode & 0o777 & ~MODE:
                os.chmod(file, MODE)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by others and not ours to change: chmod 600 it", file)


def open_database(path: Path | str, migrations: Sequence[str]) -> sqlite3.Connection:
    on_disk = str(path) != ":memory:"
    if on_disk:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Made here, 0600, before SQLite makes it under the umask: SQLite gives the -wal and
        # -shm files it creates the database file's mode, so they start private too.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, MODE))
        except FileExistsError:
            _make_private(Path(path))
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    if on_disk:
        _make_private(Path(path))  # the -wal and -shm files now exist
    # FULL: a row whose commit returned survives power loss too, not only a crash.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(migrations[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version={number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return db
