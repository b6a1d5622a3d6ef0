"""The load generator of ``intercom bench exchange``, run in its own process.

It drives a running exchange with real ``OzWebClient``s and measures, against a bare
``websockets`` echo server started with the same settings in the same run:
logged-in clients with presence and the exchange's memory per idle connection; complete call
cycles per second; and the delay from ``start()`` to the callee's ``onIncomingCall``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve

from intercom.client import Call, CallState, CallType, ConnectionState, OzWebClient

PASSWORD = "bench-password"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def settle() -> None:
    """Give the servers a moment to finish allocations before memory is read."""
    await asyncio.sleep(1.0)


# --------------------------------------------------------------------- baseline


async def serve_baseline(port: int) -> None:
    """A bare websockets echo server with the exchange's connection settings."""

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(
        echo, "127.0.0.1", port, compression=None, max_size=256 * 1024, max_queue=32
    ) as server:
        print("baseline listening", flush=True)
        await server.serve_forever()


async def baseline_connections(url: str, pid: int, count: int) -> tuple[float, list[Any]]:
    before = rss_kib(pid)
    conns = []
    for i in range(0, count, 100):
        batch = [ws_connect(url, compression=None) for _ in range(min(100, count - i))]
        conns += await asyncio.gather(*batch)
    await settle()
    per_conn = (rss_kib(pid) - before) / count
    return per_conn, conns


async def baseline_latency(url: str, rate: float, seconds: float) -> list[float]:
    async with ws_connect(url, compression=None) as ws:
        samples: list[float] = []
        payload = json.dumps(
            {
                "v": 1,
                "type": "call.start",
                "id": 1,
                "data": {"number": "bench-0001", "call_type": "AUDIO"},
            }
        )
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            t0 = time.perf_counter()
            await ws.send(payload)
            await ws.recv()
            samples.append(time.perf_counter() - t0)
        return samples


# --------------------------------------------------------------------- exchange


async def login_all(address: str, count: int) -> list[OzWebClient]:
    clients: list[OzWebClient] = []
    for i in range(0, count, 100):
        batch = [OzWebClient(media=False, reconnect=False) for _ in range(min(100, count - i))]
        states = await asyncio.gather(
            *(
                c.connect(
                    address, f"bench-{i + k:04d}", {"Password": PASSWORD, "Nickname": f"n{k}"}
                )
                for k, c in enumerate(batch)
            )
        )
        if any(s is not ConnectionState.ACCESS_GRANTED for s in states):
            raise RuntimeError(f"logins failed: {states}")
        clients += batch
    return clients


class Answerer:
    """Answers every incoming call on a client and notes when it arrived."""

    def __init__(self, client: OzWebClient, answer: bool = True) -> None:
        self.arrivals: dict[str, float] = {}
        self.answer = answer
        self._tasks: set[asyncio.Task[None]] = set()
        client.onIncomingCall(self._incoming)

    def _incoming(self, call: Call) -> None:
        assert call.call_id is not None
        self.arrivals[call.peer or call.call_id] = time.perf_counter()
        if self.answer:
            task = asyncio.ensure_future(call.accept())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def one_cycle(caller: OzWebClient, callee_number: str) -> None:
    call = caller.createCall(callee_number, CallType.AUDIO)
    await call.start()
    await call.wait_for(CallState.IN_CALL, timeout=10)
    await call.hangUp()
    await call.wait_for(CallState.COMPLETED, timeout=10)


async def call_cycles(pairs: list[tuple[OzWebClient, str]], total: int) -> tuple[int, float]:
    done = 0
    per_pair = total // len(pairs)

    async def worker(caller: OzWebClient, callee: str) -> None:
        nonlocal done
        for _ in range(per_pair):
            await one_cycle(caller, callee)
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c, n) for c, n in pairs))
    return done, time.perf_counter() - t0


async def incoming_latency(
    pairs: list[tuple[OzWebClient, str, Answerer]], rate: float, seconds: float
) -> list[float]:
    samples: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def cycle(caller: OzWebClient, callee: str, answerer: Answerer) -> None:
        call = caller.createCall(callee, CallType.AUDIO)
        t0 = time.perf_counter()
        await call.start()
        await call.wait_for(CallState.IN_CALL, timeout=10)
        samples.append(answerer.arrivals.pop(call.call_id or "") - t0)
        await call.hangUp()
        await call.wait_for(CallState.COMPLETED, timeout=10)

    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        caller, callee, answerer = pairs[n % len(pairs)]
        tasks.append(asyncio.create_task(cycle(caller, callee, answerer)))
    await asyncio.gather(*tasks)
    return samples


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit()
    address = f"ws://127.0.0.1:{args.port}/"
    result: dict[str, Any] = {}

    # Memory per idle connection: the bare server first, then the exchange.
    base_per_conn, base_conns = await baseline_connections(
        f"ws://127.0.0.1:{args.baseline_port}/", args.baseline_pid, args.clients
    )
    for ws in base_conns:
        await ws.close()

    monitor = OzWebClient(media=False, reconnect=False)
    online: set[str] = set()
    everyone = asyncio.Event()

    def presence(info: dict[str, Any]) -> None:
        if info.get("status") == "ONLINE":
            online.add(info["phoneNumber"])
            if len(online) >= args.clients:
                everyone.set()

    monitor.onClientStateChanged(presence)
    state = await monitor.connect(address, "bench-monitor", {"Password": PASSWORD})
    if state is not ConnectionState.ACCESS_GRANTED:
        raise RuntimeError(f"the monitor could not log in: {state.value}")
    await settle()
    before = rss_kib(args.pid)
    t0 = time.perf_counter()
    clients = await login_all(address, args.clients)
    login_seconds = time.perf_counter() - t0
    try:
        async with asyncio.timeout(30):
            await everyone.wait()
    except TimeoutError:
        raise RuntimeError(
            f"the monitor saw {len(online)} of {args.clients} clients come online "
            f"(monitor state {monitor.state.value})"
        ) from None
    await settle()
    per_conn = (rss_kib(args.pid) - before) / args.clients
    result["clients"] = {
        "target": 2000,
        "logged_in": len(clients),
        "presence_seen_by_monitor": len(online),
        "login_seconds": round(login_seconds, 2),
        "rss_kib_per_idle_connection": round(per_conn, 1),
        "baseline_rss_kib_per_connection": round(base_per_conn, 1),
        "ratio_to_baseline": round(per_conn / base_per_conn, 2) if base_per_conn > 0 else None,
        "target_rss_kib": 64,
    }

    # Call cycles per second: callers and callees drawn from the logged-in clients.
    concurrency = min(args.concurrency, len(clients) // 2)
    answerers = [Answerer(clients[2 * i + 1]) for i in range(concurrency)]
    pairs = [(clients[2 * i], f"bench-{2 * i + 1:04d}") for i in range(concurrency)]
    done, seconds = await call_cycles(pairs, args.cycles)
    result["call_cycles"] = {
        "cycles": done,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "per_second": round(done / seconds, 1),
        "target_per_second": 200,
    }

    samples = await incoming_latency(
        [(pairs[i][0], pairs[i][1], answerers[i]) for i in range(concurrency)],
        args.latency_rate,
        args.latency_seconds,
    )
    echo = await baseline_latency(
        f"ws://127.0.0.1:{args.baseline_port}/", args.latency_rate, args.latency_seconds
    )
    p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
    e50, e99 = percentile(echo, 0.5) * 1000, percentile(echo, 0.99) * 1000
    result["start_to_incoming"] = {
        "rate_per_second": args.latency_rate,
        "samples": len(samples),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
        "baseline_echo_p50_ms": round(e50, 2),
        "baseline_echo_p99_ms": round(e99, 2),
        "p50_ratio_to_echo": round(p50 / e50, 2) if e50 > 0 else None,
        "target_p99_ms": 50,
    }
    for client in clients:
        await client.disconnect()
    await monitor.disconnect()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    base = sub.add_parser("baseline")
    base.add_argument("--port", type=int, required=True)
    load = sub.add_parser("load")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--pid", type=int, required=True)
    load.add_argument("--baseline-port", type=int, required=True)
    load.add_argument("--baseline-pid", type=int, required=True)
    load.add_argument("--clients", type=int, default=2000)
    load.add_argument("--cycles", type=int, default=2000)
    load.add_argument("--concurrency", type=int, default=50)
    load.add_argument("--latency-rate", type=float, default=100.0)
    load.add_argument("--latency-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    raise_fd_limit()
    if args.role == "baseline":
        asyncio.run(serve_baseline(args.port))
        return 0
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
