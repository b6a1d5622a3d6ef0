"""``intercom bench exchange`` runs end to end and reports every figure (small numbers here;
the real figures come from the full run, see docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bench_exchange_reports_all_figures() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "intercom.cli",
            "bench",
            "exchange",
            "--json",
            "--clients",
            "40",
            "--cycles",
            "40",
            "--latency-rate",
            "50",
            "--latency-seconds",
            "0.5",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout)
    assert result["clients"]["logged_in"] == 40
    assert result["clients"]["presence_seen_by_monitor"] == 40
    assert result["clients"]["baseline_rss_kib_per_connection"] is not None
    assert result["call_cycles"]["cycles"] == 40
    assert result["call_cycles"]["per_second"] > 0
    assert result["start_to_incoming"]["samples"] == 25
    assert 0 < result["start_to_incoming"]["p50_ms"] <= result["start_to_incoming"]["p99_ms"]
