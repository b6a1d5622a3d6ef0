"""First boot: intercom.toml on the boot partition imported (valid), refused with a reason
beside it (invalid), or a default with this device's own passwords (absent)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from intercom.exchange.config import load_exchange_config
from intercom.firstboot import run
from intercom.station.config import load_station_config

GOOD = """\
[station]
name = "Garden gate"
extension = "100"
exchange = "127.0.0.1:7777"
embedded_exchange = "exchange.toml"

[[bells]]
id = 1
pin = 17
target = "201"

[[relays]]
name = "gate"
pin = 27
codes = ["2468"]
"""


def folders(tmp_path: Path) -> tuple[Path, Path]:
    boot, etc = tmp_path / "boot", tmp_path / "etc"
    boot.mkdir()
    return boot, etc


def test_a_valid_file_is_imported_with_its_own_secrets_and_removed(tmp_path: Path) -> None:
    boot, etc = folders(tmp_path)
    (boot / "intercom.toml").write_text(GOOD)
    outcome = run(boot, etc)
    assert outcome.imported == ["intercom.toml"] and outcome.errors == []
    assert not (boot / "intercom.toml").exists()  # FAT is readable by anyone: gone
    station = load_station_config(etc / "station.toml")
    assert station.station.name == "Garden gate" and station.relays[0].codes == ["2468"]
    assert len(station.station.password) >= 16  # generated here, not shipped
    assert (etc / "station.toml").stat().st_mode & 0o777 == 0o640
    # The embedded exchange's directory is made to match, with fresh passwords.
    exchange = load_exchange_config(etc / "exchange.toml")
    numbers = {e.number: e.password for e in exchange.extensions}
    assert numbers["100"] == station.station.password
    logins = (etc / "first-login.txt").read_text()
    assert f"extension 201 (Flat 1) password {numbers['201']}" in logins
    assert (etc / "first-login.txt").stat().st_mode & 0o777 == 0o600


def test_an_invalid_file_is_refused_with_the_reason_beside_it(tmp_path: Path) -> None:
    boot, etc = folders(tmp_path)
    bad = GOOD.replace("pin = 27", "pin = 17")
    (boot / "intercom.toml").write_text(bad)
    outcome = run(boot, etc)
    assert outcome.errors == ["intercom.toml"] and outcome.imported == []
    assert (boot / "intercom.toml").read_text() == bad  # left for the installer to fix
    assert "pin(s) [17] used twice" in (boot / "intercom.toml.error").read_text()
    assert not etc.exists()  # nothing imported, nothing made


def test_no_file_makes_a_default_with_per_device_passwords(tmp_path: Path) -> None:
    boot, etc = folders(tmp_path)
    first = run(boot, etc)
    assert first.generated == ["default station.toml", "default exchange.toml"]
    station = load_station_config(etc / "station.toml")
    exchange = load_exchange_config(etc / "exchange.toml")
    passwords = [e.password for e in exchange.extensions]
    assert len(set(passwords)) == 3 and all(p and len(p) >= 16 for p in passwords)
    assert station.station.password == passwords[0]
    # Another device (another first boot) gets other passwords.
    (tmp_path / "other").mkdir()
    other_boot, other = folders(tmp_path / "other")
    run(other_boot, other)
    again = tomllib.loads((other / "exchange.toml").read_text())
    assert {e["password"] for e in again["extensions"]}.isdisjoint(passwords)
    # A later boot without a file changes nothing.
    before = (etc / "station.toml").read_bytes()
    assert run(boot, etc).generated == []
    assert (etc / "station.toml").read_bytes() == before
