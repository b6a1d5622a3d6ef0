"""The exchange's HTTP face on its one port: /WebphoneAPI, the web apps, and origin checks.

A request that asks for a WebSocket upgrade goes on to the API (if its page's origin may
connect); every other GET is answered here from the files in ``intercom/web``, read once.
The browser library is written as ES modules (``intercom/web/lib``) and joined here, once, into
the one script pages load: no build step, and nothing but this file between the sources and
the browser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources

from websockets.datastructures import Headers, MultipleValuesError
from websockets.http11 import Request, Response

from intercom import __version__

from .addresses import url_host

#: The browser library's modules in ``intercom/web/lib``, in the order they are joined: each
#: imports only from modules before it, and the last one's exports are the names pages get.
LIBRARY_MODULES = (
    "protocol.js",
    "enums.js",
    "event.js",
    "addresses.js",
    "display.js",
    "history.js",
    "media.js",
    "camera.js",
    "call.js",
    "session.js",
    "directory.js",
    "client.js",
    "api.js",
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

#: URL path → file in intercom/web (the library, joined from intercom/web/lib, is apart).
ROUTES = {
    "/": "index.html",
    "/index.html": "index.html",
    "/concierge": "concierge.html",
    "/app.js": "app.js",
    "/concierge.js": "concierge.js",
    "/app.css": "app.css",
    "/icon.svg": "icon.svg",
    "/manifest.json": "manifest.json",
}
#: The library as a classic script (the seed's extension-less address, and with .js).
SCRIPT_PATHS = ("/WebphoneAPI", "/WebphoneAPI.js")
MODULE_PATH = "/WebphoneAPI.mjs"
LIBRARY_PATHS = frozenset({*SCRIPT_PATHS, MODULE_PATH})

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


# ------------------------------------------------------------------ the library, joined

# The forms of import and export the modules use, and the only ones joining understands:
#   import { a, b } from "./module.js";     (removed: one scope holds every module)
#   export function f / export var v ...    (the keyword removed)
#   export { a, b };                        (removed; the last module's list is the API)
# eslint.config.mjs refuses every other form in intercom/web/lib, so they fail the lint
# before they would fail here.
_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([\w.-]+)";?[ \t]*\n?', re.M)
_EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\};?[ \t]*\n?", re.M)
_EXPORT_KEYWORD = re.compile(r"^export\s+(?=(?:async\s+)?(?:function|class|var|let|const)\b)", re.M)
# A declaration at the top of a module (the modules keep their top level unindented), and one
# that is exported.
_DECLARED = r"(?:async\s+)?(?:function\*?\s*|class\s+|(?:var|let|const)\s+)([A-Za-z_$][\w$]*)"
_DECLARATION = re.compile(rf"^(?:export\s+)?{_DECLARED}", re.M)
_EXPORTED_DECLARATION = re.compile(rf"^export\s+{_DECLARED}", re.M)
_LEFTOVER = re.compile(r"^[ \t]*(?:import|export)\b.*$", re.M)
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")
# The classic script's wrapper function takes the global object by this name.
_WRAPPER_NAMES = frozenset({"global"})


class LibraryError(ValueError):
    """A module of the browser library that cannot be joined as it is written."""


@dataclass(frozen=True)
class Library:
    """The browser library, joined: the classic script, the ES module, the names they give."""

    script: str
    module: str
    names: tuple[str, ...]


def _names(listed: str, where: str) -> list[str]:
    names = [n.strip() for n in listed.split(",") if n.strip()]
    for name in names:
        if not _NAME.match(name):
            raise LibraryError(f"{where}: import and export plain names, not {name!r}")
    return names


def join_library(modules: Sequence[tuple[str, str]]) -> Library:
    """Joins ES modules, given as (file name, text) in their order, into one classic script
    and one ES module. Joining is concatenation in one function scope, so it checks what that
    needs: imports come from earlier modules and name what they export, and no two modules
    declare the same name at their top level. Raises LibraryError otherwise."""
    if not modules:
        raise LibraryError("no modules to join")
    exported: dict[str, set[str]] = {}
    declared_by: dict[str, str] = {}
    parts: list[str] = []
    listed: list[str] = []
    for file, text in modules:
        declared = set(_DECLARATION.findall(text))
        for name in sorted(declared):
            if name in _WRAPPER_NAMES:
                raise LibraryError(f"{file}: {name!r} is the joined script's own name")
            if name in declared_by:
                raise LibraryError(
                    f"{file}: {name!r} is also declared by {declared_by[name]}; the joined "
                    "modules share one scope"
                )
            declared_by[name] = file
        imported: set[str] = set()
        for match in _IMPORT.finditer(text):
            source = match.group(2)
            if source not in exported:
                raise LibraryError(f"{file}: imports from {source}, which is not joined before it")
            for name in _names(match.group(1), file):
                if name not in exported[source]:
                    raise LibraryError(f"{file}: {source} does not export {name!r}")
                imported.add(name)
        listed = []
        for match in _EXPORT_LIST.finditer(text):
            for name in _names(match.group(1), file):
                if name not in declared and name not in imported:
                    raise LibraryError(
                        f"{file}: exports {name!r}, which it neither declares nor imports"
                    )
                listed.append(name)
        exported[file] = set(_EXPORTED_DECLARATION.findall(text)) | set(listed)
        body = _EXPORT_LIST.sub("", _IMPORT.sub("", text))
        body = _EXPORT_KEYWORD.sub("", body)
        leftover = _LEFTOVER.search(body)
        if leftover:
            raise LibraryError(f"{file}: cannot join {leftover.group(0).strip()!r}")
        parts.append(f"// ---- {file}\n{body.strip()}\n")
    # The last module's export list is the API.
    last, names = modules[-1][0], tuple(listed)
    if not names:
        raise LibraryError(f"{last}: the last module exports the API with export {{ ... }}")
    published = "".join(f"  global.{name} = {name};\n" for name in names)
    script = (
        f"/* WebphoneAPI (intercom {__version__}): the browser library, joined by the exchange\n"
        f" * from intercom/web/lib; how to use it is at the start of {last} below. */\n"
        "(function (global) {\n"
        '  "use strict";\n\n'
        + "\n".join(parts)
        + f"\n// ---- the names pages use\n{published}"
        + '})(typeof globalThis !== "undefined" ? globalThis : this);\n'
    )
    api = ", ".join(names)
    # The module runs the same script, so it defines the same globals; it also exports them,
    # and connects by default to the exchange it was imported from.
    module = (
        script
        + f"\nconst {{ {api} }} = globalThis;\n"
        + "OzWebClient._setLibraryUrl(import.meta.url);\n"
        + f"export {{ {api} }};\n"
    )
    return Library(script, module, names)


def load_library() -> Library:
    """The library from the installed package's intercom/web/lib."""
    folder = resources.files("intercom") / "web" / "lib"
    return join_library([(name, (folder / name).read_text("utf-8")) for name in LIBRARY_MODULES])


def _load_assets() -> dict[str, Asset]:
    folder = resources.files("intercom") / "web"
    assets: dict[str, Asset] = {}
    for path, name in ROUTES.items():
        body = (folder / name).read_bytes()
        suffix = name[name.rfind(".") :]
        assets[path] = Asset(body, _TYPES[suffix])
    library = load_library()
    for path in SCRIPT_PATHS:
        assets[path] = Asset(library.script.encode(), _TYPES[".js"])
    assets[MODULE_PATH] = Asset(library.module.encode(), _TYPES[".mjs"])
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
