"""First boot of the appliance: import ``intercom.toml`` from the boot partition, make this
device's own secrets.

The installer may drop ``intercom.toml`` (a station file) and ``exchange.toml`` (the directory
of the embedded exchange) on the SD card's FAT partition. At boot, before the station starts,
``intercom firstboot`` (deploy/systemd/intercom-firstboot.service) validates them with the same
models as everywhere else:

- valid: they are written to the configuration folder (0640, group ``intercom``), and the FAT
  copies, which anyone can read and which may hold passwords, are overwritten and removed;
- invalid: nothing is imported, and ``<name>.error`` beside the file says why, so the installer
  sees it on the card without SSH; the device keeps its previous configuration;
- absent, and no configuration yet: a default single-door configuration is made.

No password is ever shipped: whatever the files leave empty (the station's password, those of
the default extensions) is generated here, per device, and the ones a person needs are written
to ``first-login.txt`` in the configuration folder (readable by root only). The exchange's file
keeps only scrypt hashes of its extensions' passwords (plain-text ones in an imported file are
replaced by their hashes); the station's own file keeps its password, which it must send. The
TLS certificate is made by the exchange on its first start, also per device.
"""

from __future__ import annotations

import contextlib
import grp
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
import tomlkit

from intercom.atomicfile import write_atomic
from intercom.configfile import ConfigError, parse_toml_text
from intercom.exchange.auth import hash_password
from intercom.exchange.config import ExchangeConfig, is_password_hash
from intercom.station.config import StationConfig

STATION_FILE = "intercom.toml"
EXCHANGE_FILE = "exchange.toml"
DATA_DIR = "/var/lib/intercom"


@dataclass
class Outcome:
    imported: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)


def _password() -> str:
    return secrets.token_urlsafe(12)


def default_exchange(station_password: str) -> dict[str, Any]:
    """The single-door directory, with plain-text passwords (``hashed`` before writing it)."""
    station = {"number": "100", "type": "station", "display_name": "Front door",
               "privileges": ["call", "door"]}  # fmt: skip
    if station_password:  # else the station logs in with a token; "" would let anyone in
        station["password"] = station_password
    return {
        "exchange": {"port": 7777, "data_dir": f"{DATA_DIR}/exchange"},
        "extensions": [
            station,
            {"number": "201", "type": "webphone", "display_name": "Flat 1",
             "password": _password(), "privileges": ["call", "door", "history"]},
            {"number": "900", "type": "webphone", "display_name": "Concierge",
             "password": _password(),
             "privileges": ["call", "monitor", "modify", "directory", "history", "door"]},
        ],
        "ring_groups": [{"number": "200", "name": "Residents", "members": ["201"]}],
    }  # fmt: skip


def default_station(password: str) -> dict[str, Any]:
    return {
        "station": {
            "name": "Front door", "extension": "100", "password": password,
            "exchange": "127.0.0.1:7777", "data_dir": f"{DATA_DIR}/station",
            "embedded_exchange": "exchange.toml",
        },
        "bells": [{"id": 1, "pin": 17, "target": "200"}],
        "relays": [{"name": "door", "pin": 27, "pulse": 5.0}],
        "door_contact": {"pin": 22, "relay": "door"},
        "led_pin": 23,
        "tamper_pin": 5,
    }  # fmt: skip


def hashed(directory: dict[str, Any]) -> dict[str, Any]:
    """``directory`` with each extension's password replaced by its scrypt hash."""
    return {
        **directory,
        "extensions": [
            {**e, "password": hash_password(e["password"])} if e.get("password") else e
            for e in directory.get("extensions", [])
        ],
    }


def _hash_passwords(text: str, station: dict[str, Any], generated: bool) -> str:
    """An imported exchange file with its plain-text passwords replaced by their hashes,
    comments kept. ``generated``: the station's password was made here, so its extension, if it
    has none, gets it (else the station could not log in)."""
    document = tomlkit.parse(text)
    for entry in document.get("extensions", []):
        password = entry.get("password")
        if generated and password is None and str(entry.get("number")) == station.get("extension"):
            password = station["password"]
        if password is not None and not is_password_hash(str(password)):
            entry["password"] = hash_password(str(password))
    return tomlkit.dumps(document)


def _hash_codes(text: str) -> str:
    """An imported station file with its relays' plain-text door codes replaced by their
    hashes (``code_hashes``), comments kept: the card's copy is shredded, and the device keeps
    no code in a form that opens the door."""
    from intercom.station.unlock import hash_code

    document = tomlkit.parse(text)
    for relay in document.get("relays", []):
        codes = [str(code) for code in relay.get("codes", [])]
        if not codes:
            continue
        relay["code_hashes"] = [str(h) for h in relay.get("code_hashes", [])] + [
            hash_code(code) for code in codes
        ]
        del relay["codes"]
    return tomlkit.dumps(document)


def _write(path: Path, data: dict[str, Any] | str) -> None:
    text = data if isinstance(data, str) else tomli_w.dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, mode=0o640)
    with contextlib.suppress(KeyError, PermissionError):  # where the service's group exists
        os.chown(path, -1, grp.getgrnam("intercom").gr_gid)


def _shred(path: Path) -> None:
    """Overwrite, then remove: the FAT copy may hold passwords."""
    size = path.stat().st_size
    with path.open("r+b") as out:
        out.write(b"\0" * size)
        out.flush()
        os.fsync(out.fileno())
    path.unlink()


def _with_station_password(text: str, outcome: Outcome) -> str:
    """A station file may leave the password out: this device makes its own."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text  # validation reports it
    settings = raw.get("station")
    if isinstance(settings, dict) and not settings.get("password") and not settings.get("token"):
        settings["password"] = _password()
        outcome.generated.append("station password")
        return tomli_w.dumps(raw)
    return text


def _check(
    path: Path, model: type[StationConfig] | type[ExchangeConfig], outcome: Outcome
) -> str | None:
    """The file's text if it validates; otherwise None, with ``<name>.error`` written."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if model is StationConfig:
        text = _with_station_password(text, outcome)
    try:
        parse_toml_text(path.name, text, model)
    except ConfigError as exc:
        error = path.with_name(path.name + ".error")
        error.write_text(f"{exc}\nNothing was imported; fix the file and reboot.\n")
        return None
    path.with_name(path.name + ".error").unlink(missing_ok=True)
    return text


def run(boot: Path, config_dir: Path) -> Outcome:
    outcome = Outcome()
    station_in, exchange_in = boot / STATION_FILE, boot / EXCHANGE_FILE
    texts: dict[str, str] = {}
    for path, model in ((station_in, StationConfig), (exchange_in, ExchangeConfig)):
        if path.exists():
            text = _check(path, model, outcome)
            if text is None:
                outcome.errors.append(path.name)
            else:
                texts[path.name] = text
    if outcome.errors:
        outcome.generated.clear()
        return outcome  # all or nothing: a half-imported pair would not fit together
    station_out, exchange_out = config_dir / "station.toml", config_dir / "exchange.toml"
    logins: list[str] = []
    if STATION_FILE in texts:
        station = tomllib.loads(texts[STATION_FILE])
        _write(station_out, _hash_codes(texts[STATION_FILE]))
        outcome.imported.append(STATION_FILE)
    elif not station_out.exists():
        station = default_station(_password())
        _write(station_out, station)
        outcome.generated.append("default station.toml")
    else:
        station = tomllib.loads(station_out.read_text())
    if EXCHANGE_FILE in texts:
        generated = "station password" in outcome.generated
        _write(exchange_out, _hash_passwords(texts[EXCHANGE_FILE], station["station"], generated))
        outcome.imported.append(EXCHANGE_FILE)
    elif station["station"].get("embedded_exchange") and not exchange_out.exists():
        directory = default_exchange(station["station"].get("password", ""))
        _write(exchange_out, hashed(directory))
        outcome.generated.append("default exchange.toml")
        logins = [
            f"extension {e['number']} ({e['display_name']}) password {e['password']}"
            for e in directory["extensions"]
            if e["type"] != "station"
        ]
    if logins:
        # The only copy of these passwords in plain text: root's alone from the first byte.
        write_atomic(
            config_dir / "first-login.txt",
            "Logins made on this device's first boot (change them with"
            " `intercom passwd EXTENSION`):\n" + "\n".join(logins) + "\n",
            mode=0o600,
        )
    for name in texts:
        _shred(boot / name)
    return outcome
