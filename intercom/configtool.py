"""``intercom config show | validate | set KEY=VALUE | edit``: configuration over SSH.

Works on a station file (it has a ``[station]`` table) or an exchange file. Every change is
validated as a whole with the same models and messages as at start-up; a refused change leaves
the file untouched. Accepted changes are written atomically (a temporary file in the same
folder, fsync, rename: a power cut leaves the old file or the new one, never half of each),
keeping comments and layout, readable by the owner and the service's group at most (0640: they
hold passwords), and the running station is asked to reload.

A station file that leaves both password and token out is one for the boot partition, whose
first boot makes this device's own password (``intercom.firstboot``): it validates, with a
warning. Extension passwords in an exchange file are stored as scrypt hashes (``intercom
passwd``); plain text still works, with a warning.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
import tomlkit
from pydantic import BaseModel

from intercom.atomicfile import write_atomic
from intercom.configfile import ConfigError, beside, parse_toml_text
from intercom.exchange.config import ExchangeConfig, is_password_hash
from intercom.station.config import StationConfig, data_dir_of
from intercom.station.paths import PID_FILE

#: Where the appliance keeps its files (deploy/); elsewhere name the file with --config.
DEFAULT_CONFIG = Path("/etc/intercom/station.toml")
SECRET_KEYS = frozenset({"password", "token", "codes", "code_hashes", "credential", "key"})
#: Stands in, during validation only, for the password a boot-partition file leaves out.
FIRST_BOOT_PASSWORD = "(made at first boot)"

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)")


def model_for(text: str) -> type[BaseModel]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return StationConfig  # the parse error is reported by validation
    return StationConfig if "station" in raw else ExchangeConfig


def validate_text(path: Path, text: str) -> BaseModel:
    model = model_for(text)
    if model is StationConfig and _leaves_login_out(text):
        raw = tomllib.loads(text)
        raw["station"]["password"] = FIRST_BOOT_PASSWORD
        text = tomli_w.dumps(raw)
    return parse_toml_text(path, text, model)


def _leaves_login_out(text: str) -> bool:
    """A station file without password and token: one for the boot partition."""
    try:
        settings = tomllib.loads(text).get("station")
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(settings, dict) and "password" not in settings and "token" not in settings


def secret_warnings(path: Path, config: BaseModel) -> list[str]:
    """What about the secrets is accepted but should change; ``intercom config validate``
    prints these (exit status 0)."""
    if isinstance(config, StationConfig):
        if config.station.password == FIRST_BOOT_PASSWORD:
            return [
                "station.password: none given; the first boot makes one for a file on the boot "
                "partition (a station that is started with this file cannot log in)"
            ]
        return []
    if not isinstance(config, ExchangeConfig):
        return []
    return [
        f"extensions[{i}].password: the password of extension {ext.number} is in plain text;"
        f" store it hashed with `intercom passwd --config {path} {ext.number}`"
        for i, ext in enumerate(config.extensions)
        if ext.password is not None and not is_password_hash(ext.password)
    ]


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None


def _mask(value: Any, key: str = "") -> Any:
    if key in SECRET_KEYS and value not in (None, "", []):
        return "********"
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def show(path: Path, secrets: bool = False) -> str:
    """The effective configuration, defaults filled in, secrets masked unless asked for."""
    config = validate_text(path, read(path))
    data = config.model_dump(mode="json", exclude_none=True)
    if isinstance(config, StationConfig) and config.station.password == FIRST_BOOT_PASSWORD:
        data["station"]["password"] = ""  # not in the file
    return tomli_w.dumps(data if secrets else _mask(data))


def parse_value(text: str) -> Any:
    """A TOML value (``45``, ``true``, ``"x"``, ``[1, 2]``); anything else is a string, so
    ``station.name=Front door`` needs no quotes."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def split_key(key: str) -> list[str | int]:
    """``calls.ring_timeout``, ``bells[0].target`` or ``bells.0.target``."""
    out: list[str | int] = []
    for part in key.split("."):
        if part.isdigit():
            out.append(int(part))
            continue
        match = _PATH_PART.fullmatch(part)
        if match is None:
            raise ValueError(f"not a key: {key!r} (try calls.ring_timeout or bells[0].target)")
        out.append(match.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return out


def apply_setting(document: Any, key: str, text: str) -> None:
    value = parse_value(text)
    parts = split_key(key)
    node = document
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ValueError(f"{key}: there is no item [{part}]")
            node = node[part]
            continue
        if part not in node:
            if isinstance(nxt, int):
                raise ValueError(f"{key}: there is no list {part!r}")
            node[part] = tomlkit.table()
        node = node[part]
    last = parts[-1]
    if isinstance(last, int) and (not isinstance(node, list) or last >= len(node)):
        raise ValueError(f"{key}: there is no item [{last}]")
    current = node[last] if isinstance(last, int) or last in node else None
    if isinstance(current, str) and not isinstance(value, str):
        value = text  # a text setting stays text: `target=202` is the number "202"
    node[last] = value


def set_values(path: Path, assignments: list[str]) -> str:
    """Apply ``KEY=VALUE`` assignments, validate the result, write it; the new text."""
    document = tomlkit.parse(read(path))
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"not KEY=VALUE: {assignment!r}")
        apply_setting(document, key.strip(), value.strip())
    text = tomlkit.dumps(document)
    validate_text(path, text)  # raises ConfigError; the file is not touched
    write_atomic(path, text)
    return text


def set_code_hash(path: Path, relay: str | None, code_hash: str, add: bool = False) -> str:
    """Store a door code's hash in the ``code_hashes`` of ``relay`` (the first relay if None),
    replacing its codes, or next to them with ``add``. Plain-text ``codes`` always go: with
    ``add`` they are kept as hashes. Validated and written like ``set_values``; the new text."""
    from intercom.station.unlock import hash_code

    document = tomlkit.parse(read(path))
    relays = document.get("relays")
    if not relays:
        raise ValueError("the file has no [[relays]]")
    if relay is None:
        table = relays[0]
    else:
        table = next((r for r in relays if r.get("name", "door") == relay), None)
        if table is None:
            names = ", ".join(str(r.get("name", "door")) for r in relays)
            raise ValueError(f"no relay named {relay!r} (relays: {names})")
    hashes = []
    if add:
        hashes = [str(h) for h in table.get("code_hashes", [])]
        hashes += [hash_code(str(c)) for c in table.get("codes", [])]
    hashes.append(code_hash)
    if "codes" in table:
        del table["codes"]
    table["code_hashes"] = hashes
    text = tomlkit.dumps(document)
    validate_text(path, text)  # raises ConfigError; the file is not touched
    write_atomic(path, text)
    return text


def edit(path: Path, editor: str | None = None, interactive: bool | None = None) -> bool:
    """Open a copy in $EDITOR; write it back only once it validates. False if abandoned."""
    editor = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    interactive = sys.stdin.isatty() if interactive is None else interactive
    original = read(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".toml", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(original)
        while True:
            subprocess.run([*shlex.split(editor), str(tmp)], check=False)
            text = tmp.read_text(encoding="utf-8")
            if text == original:
                print("no change")
                return False
            try:
                validate_text(path, text)
            except ConfigError as exc:
                print(f"refused, {path} unchanged: {exc}", file=sys.stderr)
                if interactive and input("edit again? [Y/n] ").strip().lower() in ("", "y", "yes"):
                    continue
                return False
            write_atomic(path, text)
            return True
    finally:
        tmp.unlink(missing_ok=True)


def set_password(path: Path, extension: str, password: str) -> str:
    """Store ``password``'s scrypt hash as ``extension``'s password in the exchange file
    ``path``, keeping comments; validated and written like ``set_values``. The new text."""
    from intercom.exchange.auth import hash_password

    if not password:
        raise ValueError("an empty password is refused")
    original = read(path)
    if model_for(original) is not ExchangeConfig:
        raise ValueError(
            "that is a station file; extension passwords are checked by the exchange: name its "
            "file (embedded_exchange) with --config"
        )
    document = tomlkit.parse(original)
    entry = next(
        (e for e in document.get("extensions", []) if str(e.get("number")) == extension), None
    )
    if entry is None:
        raise ValueError(f"no extension {extension!r}")
    entry["password"] = hash_password(password)
    text = tomlkit.dumps(document)
    validate_text(path, text)  # raises ConfigError; the file is not touched
    write_atomic(path, text)
    return text


def station_data_dir(path: Path) -> Path | None:
    try:
        config = validate_text(path, read(path))
    except ConfigError:
        return None
    return data_dir_of(config, path) if isinstance(config, StationConfig) else None


def embedding_station(path: Path) -> Path | None:
    """The station file that runs the exchange file ``path`` inside the station (the
    single-door appliance): reloading that station reloads its exchange too. Looked for
    beside ``path`` and at ``DEFAULT_CONFIG``."""
    target = path.resolve()
    for candidate in (path.parent / "station.toml", DEFAULT_CONFIG):
        try:
            config = validate_text(candidate, read(candidate))
        except (ConfigError, OSError):
            continue
        if not isinstance(config, StationConfig) or not config.station.embedded_exchange:
            continue
        if beside(candidate, config.station.embedded_exchange).resolve() == target:
            return candidate
    return None


def reload_running(path: Path) -> str:
    """Ask the station running on this file, or running this exchange file inside it, to
    reload (SIGHUP, as `systemctl reload` does)."""
    data_dir = station_data_dir(path)
    if data_dir is None:
        station = embedding_station(path)
        if station is not None:
            return reload_running(station)
        return "saved; reload the exchange with: systemctl reload intercom-exchange"
    try:
        pid = int((data_dir / PID_FILE).read_text())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return "saved; the station is not running, it applies at the next start"
    return f"saved and reloaded (station pid {pid})"
