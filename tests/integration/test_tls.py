"""TLS by default, the device's own certificate, the files served to browsers, origin checks."""

from __future__ import annotations

import asyncio
import http.client
import ssl
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from intercom.client import ConnectionState, OzWebClient
from intercom.configfile import ConfigError
from intercom.exchange.server import Exchange
from intercom.exchange.tls import client_context, generate_self_signed

from ..conftest import PASSWORD, directory_config

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, **tls: Any) -> Path:
    config = directory_config(tls=tls, allowed_origins=["https://portal.example.org"])
    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(config))
    return path


async def started(path: Path) -> Exchange:
    exchange = Exchange.from_file(path)
    await exchange.start()
    return exchange


def get(
    port: int, path: str, trust: Path, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=client_context(trust), timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


async def login(url: str, trust: Path | ssl.SSLContext | None) -> ConnectionState:
    client = OzWebClient(media=False, trust=trust, reconnect=False)
    state = await client.connect(url, "201", password=PASSWORD.format("201"))
    await client.disconnect()
    return state


async def test_first_start_makes_a_certificate_and_speaks_only_tls(tmp_path: Path) -> None:
    exchange = await started(write_config(tmp_path))
    try:
        assert exchange.url.startswith("wss://127.0.0.1:")
        assert exchange.certificate is not None and exchange.certificate.generated
        cert = exchange.certificate.certificate
        assert cert == tmp_path / "data" / "tls" / "certificate.pem"
        assert exchange.certificate.key.stat().st_mode & 0o777 == 0o600
        assert await login(exchange.url, cert) is ConnectionState.ACCESS_GRANTED
        # The seed's bare address form means TLS now.
        assert await login(f"127.0.0.1:{exchange.port}", cert) is ConnectionState.ACCESS_GRANTED
        # Not trusted by the system's CAs, and no plain WebSocket on the port.
        assert await login(exchange.url, None) is ConnectionState.CONNECTION_FAILED
        plain = f"ws://127.0.0.1:{exchange.port}/"
        assert await login(plain, None) is ConnectionState.CONNECTION_FAILED
        fingerprint = exchange.certificate.fingerprint()
    finally:
        await exchange.stop()
    again = await started(tmp_path / "exchange.toml")  # the next start keeps its certificate
    try:
        assert again.certificate is not None and not again.certificate.generated
        assert again.certificate.fingerprint() == fingerprint
    finally:
        await again.stop()


async def test_a_configured_certificate_is_used_as_given(tmp_path: Path) -> None:
    own = tmp_path / "site"
    generate_self_signed(own / "door.pem", own / "door.key", ["127.0.0.1", "door.example"])
    exchange = await started(
        write_config(tmp_path, certificate="site/door.pem", key="site/door.key")
    )
    try:
        assert exchange.certificate is not None
        assert exchange.certificate.certificate == own / "door.pem"
        assert not (tmp_path / "data" / "tls").exists()
        assert await login(exchange.url, own / "door.pem") is ConnectionState.ACCESS_GRANTED
    finally:
        await exchange.stop()


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give both 'certificate' and 'key'"):
        Exchange.from_file(write_config(tmp_path, certificate="a.pem"))


async def test_a_missing_certificate_file_stops_the_start(tmp_path: Path) -> None:
    exchange = Exchange.from_file(write_config(tmp_path, certificate="no.pem", key="no.key"))
    with pytest.raises(FileNotFoundError, match=r"no\.pem"):
        await exchange.start()
    await exchange.stop()


async def test_pages_and_the_library_are_served(tmp_path: Path) -> None:
    exchange = await started(write_config(tmp_path))
    assert exchange.certificate is not None
    cert = exchange.certificate.certificate
    try:
        status, headers, body = await asyncio.to_thread(get, exchange.port, "/", cert)
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert b'<script src="/WebphoneAPI"></script>' in body
        assert "script-src 'self'" in headers["content-security-policy"]
        status, headers, body = await asyncio.to_thread(get, exchange.port, "/WebphoneAPI", cert)
        assert status == 200 and headers["content-type"].startswith("text/javascript")
        assert b"OzWebClient" in body and b"export {" not in body
        assert "access-control-allow-origin" not in headers
        status, _, module = await asyncio.to_thread(get, exchange.port, "/WebphoneAPI.mjs", cert)
        assert status == 200 and module.startswith(body)
        assert b"export { OzWebClient, Call, Session" in module
        status, _, page = await asyncio.to_thread(get, exchange.port, "/concierge", cert)
        assert status == 200 and b"Live calls" in page
        status, _, _ = await asyncio.to_thread(get, exchange.port, "/../exchange.toml", cert)
        assert status == 404
        status, _, body = await asyncio.to_thread(get, exchange.port, "/healthz", cert)
        assert (status, body) == (200, b"ok\n")
    finally:
        await exchange.stop()


async def test_only_allowed_origins_get_cors_and_websockets(tmp_path: Path) -> None:
    exchange = await started(write_config(tmp_path))
    assert exchange.certificate is not None
    cert = exchange.certificate.certificate
    context = client_context(cert)
    try:
        allowed = {"Origin": "https://portal.example.org"}
        _, headers, _ = await asyncio.to_thread(
            get, exchange.port, "/WebphoneAPI.mjs", cert, allowed
        )
        assert headers["access-control-allow-origin"] == "https://portal.example.org"
        other = {"Origin": "https://evil.example"}
        _, headers, _ = await asyncio.to_thread(get, exchange.port, "/WebphoneAPI.mjs", cert, other)
        assert "access-control-allow-origin" not in headers
        own = f"https://127.0.0.1:{exchange.port}"
        for origin in (own, "https://portal.example.org"):
            async with ws_connect(exchange.url, ssl=context, origin=origin) as ws:
                await ws.send('{"v":1,"type":"webphone.state","id":1,"data":{"webphone_id":"100"}}')
                assert '"OFFLINE"' in str(await ws.recv())
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(exchange.url, ssl=context, origin="https://evil.example")
        assert refused.value.response.status_code == 403
    finally:
        await exchange.stop()


async def test_reload_changes_the_allowed_origins(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    exchange = await started(path)
    try:
        assert not exchange.web.origin_allowed("https://new.example", "127.0.0.1:1")
        config = directory_config(allowed_origins=["https://new.example"])
        path.write_text(tomli_w.dumps(config))
        assert exchange.reload()
        assert exchange.web.origin_allowed("https://new.example", "127.0.0.1:1")
        assert not exchange.web.origin_allowed("https://portal.example.org", "127.0.0.1:1")
    finally:
        await exchange.stop()
