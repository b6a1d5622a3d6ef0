"""``intercom bench fuzz``: a stranger's and a neighbour's worst, while a resident keeps calling.

Against a real exchange (a process of its own, so that its memory is its own), in one run:

* **guessing**: a legitimate client's round trip (p50, p99) alone, then while 100 connections
  guess passwords from 100 loopback addresses; and the time a failed login takes for an
  unknown and for a known extension (each try from a fresh address, each known extension
  tried once, so that no backoff answers instead of the password check);
* **fuzz**: hostile frames (garbage, wrong shapes, deep nesting, oversized frames, mutated
  requests of every type), from strangers and from logged-in neighbours, while a caller rings
  a resident who answers and hangs up, call after call: failed calls, connections the
  exchange still holds afterwards that nobody owns (ghosts), and its memory before and after.

Every address used is on loopback (127.0.0.0/8).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from intercom.client import Call, CallState, CallType, ConnectionState, OzWebClient
from intercom.protocol import messages as m

from . import format_table
from .exchange import _free_port, _start
from .exchange_load import percentile, rss_kib

PASSWORD = "fuzz-password"
NEIGHBOURS = ("301", "302", "303", "304")
GUESS_TARGETS = 60  # known extensions tried once each for the failure-time figure


# ------------------------------------------------------------------ frames


def _deep(rng: random.Random) -> str:
    levels = rng.choice([9, 50, 1000, 5000, 20000])
    opening, closing = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    body = opening * levels + '"x"' + closing * levels
    if rng.random() < 0.5:
        return body
    return json.dumps({"v": 1, "id": 1, "type": "login", "data": {}})[:-2] + f',"p":{body}}}'


def _mutate(rng: random.Random, value: Any) -> Any:
    return rng.choice(
        [
            None,
            True,
            -1,
            2**64,
            1e308,
            "",
            "x" * rng.choice([1, 65, 1000, 40_000]),
            "\u0000\ud7ff\uffff",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            [value],
            {"k": value},
        ]
    )


def hostile_frames(seed: int) -> Iterator[str | bytes]:
    """An endless, reproducible stream of frames no well-behaved client sends."""
    rng = random.Random(seed)
    kinds = list(m.REQUESTS)
    while True:
        roll = rng.random()
        if roll < 0.1:
            yield bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        elif roll < 0.2:
            yield "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 200)))
        elif roll < 0.35:
            yield _deep(rng)
        elif roll < 0.4:
            yield json.dumps({"v": 1, "id": 1, "type": "call.message", "data": {
                "call_id": "c", "text": "y" * rng.choice([70_000, 200_000])}})  # fmt: skip
        elif roll < 0.5:
            yield json.dumps(rng.choice([[], 1, "s", None, {"id": "1"}, {"id": -1, "type": 3}]))
        else:
            kind = rng.choice(kinds)
            data: dict[str, Any] = {
                k: _mutate(rng, k) for k in rng.sample(["call_id", "session_id", "number",
                "target", "text", "digits", "key", "party", "properties", "password",
                "extension", "token", "sdp", "kind", "peer", "seconds"], rng.randint(0, 5))
            }  # fmt: skip
            request_id = rng.choice([1, 0, -5, 2**60, "x", None, 3.5])
            yield json.dumps({"v": rng.choice([1, 1, 2]), "id": request_id, "type": kind,
                              "data": data}, default=str)  # fmt: skip


# ---------------------------------------------------------------- attackers


@dataclass
class FuzzCount:
    frames: int = 0
    connections: int = 0
    refused_connections: int = 0
    closed_by_exchange: int = 0


async def _open(url: str, address: str) -> ClientConnection | None:
    try:
        return await ws_connect(
            url, compression=None, open_timeout=10, max_size=None, local_addr=(address, 0)
        )
    except (OSError, InvalidHandshake, TimeoutError):
        return None


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        async with asyncio.timeout(0.5):
            async for _ in ws:
                pass


async def _attacker(
    url: str,
    address: str,
    frames: Iterator[str | bytes],
    budget: FuzzCount,
    total: int,
    login: tuple[str, str] | None,
) -> None:
    """Connects (logged in as ``login``, or as a stranger), sends frames until the exchange
    closes it or a batch is done, and again, until ``total`` frames have been sent."""
    while budget.frames < total:
        ws = await _open(url, address)
        budget.connections += 1
        if ws is None:
            budget.refused_connections += 1
            await asyncio.sleep(0.05)
            continue
        try:
            if login is not None:
                await ws.send(m.encode_request("login", {"extension": login[0],
                                                         "password": login[1]}, 0))  # fmt: skip
                reply = json.loads(await ws.recv())
                if reply.get("type") != "result":
                    budget.refused_connections += 1
                    await asyncio.sleep(0.2)
                    continue
            batch = 150 if login is not None else 4  # under each phase's rate limit
            for _ in range(batch):
                if budget.frames >= total:
                    break
                await ws.send(next(frames))
                budget.frames += 1
            await _drain(ws)
        except ConnectionClosed:
            budget.closed_by_exchange += 1
        finally:
            await ws.close()


# ----------------------------------------------------------------- resident


@dataclass
class CallCount:
    ok: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def keep_calling(
    url: str, caller: str, callee: str, stop: asyncio.Event, per_second: float = 10.0
) -> CallCount:
    """A caller rings a resident who answers at once; both hang up; again, ``per_second``
    times a second (a busy door, well within the exchange's per-client rate), until
    ``stop``."""
    count = CallCount()
    door, flat = OzWebClient(media=False), OzWebClient(media=False)
    for client, number in ((door, caller), (flat, callee)):
        state = await client.connect(url, number, password=PASSWORD)
        if state is not ConnectionState.ACCESS_GRANTED:
            raise RuntimeError(f"{number} could not log in: {state}")

    answering: set[asyncio.Task[None]] = set()

    def answer(call: Call) -> None:
        task = asyncio.ensure_future(call.accept())
        answering.add(task)
        task.add_done_callback(answering.discard)

    flat.onIncomingCall(answer)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0 / per_second):
                    await stop.wait()
            call = door.createCall(callee, CallType.AUDIO)
            try:
                await call.start()
                await call.wait_for(CallState.IN_CALL, timeout=10)
                await call.hangUp()
                await call.wait_for(CallState.COMPLETED, timeout=10)
                count.ok += 1
            except Exception as exc:
                count.failed += 1
                seen = ",".join(s.value for s in call.states_seen)
                count.errors.append(f"{type(exc).__name__}: {exc} (states {seen})"[:300])
    finally:
        await door.disconnect()
        await flat.disconnect()
    return count


async def round_trips(url: str, number: str, seconds: float, rate: float = 50.0) -> list[float]:
    """A logged-in client's request/answer times (webphone.state), in seconds."""
    async with ws_connect(url, compression=None) as ws:
        await ws.send(m.encode_request("login", {"extension": number, "password": PASSWORD}, 0))
        if json.loads(await ws.recv())["type"] != "result":
            raise RuntimeError(f"{number} could not log in")
        query = m.encode_request("webphone.state", {"webphone_id": number}, 1)
        samples: list[float] = []
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            n += 1
            t0 = time.perf_counter()
            await ws.send(query)
            while json.loads(await ws.recv()).get("id") != 1:
                pass
            samples.append(time.perf_counter() - t0)
        return samples


async def _guess(url: str, address: str, stop: asyncio.Event, tries: list[int]) -> None:
    rng = random.Random(address)
    while not stop.is_set():
        ws = await _open(url, address)
        if ws is None:
            await asyncio.sleep(0.05)
            continue
        tries[0] += 1
        login = {"extension": rng.choice(["202", "999"]), "password": str(rng.random())}
        with contextlib.suppress(ConnectionClosed):
            await ws.send(m.encode_request("login", login, 0))
            await _drain(ws)
        await ws.close()


async def failure_time(url: str, extension: str, address: str) -> float:
    ws = await _open(url, address)
    if ws is None:
        raise RuntimeError(f"could not connect from {address}")
    t0 = time.perf_counter()
    await ws.send(m.encode_request("login", {"extension": extension, "password": "wrong"}, 0))
    reply = json.loads(await ws.recv())
    elapsed = time.perf_counter() - t0
    await ws.close()
    if reply["data"].get("code") != 305:
        raise RuntimeError(f"expected an authentication failure, got {reply}")
    return elapsed


def _ms(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 2)


async def measure_guessing(url: str, seconds: float) -> dict[str, Any]:
    alone = await round_trips(url, "100", seconds)
    stop = asyncio.Event()
    tries = [0]
    guessers = [
        asyncio.ensure_future(_guess(url, f"127.0.1.{n + 1}", stop, tries)) for n in range(100)
    ]
    try:
        flooded = await round_trips(url, "100", seconds)
    finally:
        stop.set()
        await asyncio.gather(*guessers, return_exceptions=True)
    # Alternated, so that whatever else the machine does weighs on both alike.
    known: list[float] = []
    unknown: list[float] = []
    for n in range(GUESS_TARGETS):
        known.append(await failure_time(url, f"g{n:03d}", f"127.0.2.{n + 1}"))
        unknown.append(await failure_time(url, f"x{n:03d}", f"127.0.3.{n + 1}"))
    return {
        "round_trip_alone_p50_ms": _ms(alone, 0.5),
        "round_trip_alone_p99_ms": _ms(alone, 0.99),
        "round_trip_flood_p50_ms": _ms(flooded, 0.5),
        "round_trip_flood_p99_ms": _ms(flooded, 0.99),
        "flood_ratio_p50": round(percentile(flooded, 0.5) / percentile(alone, 0.5), 2),
        "guessing_connections": 100,
        "guesses_sent": tries[0],
        "guesses_per_second": round(tries[0] / seconds, 1),
        "failed_login_known_ms": round(statistics.median(known) * 1000, 2),
        "failed_login_unknown_ms": round(statistics.median(unknown) * 1000, 2),
    }


async def fuzz_while_calling(
    url: str, total: int, seed: int, pid: int | None = None
) -> dict[str, Any]:
    """``total`` hostile frames while a caller keeps calling; what it cost."""
    rss_before = rss_kib(pid) if pid else None
    stop = asyncio.Event()
    calls = asyncio.ensure_future(keep_calling(url, "100", "201", stop))
    frames = hostile_frames(seed)
    budget = FuzzCount()
    started = time.perf_counter()
    attackers = [
        _attacker(url, f"127.0.4.{n + 1}", frames, budget, total, None) for n in range(8)
    ] + [
        _attacker(url, f"127.0.5.{n + 1}", frames, budget, total, (number, PASSWORD))
        for n, number in enumerate(NEIGHBOURS)
    ]
    await asyncio.gather(*attackers)
    elapsed = time.perf_counter() - started
    stop.set()
    result = await calls
    ghosts = await _ghosts(url)
    return {
        "frames": budget.frames,
        "frames_per_second": round(budget.frames / elapsed, 1),
        "connections": budget.connections,
        "connections_refused": budget.refused_connections,
        "legitimate_calls": result.ok,
        "failed_calls": result.failed,
        "call_errors": result.errors[:5],
        "ghost_registrations": ghosts,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_kib(pid) if pid else None,
    }


async def _ghosts(url: str) -> int:
    """Clients the exchange still shows online once every attacker has gone."""
    watcher = OzWebClient(media=False)
    await watcher.connect(url, "900", password=PASSWORD)
    try:
        return len([n for n in watcher.clients if n != "900"])
    finally:
        await watcher.disconnect()


# --------------------------------------------------------------------- run


def fuzz_config(directory: Path, hashed: bool) -> Path:
    from intercom.exchange.auth import hash_password

    secret = hash_password(PASSWORD) if hashed else PASSWORD

    def ext(number: str, privileges: list[str]) -> dict[str, Any]:
        return {"number": number, "password": secret, "privileges": privileges}

    extensions = [ext("100", ["call", "door"]), ext("201", ["call", "door"]),
                  ext("202", ["call"]), ext("900", ["call", "directory", "monitor"])]  # fmt: skip
    extensions += [ext(n, ["call"]) for n in NEIGHBOURS]
    extensions += [ext(f"g{n:03d}", ["call"]) for n in range(GUESS_TARGETS)]
    settings = {"host": "127.0.0.1", "port": 0, "data_dir": str(directory)}
    config = {"exchange": {**settings, "tls": {"enabled": False}}, "extensions": extensions}
    path = directory / "fuzz.toml"
    path.write_text(tomli_w.dumps(config))
    return path


async def _run(args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/"
    guessing = await measure_guessing(url, args.seconds)
    fuzz = await fuzz_while_calling(url, args.frames, args.seed, pid)
    return {"guessing": guessing, "fuzz": fuzz}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="intercom-fuzz-") as tmp:
        config = fuzz_config(Path(tmp), hashed=True)
        port = _free_port()
        exchange = _start(
            ["intercom.cli", "exchange", "--config", str(config), "--port", str(port)],
            b"exchange listening",
        )
        try:
            result = asyncio.run(_run(args, port, exchange.pid))
        finally:
            exchange.terminate()
            exchange.wait(timeout=30)
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    return result


def table(result: dict[str, Any]) -> str:
    g, f = result["guessing"], result["fuzz"]
    rows = [
        (
            "round trip during a 100-connection guessing flood",
            f"p50 {g['round_trip_flood_p50_ms']} ms, p99 {g['round_trip_flood_p99_ms']} ms "
            f"(alone p50 {g['round_trip_alone_p50_ms']} ms, x{g['flood_ratio_p50']})",
            "p50 <= 20 ms",
        ),
        (
            "failed login: known vs unknown extension",
            f"{g['failed_login_known_ms']} ms vs {g['failed_login_unknown_ms']} ms",
            "the same",
        ),
        (
            "hostile frames while calling",
            f"{f['frames']} ({f['frames_per_second']}/s), {f['legitimate_calls']} calls, "
            f"{f['failed_calls']} failed, {f['ghost_registrations']} ghosts",
            "0 failed, 0 ghosts",
        ),
        (
            "exchange memory before / after",
            f"{f['rss_kib_before']} KiB / {f['rss_kib_after']} KiB",
            "bounded",
        ),
    ]
    return format_table(rows)


def main(args: argparse.Namespace) -> int:
    result = measure(args)
    print(json.dumps(result) if args.json else table(result))
    ok = result["fuzz"]["failed_calls"] == 0 and result["fuzz"]["ghost_registrations"] == 0
    return 0 if ok else 1
