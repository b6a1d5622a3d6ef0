"""Hostile frames in CI: 10,000 of them (deep nesting included) from strangers and logged-in
neighbours while a resident keeps calling; ``intercom bench fuzz`` sends 100,000."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercom.bench.fuzz import fuzz_config, fuzz_while_calling
from intercom.exchange.server import Exchange

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_ten_thousand_hostile_frames_cost_no_call_and_leave_no_ghost(
    tmp_path: Path,
) -> None:
    exchange = Exchange.from_file(fuzz_config(tmp_path, hashed=False))
    await exchange.start()
    try:
        result = await fuzz_while_calling(exchange.url, 10_000, seed=7)
        assert result["frames"] >= 10_000
        assert result["failed_calls"] == 0, result["call_errors"]
        assert result["legitimate_calls"] > 0
        assert result["ghost_registrations"] == 0
        # Everyone has gone: the exchange holds nothing of them.
        assert not exchange.switch.sessions
        assert set(exchange.registry.online_extensions()) <= {"900"}  # the ghost counter, leaving
    finally:
        await exchange.stop()
    assert exchange.counter.total <= 1
