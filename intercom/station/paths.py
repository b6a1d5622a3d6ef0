"""Where a running station keeps its small files: light enough for `intercom status`,
`intercom bell` and `intercom config` to import without the media stack."""

from __future__ import annotations

import os
from pathlib import Path

PID_FILE = "station.pid"
BELL_REQUEST = "bell-request"
STATUS_FILE = "status.json"
#: The station's RuntimeDirectory under systemd (deploy/systemd/intercom-station.service).
RUNTIME_DIR = Path("/run/intercom")


def status_file(data_dir: Path) -> Path:
    """In RAM under systemd ($RUNTIME_DIRECTORY), else in the data directory."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return (Path(runtime) if runtime else data_dir) / STATUS_FILE
