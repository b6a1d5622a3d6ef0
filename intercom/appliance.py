"""The appliance: a door station and, on a single-door home, the exchange it carries, in one
process (``intercom station --config FILE`` with ``embedded_exchange`` set).

The station itself never embeds an exchange (``intercom.station`` does not import
``intercom.exchange``); this level composes the two: the exchange starts first, the station
trusts its own certificate, a SIGHUP reloads both, and the exchange announces its process (its
pid file, for ``intercom passwd`` and ``intercom token revoke``) once the station's signal
handlers are in place. ``intercom demo`` is built the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from intercom.configfile import beside
from intercom.exchange.server import Exchange
from intercom.station.app import Station
from intercom.station.config import load_station_config
from intercom.station.service import serve_station


@contextlib.asynccontextmanager
async def running_exchange(config_path: Path | None) -> AsyncIterator[Exchange | None]:
    """The exchange of ``config_path``, running for the block (None: no exchange here)."""
    if config_path is None:
        yield None
        return
    exchange = Exchange.from_file(config_path)
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.stop()


def trust_of(exchange: Exchange | None) -> Path | None:
    """The certificate a station checks its embedded exchange's TLS against (its own)."""
    if exchange is None or exchange.certificate is None:
        return None
    return exchange.certificate.certificate


async def serve_appliance(station: Station, exchange: Exchange | None, stop: asyncio.Event) -> None:
    """Serve ``station`` (``serve_station``) with ``exchange`` running beside it: reloaded at
    each SIGHUP before the station, and announcing its process once signals are handled
    (before, a SIGHUP would end the process instead of reloading it)."""
    await serve_station(
        station,
        stop,
        on_reload=exchange.reload if exchange is not None else None,
        on_signals=exchange.write_pid_file if exchange is not None else None,
    )


async def run_station(config_path: Path | str, stop: asyncio.Event | None = None) -> None:
    """``intercom station``: the station of ``config_path``, with the exchange its
    ``embedded_exchange`` names (the single-door default) running in this process too; until
    SIGINT/SIGTERM or ``stop``."""
    config = load_station_config(config_path)
    embedded = config.station.embedded_exchange
    exchange_path = beside(config_path, embedded) if embedded else None
    async with running_exchange(exchange_path) as exchange:
        station = Station(config, config_path, trust=trust_of(exchange))
        await serve_appliance(station, exchange, stop or asyncio.Event())
