"""The soak benchmark runs through the station's whole cycle (a short run here; the
1,000-cycle figures are in docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_soak_cycles_all_succeed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "intercom.cli", "bench", "soak", "--json", "--cycles", "30"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["failures"] == 0 and result["unlocks_logged"] == 30
    assert result["fds_at_end"] is not None and result["rss_growth_percent"] is not None
