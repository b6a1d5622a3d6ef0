"""HTTPS and WSS for the exchange: a configured certificate, or one made on first start.

Browsers give a page the microphone and camera only in a secure context, so the exchange speaks
TLS by default. A device without a configured certificate makes its own self-signed one (an
ECDSA P-256 key, valid for ten years, naming ``localhost``, the host's name and ``<name>.local``,
loopback, every address of the host, the listening address and any configured names) the first
time it starts, and keeps it in its data directory: every device has its own key, none is shipped.
When the host's names or addresses change, the next start re-issues it for the new ones.

The certificate is a leaf (CA:FALSE, serverAuth only), not a CA: a resident who trusts it, or a
station that pins it (OpenSSL accepts a self-signed leaf as its own trust anchor), trusts this
exchange and nothing else, even if its key is stolen one day.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from intercom.atomicfile import write_atomic

log = logging.getLogger(__name__)

VALID_DAYS = 3650


@dataclass(frozen=True)
class CertificatePair:
    certificate: Path
    key: Path
    generated: bool

    def fingerprint(self) -> str:
        """SHA-256 of the certificate, as browsers show it (AA:BB:...)."""
        cert = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()


def _subject_names(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            general: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            general = x509.DNSName(name.lower())  # DNS names are compared without case
        if general not in out:  # keep the order, drop repeats
            out.append(general)
    return out


def certificate_names(certificate: x509.Certificate) -> list[str]:
    """The names and addresses a certificate is valid for (its subjectAltName)."""
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in alternative.value]


def covers(certificate: Path, names: list[str]) -> bool:
    """Whether ``certificate`` names every one of ``names`` (addresses compared as addresses,
    host names without case)."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    try:
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return not names
    return all(name in present for name in _subject_names(names))


def generate_self_signed(
    certificate: Path, key: Path, names: list[str], keep_key: bool = False
) -> None:
    """Write a self-signed leaf certificate for ``names``, and its key (mode 0600): a new one,
    or with ``keep_key`` the one already in ``key``."""
    if keep_key:
        loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key} does not hold an ECDSA key")
        private_key = loaded
    else:
        private_key = ec.generate_private_key(ec.SECP256R1())
    key_id = x509.SubjectKeyIdentifier.from_public_key(private_key.public_key())
    common_name = next((n for n in names if n != "localhost"), names[0])
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "intercom"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))  # tolerate a clock a little behind
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
        # Not a CA: it cannot vouch for any other site's certificate.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,  # ECDHE-ECDSA: the key only signs the handshake
                key_cert_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(key_id, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_id), critical=False
        )
        .sign(private_key, hashes.SHA256())
    )
    key.parent.mkdir(parents=True, exist_ok=True)
    if not keep_key:
        key_bytes = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(key, key_bytes, mode=0o600)
    write_atomic(certificate, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def is_certificate_authority(path: Path) -> bool:
    """Whether the certificate in ``path`` may sign others (BasicConstraints CA:TRUE)."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (ValueError, x509.ExtensionNotFound):
        return False


def ensure_certificate(
    configured_certificate: Path | None,
    configured_key: Path | None,
    data_dir: Path,
    names: list[str],
) -> CertificatePair:
    """The configured pair as given, else the device's own for ``names`` (every name and
    address the exchange is reached by): made now if there is none yet, re-issued if it no
    longer names them all. A configured certificate is never changed: its owner chose its
    names."""
    if configured_certificate is not None and configured_key is not None:
        for path in (configured_certificate, configured_key):
            if not path.is_file():
                raise FileNotFoundError(f"TLS file {path} does not exist")
        return CertificatePair(configured_certificate, configured_key, generated=False)
    certificate, key = own_certificate(data_dir)
    folder = certificate.parent
    if certificate.is_file() and key.is_file():
        if is_certificate_authority(certificate):
            # Made by an older version, which issued a CA. It is kept, not re-issued: stations
            # that pin it (exchange_certificate) and browsers that accepted it would all fail
            # until someone copied the new one to each, and a door that cannot ring is worse.
            # Its key never left this device (0600); whoever wants a leaf removes the two files.
            log.warning(
                "%s is a CA certificate made by an older version; it is kept so that what "
                "trusts it keeps connecting. For a leaf certificate: remove it and %s, restart, "
                "and copy the new one to the stations that pin it",
                certificate,
                key,
            )
            return CertificatePair(certificate, key, generated=False)
        if covers(certificate, names):
            return CertificatePair(certificate, key, generated=False)
        # A new address or name (DHCP gave another lease, tls.names grew): without it in the
        # certificate, a client dialling it fails the hostname check. Re-issued with the same
        # key, so the key never leaves the device and nothing new must be kept secret; but the
        # certificate, and so its fingerprint, is new: a station that pins the old certificate
        # (exchange_certificate) needs the new file copied to it, and a browser that accepted
        # the old one warns once more. One that pins the public key keeps trusting it.
        generate_self_signed(certificate, key, names, keep_key=True)
        pair = CertificatePair(certificate, key, generated=True)
        log.warning(
            "re-issued the TLS certificate in %s for %s (same key); new SHA-256 %s: copy it "
            "to the stations that pin the old one",
            folder,
            ", ".join(names),
            pair.fingerprint(),
        )
        return pair
    generate_self_signed(certificate, key, names)
    log.info("made a self-signed TLS certificate in %s", folder)
    return CertificatePair(certificate, key, generated=True)


def own_certificate(data_dir: Path) -> tuple[Path, Path]:
    """Where a device keeps the certificate and key it makes itself."""
    folder = data_dir / "tls"
    return folder / "certificate.pem", folder / "key.pem"


def describe(certificate: Path, generated: bool) -> str:
    """What ``intercom tls show`` prints: the fingerprint to compare with what a browser or
    station shows, the names a client may dial, the validity and where it came from."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    pair = CertificatePair(certificate, certificate, generated)
    return "\n".join(
        [
            f"certificate  {certificate}",
            f"SHA-256      {pair.fingerprint()}",
            f"names        {', '.join(certificate_names(cert)) or '(none)'}",
            f"valid from   {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            f"valid until  {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
            "generated    "
            + ("yes, by this device (re-issued when its names change)" if generated
               else "no, configured (tls.certificate)"),
        ]
    )  # fmt: skip


def server_context(pair: CertificatePair) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pair.certificate, pair.key)
    return context
