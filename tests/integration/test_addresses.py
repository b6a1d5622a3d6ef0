"""Every address: the generated certificate names the ways the exchange is reached (and is
re-issued when they change), ``intercom tls show`` prints it, and the demo's station dials an
address its exchange serves. In the loopback-only namespace 127.0.0.2 and up stand in for
"another address of this host" (all of 127/8 is on lo)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography import x509

from intercom.client import ConnectionState, OzWebClient
from intercom.exchange.server import Exchange
from intercom.exchange.tls import certificate_names, generate_self_signed

from ..conftest import PASSWORD, Recorder, directory_config

pytestmark = pytest.mark.integration


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intercom.cli", *args], capture_output=True, text=True, timeout=60
    )


def write_config(tmp_path: Path, host: str = "127.0.0.1", **tls: Any) -> Path:
    config = directory_config(host=host, tls={"enabled": True, **tls})
    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(config))
    return path


async def started(path: Path) -> Exchange:
    exchange = Exchange.from_file(path)
    await exchange.start()
    return exchange


async def login(url: str, trust: Path) -> ConnectionState:
    """Log in pinning ``trust``; OzWebClient checks the host name against the certificate."""
    client = OzWebClient(media=False, trust=trust, reconnect=False)
    state = await client.connect(url, "201", password=PASSWORD.format("201"))
    await client.disconnect()
    return state


async def test_a_pinned_client_dials_the_listening_address_with_hostname_checks(
    tmp_path: Path,
) -> None:
    exchange = await started(write_config(tmp_path, host="127.0.0.2"))
    try:
        assert exchange.certificate is not None
        trust = exchange.certificate.certificate
        assert "127.0.0.2" in certificate_names(x509.load_pem_x509_certificate(trust.read_bytes()))
        assert exchange.url == f"wss://127.0.0.2:{exchange.port}/"
        assert await login(exchange.url, trust) is ConnectionState.ACCESS_GRANTED
    finally:
        await exchange.stop()


async def test_configured_names_are_dialled_and_others_fail_the_hostname_check(
    tmp_path: Path,
) -> None:
    exchange = await started(write_config(tmp_path, host="0.0.0.0", names=["127.0.0.3"]))
    try:
        assert exchange.certificate is not None
        trust = exchange.certificate.certificate
        port = exchange.port
        assert await login(f"wss://127.0.0.3:{port}/", trust) is ConnectionState.ACCESS_GRANTED
        # The same server and certificate, dialled by an address it does not name: refused,
        # which shows the check above was on.
        assert await login(f"wss://127.0.0.4:{port}/", trust) is (ConnectionState.CONNECTION_FAILED)
    finally:
        await exchange.stop()


async def test_a_certificate_that_no_longer_names_the_host_is_reissued_with_its_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = await started(write_config(tmp_path, names=["door.example.org"]))
    await exchange.stop()
    assert exchange.certificate is not None
    first = exchange.certificate
    before_fingerprint, before_key = first.fingerprint(), first.key.read_bytes()
    # The same names: kept as it is.
    again = await started(write_config(tmp_path, names=["door.example.org"]))
    await again.stop()
    assert again.certificate is not None and not again.certificate.generated
    assert again.certificate.fingerprint() == before_fingerprint
    # A new address to be reached by: re-issued, same key, new fingerprint, logged.
    with caplog.at_level(logging.WARNING, logger="intercom.exchange.tls"):
        moved = await started(write_config(tmp_path, host="127.0.0.5", names=["door.example.org"]))
    try:
        assert moved.certificate is not None and moved.certificate.generated
        assert moved.certificate.key.read_bytes() == before_key
        after = moved.certificate.fingerprint()
        assert after != before_fingerprint
        assert f"new SHA-256 {after}" in caplog.text
        names = certificate_names(
            x509.load_pem_x509_certificate(moved.certificate.certificate.read_bytes())
        )
        assert {"127.0.0.5", "door.example.org", "localhost", "127.0.0.1"} <= set(names)
        assert moved.certificate.key.stat().st_mode & 0o777 == 0o600
        assert await login(moved.url, moved.certificate.certificate) is (
            ConnectionState.ACCESS_GRANTED
        )
    finally:
        await moved.stop()


async def test_a_configured_certificate_is_never_reissued(tmp_path: Path) -> None:
    cert, key = tmp_path / "mine.pem", tmp_path / "mine.key"
    generate_self_signed(cert, key, ["door.example.org"])
    before = cert.read_bytes(), key.read_bytes()
    path = write_config(tmp_path, host="127.0.0.2", certificate="mine.pem", key="mine.key")
    exchange = await started(path)
    try:
        assert exchange.certificate is not None and exchange.certificate.certificate == cert
    finally:
        await exchange.stop()
    assert (cert.read_bytes(), key.read_bytes()) == before
    assert not (tmp_path / "data" / "tls").exists()
    shown = cli("tls", "show", "--config", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "names        door.example.org" in shown.stdout
    assert "generated    no, configured" in shown.stdout


async def test_tls_show_prints_fingerprint_names_validity_and_origin(tmp_path: Path) -> None:
    path = write_config(tmp_path, host="127.0.0.2", names=["door.example.org"])
    missing = cli("tls", "show", "--config", str(path))
    assert missing.returncode == 3 and "no certificate yet" in missing.stderr
    exchange = await started(path)
    await exchange.stop()
    assert exchange.certificate is not None
    fingerprint = exchange.certificate.fingerprint()
    # From the exchange's file, and from a station file that carries that exchange.
    station = tmp_path / "station.toml"
    station.write_text(tomli_w.dumps({
        "station": {"extension": "100", "password": "secret-100", "simulated": True,
                    "exchange": "127.0.0.2", "camera": "none",
                    "embedded_exchange": "exchange.toml"},
    }))  # fmt: skip
    for config in (path, station):
        shown = cli("tls", "show", "--config", str(config))
        assert shown.returncode == 0, shown.stderr
        lines = dict(
            line.split(None, 1) for line in shown.stdout.replace("valid ", "valid_").splitlines()
        )
        assert lines["SHA-256"] == fingerprint
        assert {"127.0.0.2", "door.example.org", "localhost"} <= set(lines["names"].split(", "))
        assert lines["valid_from"].endswith("UTC") and lines["valid_until"].endswith("UTC")
        assert lines["generated"].startswith("yes")
    alone = tmp_path / "alone.toml"
    alone.write_text(tomli_w.dumps({
        "station": {"extension": "100", "password": "secret-100", "simulated": True,
                    "exchange": "127.0.0.2", "camera": "none"},
    }))  # fmt: skip
    refused = cli("tls", "show", "--config", str(alone))
    assert refused.returncode == 2 and "no embedded_exchange" in refused.stderr


async def test_demo_on_another_address_comes_online(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom.cli", "demo", "--host", "127.0.0.2", "--port", "0",
        "--data-dir", str(data),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(20):
            first = (await proc.stdout.readline()).decode()
            logins = [(await proc.stdout.readline()).decode().split() for _ in range(4)]
        assert first.startswith("intercom demo running: https://127.0.0.2:")
        address = first.split()[-1]
        watcher = OzWebClient(media=False, trust=data / "tls" / "certificate.pem")
        presence = Recorder(watcher.onClientStateChanged)
        assert await watcher.connect(address, "900", password=logins[3][3]) is (
            ConnectionState.ACCESS_GRANTED
        )
        try:
            # The door station logs in to the exchange (already, or soon).
            state = await watcher.checkWebphoneState(address, "100")
            if state.get("state") != "ONLINE":
                await presence.wait_for(
                    lambda i: i["phoneNumber"] == "100" and i["status"] == "ONLINE", timeout=20
                )
        finally:
            await watcher.disconnect()
    finally:
        proc.terminate()
        await proc.wait()
    assert "127.0.0.2:" in (data / "station.toml").read_text()
