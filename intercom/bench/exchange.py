"""``intercom bench exchange``: the exchange under load, with the load in another process.

The parent starts three processes: the exchange (with a generated directory of bench
extensions), a bare websockets echo server as the same-run baseline, and the load generator,
which reports JSON; the parent prints it as a table, or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import tomli_w

from . import format_table
from .exchange_load import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_config(directory: Path, clients: int) -> Path:
    extensions: list[dict[str, Any]] = [
        {"number": f"bench-{i:04d}", "password": PASSWORD, "privileges": ["call"]}
        for i in range(clients)
    ]
    extensions.append(
        {"number": "bench-monitor", "password": PASSWORD, "privileges": ["directory", "monitor"]}
    )
    config = {
        "exchange": {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": str(directory),
            "rate_limit": 1000.0,
            "rate_burst": 1000,
            # Every simulated client comes from 127.0.0.1: the per-address limits that stop
            # one stranger from filling the exchange would stop the benchmark too.
            "max_connections": clients + 100,
            "max_connections_per_address": clients + 100,
            "max_pending_per_address": clients + 100,
            # Plain ws://, as the bare websockets baseline it is compared with.
            "tls": {"enabled": False},
        },
        "extensions": extensions,
    }
    path = directory / "bench.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def _start(args: list[str], ready: bytes) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if ready in line:
            # Keep draining its output so that a chatty process never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc
    raise RuntimeError(f"{args[0]} did not start")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="intercom-bench-") as tmp:
        config = bench_config(Path(tmp), args.clients)
        port, base_port = _free_port(), _free_port()
        env_log = ["intercom.cli", "exchange", "--config", str(config), "--port", str(port)]
        exchange = _start(env_log, b"exchange listening")
        baseline = _start(
            ["intercom.bench.exchange_load", "baseline", "--port", str(base_port)],
            b"baseline listening",
        )
        try:
            load = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "intercom.bench.exchange_load",
                    "load",
                    "--port",
                    str(port),
                    "--pid",
                    str(exchange.pid),
                    "--baseline-port",
                    str(base_port),
                    "--baseline-pid",
                    str(baseline.pid),
                    "--clients",
                    str(args.clients),
                    "--cycles",
                    str(args.cycles),
                    "--latency-rate",
                    str(args.latency_rate),
                    "--latency-seconds",
                    str(args.latency_seconds),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            for proc in (exchange, baseline):
                proc.terminate()
                proc.wait(timeout=30)
        if load.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{load.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(load.stdout.strip().splitlines()[-1])
        result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        return result


def table(result: dict[str, Any]) -> str:
    c, cy, lat = result["clients"], result["call_cycles"], result["start_to_incoming"]
    rows = [
        ("logged-in clients with presence", f"{c['presence_seen_by_monitor']}", ">= 2000"),
        (
            "RSS per idle connection",
            f"{c['rss_kib_per_idle_connection']} KiB "
            f"(bare websockets: {c['baseline_rss_kib_per_connection']} KiB, "
            f"x{c['ratio_to_baseline']})",
            "<= 64 KiB",
        ),
        (
            "complete call cycles per second",
            f"{cy['per_second']} ({cy['cycles']} cycles, {cy['concurrency']} at once)",
            ">= 200/s",
        ),
        (
            f"start() -> onIncomingCall at {lat['rate_per_second']:g}/s",
            f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms "
            f"(bare echo p50 {lat['baseline_echo_p50_ms']} ms,"
            f" p99 {lat['baseline_echo_p99_ms']} ms)",
            "p99 <= 50 ms",
        ),
    ]
    return format_table(rows)


def main(args: argparse.Namespace) -> int:
    result = measure(args)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0
