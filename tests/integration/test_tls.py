"""TLS by default, the device's own certificate, the files served to browsers, origin checks."""

from __future__ import annotations

import asyncio
import datetime
import http.client
import ipaddress
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from intercom.client import ConnectionState, OzWebClient
from intercom.client.tls import client_context
from intercom.configfile import ConfigError
from intercom.exchange.server import Exchange
from intercom.exchange.tls import generate_self_signed

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
            async with ws_connect(exchange.url, ssl=context, origin=Origin(origin)) as ws:
                await ws.send('{"v":1,"type":"webphone.state","id":1,"data":{"webphone_id":"100"}}')
                assert '"OFFLINE"' in str(await ws.recv())
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(exchange.url, ssl=context, origin=Origin("https://evil.example"))
        assert refused.value.response.status_code == 403
    finally:
        await exchange.stop()


async def test_reload_changes_the_allowed_origins(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    exchange = await started(path)
    try:
        assert not exchange.web.origin_allowed("https://new.example")
        config = directory_config(allowed_origins=["https://new.example"])
        path.write_text(tomli_w.dumps(config))
        assert exchange.reload()
        assert exchange.web.origin_allowed("https://new.example")
        assert not exchange.web.origin_allowed("https://portal.example.org")
    finally:
        await exchange.stop()


def handshake(certificate: Path, key: Path, trusted: Path, name: str, strict: bool = False) -> None:
    """A TLS handshake in memory between a server with ``certificate`` and a client that pins
    ``trusted`` (``client_context``, as OzWebClient(trust=...) makes it); raises if refused.
    ``strict``: strict X.509 checks, as Python 3.13 has them by default."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certificate, key)
    client = client_context(trusted)
    if strict:
        client.verify_flags |= ssl.VERIFY_X509_STRICT
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    ends = [
        (client.wrap_bio(c_in, c_out, server_hostname=name), c_out, s_in),
        (server.wrap_bio(s_in, s_out, server_side=True), s_out, c_in),
    ]
    done: set[int] = set()
    for _ in range(20):
        for i, (tls, out, peer) in enumerate(ends):
            if i not in done:
                try:
                    tls.do_handshake()
                    done.add(i)
                except ssl.SSLWantReadError:
                    pass
            peer.write(out.read())
        if len(done) == 2:
            return
    raise AssertionError("the handshake did not finish")


def signed_by(issuer_certificate: Path, issuer_key: Path, folder: Path, name: str) -> Path:
    """A certificate for ``name`` signed with the exchange's key, as someone holding that key
    would make one for another site; its key is written beside it as ``<name>.key``."""
    issuer = x509.load_pem_x509_certificate(issuer_certificate.read_bytes())
    signing_key = serialization.load_pem_private_key(issuer_key.read_bytes(), None)
    assert isinstance(signing_key, ec.EllipticCurvePrivateKey)
    own_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.subject)
        .public_key(own_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(own_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
        .sign(signing_key, hashes.SHA256())
    )
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        own_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def old_style_certificate(certificate: Path, key: Path) -> None:
    """What versions before the leaf made: a self-signed CA for 127.0.0.1."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "crl_sign", "encipher_only", "decipher_only"),
        False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, **usage), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    certificate.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_the_generated_certificate_is_a_leaf_that_vouches_for_nothing_else(
    tmp_path: Path,
) -> None:
    cert_path, key_path = tmp_path / "certificate.pem", tmp_path / "key.pem"
    generate_self_signed(cert_path, key_path, ["localhost", "127.0.0.1", "door.local"])
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not (usage.key_cert_sign or usage.crl_sign or usage.key_encipherment)
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.SERVER_AUTH]
    key_id = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert key_id == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    # Pinned, it is trusted for the names it carries (also under strict checks)...
    for strict in (False, True):
        handshake(cert_path, key_path, trusted=cert_path, name="door.local", strict=strict)
    # ...and a certificate for another site signed with its key is refused by whoever pins it.
    forged = signed_by(cert_path, key_path, tmp_path, "bank.example")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(forged, forged.with_suffix(".key"), trusted=cert_path, name="bank.example")


async def test_a_ca_certificate_of_an_older_version_is_kept_and_still_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = tmp_path / "data" / "tls"
    old_style_certificate(tls / "certificate.pem", tls / "key.pem")
    before = (tls / "certificate.pem").read_bytes(), (tls / "key.pem").read_bytes()
    with caplog.at_level(logging.WARNING, logger="intercom.exchange.tls"):
        exchange = await started(write_config(tmp_path))
    try:
        assert exchange.certificate is not None and not exchange.certificate.generated
        assert ((tls / "certificate.pem").read_bytes(), (tls / "key.pem").read_bytes()) == before
        # Stations that pinned it keep logging in.
        assert await login(exchange.url, tls / "certificate.pem") is (
            ConnectionState.ACCESS_GRANTED
        )
    finally:
        await exchange.stop()
    assert "is a CA certificate made by an older version" in caplog.text
