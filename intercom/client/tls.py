"""How a client trusts the exchange it connects to over ``wss://``.

This lives with the client, not the exchange: a client needs no exchange code to verify one
(the exchange makes its certificate, ``intercom.exchange.tls``; a client only checks it).
"""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(trusted: Path | str | None = None) -> ssl.SSLContext:
    """Verify the exchange against the system's CAs, or against ``trusted`` alone (a CA or the
    exchange's own self-signed certificate: pinning it; OpenSSL takes a self-signed leaf as a
    trust anchor for itself)."""
    context = ssl.create_default_context(cafile=str(trusted) if trusted is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
