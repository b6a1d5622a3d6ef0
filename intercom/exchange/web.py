"""The exchange's HTTP face on its one port: /WebphoneAPI, the web apps, and origin checks.

A request that asks for a WebSocket upgrade goes on to the API (if its page's origin may
connect); every other GET is answered here from the files in ``intercom/web``, read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources

from websockets.datastructures import Headers, MultipleValuesError
from websockets.http11 import Request, Response

from intercom import __version__

from .addresses import url_host

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
    """Serves the files and decides which web origins may use the API.

    The exchange's own origins come from its configuration and the machine's names and
    addresses, never from the request's ``Host`` header: a page on another site that a
    DNS rebinding points at this exchange names itself in ``Origin`` and gets nothing."""

    def __init__(self, allowed_origins: list[str], secure: bool) -> None:
        self.allow(allowed_origins)
        self.scheme = "https" if secure else "http"
        self.assets = _load_assets()
        self.own_origins: frozenset[str] = frozenset()

    def allow(self, origins: list[str]) -> None:
        """The other web origins whose pages may use the API (set again on reload)."""
        self.allowed_origins = frozenset(o.lower() for o in origins)

    def serve_as(self, names: list[str], port: int) -> None:
        """The names and addresses the exchange is reached by on ``port``: its own pages
        are served from these origins."""
        default = 443 if self.scheme == "https" else 80
        origins = set()
        for name in names:
            host = url_host(name)
            origins.add(f"{self.scheme}://{host}:{port}")
            if port == default:
                origins.add(f"{self.scheme}://{host}")
        self.own_origins = frozenset(origins)

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers name the page's origin; other clients send none and are not pages."""
        if origin is None:
            return True
        origin = origin.lower()
        return origin in self.own_origins or origin in self.allowed_origins

    def handle(self, request: Request) -> Response | None:
        """The answer to a plain HTTP request, or None to go on with the WebSocket handshake."""
        headers = request.headers
        try:
            origin = headers.get("Origin")
            upgrade = headers.get("Upgrade", "")
        except MultipleValuesError:
            return _response(
                HTTPStatus.BAD_REQUEST,
                b"a header that may appear once appears several times\n",
                [("Content-Type", "text/plain")],
            )
        if "websocket" in upgrade.lower():
            if not self.origin_allowed(origin):
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
            if origin is not None and self.origin_allowed(origin):
                extra += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        else:
            extra += [("Content-Security-Policy", _PAGE_POLICY), ("X-Frame-Options", "DENY")]
        return _response(HTTPStatus.OK, asset.body, extra)
