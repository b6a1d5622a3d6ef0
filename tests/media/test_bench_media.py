"""``intercom bench media`` runs end to end and reports every figure (short runs here; the
figures themselves come from the full run, see docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bench_media_reports_all_figures() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "intercom.cli",
            "bench",
            "media",
            "--json",
            "--calls",
            "2",
            "--hold",
            "1.5",
            "--cpu-seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    result = json.loads(out.stdout)
    setup = result["call_start_to_first_video_frame_while_ringing"]
    assert setup["calls"] == 2 and setup["all_while_ringing"] is True
    assert setup["p50_ms"] > 0 and setup["bare_aiortc_offer_to_first_frame_p50_ms"] > 0
    g2g = result["glass_to_glass"]
    assert g2g["frames"] > 10 and g2g["bare_aiortc_frames"] > 10 and g2g["p50_ms"] > 0
    assert result["accept_to_first_audio_at_caller"]["p50_ms"] > 0
    cpu = result["sending_cpu_seconds_per_minute"]
    assert cpu["aiortc_encoding"] is not None and cpu["stand_in_encoder_apart"] > 0
