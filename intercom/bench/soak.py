"""``intercom bench soak``: bell -> answer -> unlock -> hang-up, over and over, through the
demo's parts (exchange, simulated station with its camera, a resident with media), watching
memory and open files. Every cycle must succeed."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import tomli_w
from gpiozero.pins.mock import MockFactory

from intercom.client import Call, CallState, OzWebClient
from intercom.exchange.server import Exchange
from intercom.media import ice
from intercom.media.callmedia import MediaOptions
from intercom.station.app import Station
from intercom.station.config import load_station_config

from . import format_table
from .exchange_load import rss_kib

PASSWORD = "soak"


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def soak(cycles: int, directory: Path) -> dict[str, Any]:
    exchange_config = {
        "exchange": {"host": "127.0.0.1", "port": 0, "data_dir": str(directory / "exchange")},
        "extensions": [
            {"number": "100", "password": PASSWORD, "privileges": ["call"]},
            {"number": "201", "password": PASSWORD, "privileges": ["call", "door"]},
        ],
    }
    (directory / "exchange.toml").write_text(tomli_w.dumps(exchange_config))
    exchange = Exchange.from_file(directory / "exchange.toml")
    await exchange.start()
    station_config = {
        "station": {"extension": "100", "password": PASSWORD, "simulated": True,
                    "exchange": exchange.url, "camera": "synthetic",
                    "data_dir": str(directory / "station")},
        "bells": [{"id": 1, "pin": 17, "target": "201"}],
        "relays": [{"name": "door", "pin": 27, "pulse": 1.0, "codes": ["1234"]}],
        "calls": {"hangup_after_unlock": 0.05},
        "snapshots": 20,
    }  # fmt: skip
    (directory / "station.toml").write_text(tomli_w.dumps(station_config))
    pins = MockFactory()
    assert exchange.certificate is not None  # TLS, the default
    trust = exchange.certificate.certificate
    station = Station(
        load_station_config(directory / "station.toml"),
        directory / "station.toml",
        pin_factory=pins,
        trust=trust,
    )
    await station.start()
    async with asyncio.timeout(10):
        await station.online.wait()
    resident = OzWebClient(media=MediaOptions(), trust=trust)
    await resident.connect(exchange.url, "201", password=PASSWORD)
    incoming: asyncio.Queue[Call] = asyncio.Queue()
    resident.onIncomingCall(incoming.put_nowait)

    failures = 0
    warm: dict[str, float] = {}
    started = time.perf_counter()
    for n in range(cycles):
        if n == min(50, cycles // 2):
            warm = {
                "rss_kib": rss_kib(os.getpid()),
                "fds": fds(),
                "tasks": len(asyncio.all_tasks()),
            }
        try:
            async with asyncio.timeout(15):
                station.press(1)
                call = await incoming.get()
                await call.accept()
                await call.send_dtmf("1234#")
                await call.wait_for(CallState.COMPLETED, timeout=10)
                await station.idle.wait()  # the station has let go of the call too
                assert call.media is not None
                await call.media.wait_closed()
        except Exception:
            failures += 1
    seconds = time.perf_counter() - started
    end = {"rss_kib": rss_kib(os.getpid()), "fds": fds(), "tasks": len(asyncio.all_tasks())}
    unlocks = sum(e["kind"] == "unlock" for e in station.events.since(limit=1_000_000))
    await resident.disconnect()
    await station.stop()
    await exchange.stop()
    return {
        "cycles": cycles,
        "failures": failures,
        "unlocks_logged": unlocks,
        "seconds": round(seconds, 1),
        "rss_kib_after_warm_up": warm.get("rss_kib"),
        "rss_kib_at_end": end["rss_kib"],
        "rss_growth_percent": round(100 * (end["rss_kib"] / warm["rss_kib"] - 1), 1)
        if warm
        else None,
        "fds_after_warm_up": warm.get("fds"),
        "fds_at_end": end["fds"],
        "tasks_after_warm_up": warm.get("tasks"),
        "tasks_at_end": end["tasks"],
        "targets": {"failures": 0, "rss_growth_percent": 10, "fds": "stable"},
    }


def main(args: argparse.Namespace) -> int:
    if ice.only_loopback():
        ice.use_host_addresses(["127.0.0.1"])
    with tempfile.TemporaryDirectory(prefix="intercom-soak-") as tmp:
        result = asyncio.run(soak(args.cycles, Path(tmp)))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table([
            ("bell -> answer -> unlock -> hang-up cycles",
             f"{result['cycles'] - result['failures']} of {result['cycles']} "
             f"in {result['seconds']} s", "all"),
            ("resident memory growth after warm-up",
             f"{result['rss_growth_percent']} % ({result['rss_kib_after_warm_up']} -> "
             f"{result['rss_kib_at_end']} KiB)", "<= 10 %"),
            ("open file descriptors", f"{result['fds_after_warm_up']} -> {result['fds_at_end']}",
             "stable"),
        ]))  # fmt: skip
    return 0 if result["failures"] == 0 else 1
