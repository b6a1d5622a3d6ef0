"""The exchange's HTTP face on its one port: /WebphoneAPI, the web apps, and origin checks.

A request that asks for a WebSocket upgrade goes on to the API (if its page's origin may
connect); every other GET is answered here from the files in ``intercom/web``, read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from intercom import __version__

#: The names the library gives browsers, exported again when it is loaded as an ES module.
API_NAMES = (
    "OzWebClient",
    "Call",
    "Session",
    "Extension",
    "User",
    "Helper",
    "OzCamera",
    "ConnectionState",
    "CallState",
    "CallType",
    "SessionState",
    "ClientStatus",
    "WebphoneState",
)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/manifest+json",
}

#: URL path → file in intercom/web. The library has the seed's extension-less address.
ROUTES = {
    "/": "index.html",
    "/index.html": "index.html",
    "/concierge": "concierge.html",
    "/app.js": "app.js",
    "/concierge.js": "concierge.js",
    "/app.css": "app.css",
    "/icon.svg": "icon.svg",
    "/manifest.json": "manifest.json",
    "/WebphoneAPI": "WebphoneAPI.js",
    "/WebphoneAPI.js": "WebphoneAPI.js",
}
LIBRARY_PATHS = frozenset({"/WebphoneAPI", "/WebphoneAPI.js", "/WebphoneAPI.mjs"})

# Our pages load only their own scripts and talk only to this exchange; media streams are
# MediaStream objects (no URL), so nothing else is needed.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self' wss: ws:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def _load_assets() -> dict[str, Asset]:
    folder = resources.files("intercom") / "web"
    assets: dict[str, Asset] = {}
    for path, name in ROUTES.items():
        body = (folder / name).read_bytes()
        suffix = name[name.rfind(".") :]
        assets[path] = Asset(body, _TYPES[suffix])
    library = assets["/WebphoneAPI"].body
    names = ", ".join(API_NAMES)
    # The script defines globals; as a module it also exports them, and connects by default
    # to the exchange it was imported from.
    exports = (
        f"\nconst {{ {names} }} = globalThis;\n"
        "OzWebClient._setLibraryUrl(import.meta.url);\n"
        f"export {{ {names} }};\n"
    ).encode()
    assets["/WebphoneAPI.mjs"] = Asset(library + exports, _TYPES[".mjs"])
    return assets


def _response(status: HTTPStatus, body: bytes, headers: list[tuple[str, str]]) -> Response:
    all_headers = Headers(headers)
    all_headers["Content-Length"] = str(len(body))
    all_headers["X-Content-Type-Options"] = "nosniff"
    all_headers["Referrer-Policy"] = "no-referrer"
    return Response(status.value, status.phrase, all_headers, body)


class WebFront:
    """Serves the files and decides which web origins may use the API."""

    def __init__(self, allowed_origins: list[str], secure: bool) -> None:
        self.allow(allowed_origins)
        self.scheme = "https" if secure else "http"
        self.assets = _load_assets()

    def allow(self, origins: list[str]) -> None:
        """The other web origins whose pages may use the API (set again on reload)."""
        self.allowed_origins = frozenset(o.lower() for o in origins)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """Browsers name the page's origin; other clients send none and are not pages."""
        if origin is None:
            return True
        origin = origin.lower()
        own = f"{self.scheme}://{host}".lower() if host else None
        return origin == own or origin in self.allowed_origins

    def handle(self, request: Request) -> Response | None:
        """The answer to a plain HTTP request, or None to go on with the WebSocket handshake."""
        headers = request.headers
        host = headers.get("Host")
        origin = headers.get("Origin")
        if "websocket" in headers.get("Upgrade", "").lower():
            if not self.origin_allowed(origin, host):
                body = b"this origin may not use the exchange; see allowed_origins\n"
                return _response(HTTPStatus.FORBIDDEN, body, [("Content-Type", "text/plain")])
            return None
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return _response(HTTPStatus.OK, b"ok\n", [("Content-Type", "text/plain")])
        asset = self.assets.get(path)
        if asset is None:
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", [("Content-Type", "text/plain")])
        extra = [
            ("Content-Type", asset.content_type),
            ("Cache-Control", "no-cache"),
            ("Server", f"intercom/{__version__}"),
        ]
        if path in LIBRARY_PATHS:
            # Third-party pages load the library: a classic <script> needs no CORS, a module
            # import does, and only the origins the exchange trusts get it.
            if origin is not None and self.origin_allowed(origin, host):
                extra += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        else:
            extra += [("Content-Security-Policy", _PAGE_POLICY), ("X-Frame-Options", "DENY")]
        return _response(HTTPStatus.OK, asset.body, extra)
