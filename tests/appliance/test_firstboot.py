"""First boot: intercom.toml on the boot partition imported (valid), refused with a reason
beside it (invalid), or a default with this device's own passwords (absent)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from intercom.exchange.auth import password_matches
from intercom.exchange.config import is_password_hash, load_exchange_config
from intercom.firstboot import run
from intercom.station.config import load_station_config
from intercom.station.unlock import code_matches

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
    assert station.station.name == "Garden gate" and station.relays[0].codes == []
    # The door code is kept only as its hash: the device holds nothing that opens the door.
    (code_hash,) = station.relays[0].code_hashes
    assert code_matches(code_hash, "2468") and "2468" not in (etc / "station.toml").read_text()
    assert len(station.station.password) >= 16  # generated here, not shipped
    assert (etc / "station.toml").stat().st_mode & 0o777 == 0o640
    # The embedded exchange's directory is made to match, with fresh passwords, kept hashed.
    exchange = load_exchange_config(etc / "exchange.toml")
    numbers = {e.number: e.password or "" for e in exchange.extensions}
    assert all(is_password_hash(p) for p in numbers.values())
    assert password_matches(numbers["100"], station.station.password)
    logins = (etc / "first-login.txt").read_text()
    flat = re.search(r"extension 201 \(Flat 1\) password (\S+)", logins)
    assert flat is not None and password_matches(numbers["201"], flat.group(1))
    assert flat.group(1) not in (etc / "exchange.toml").read_text()
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
    hashes = [e.password or "" for e in exchange.extensions]
    assert all(is_password_hash(h) for h in hashes)
    logins = re.findall(r"password (\S+)", (etc / "first-login.txt").read_text())
    passwords = [station.station.password, *logins]
    assert len(set(passwords)) == 3 and all(len(p) >= 16 for p in passwords)
    assert all(password_matches(h, p) for h, p in zip(hashes, passwords, strict=True))
    # Another device (another first boot) gets other passwords.
    (tmp_path / "other").mkdir()
    other_boot, other = folders(tmp_path / "other")
    run(other_boot, other)
    again = tomllib.loads((other / "station.toml").read_text())["station"]["password"]
    assert again not in passwords
    # A later boot without a file changes nothing.
    before = (etc / "station.toml").read_bytes()
    assert run(boot, etc).generated == []
    assert (etc / "station.toml").read_bytes() == before



EXCHANGE = """\
# The directory of the embedded exchange. This comment stays.
[[extensions]]
number = "100"
type = "station"

[[extensions]]
number = "201"
password = "flat-one-pass"  # given by the installer
"""


@pytest.mark.usefixtures("open_umask")
def test_an_imported_directory_keeps_hashes_only(tmp_path: Path) -> None:
    boot, etc = folders(tmp_path)
    (boot / "intercom.toml").write_text(GOOD)  # leaves the station's password out
    (boot / "exchange.toml").write_text(EXCHANGE)
    outcome = run(boot, etc)
    assert outcome.imported == ["intercom.toml", "exchange.toml"]
    text = (etc / "exchange.toml").read_text()
    assert "flat-one-pass" not in text
    assert "# The directory of the embedded exchange. This comment stays." in text
    assert "# given by the installer" in text
    directory = load_exchange_config(etc / "exchange.toml")
    exchange = {e.number: e.password or "" for e in directory.extensions}
    assert password_matches(exchange["201"], "flat-one-pass")
    # The station's password, made here, is the one its extension now checks.
    station = load_station_config(etc / "station.toml")
    assert password_matches(exchange["100"], station.station.password)
    for name in ("station.toml", "exchange.toml"):
        assert (etc / name).stat().st_mode & 0o777 == 0o640
    assert not (etc / "first-login.txt").exists()  # the installer knows these logins


@pytest.mark.usefixtures("open_umask")
def test_the_default_directory_for_a_station_with_a_token_has_no_empty_password(
    tmp_path: Path,
) -> None:
    boot, etc = folders(tmp_path)
    with_token = GOOD.replace('extension = "100"', 'extension = "100"\ntoken = "oz_abc"')
    (boot / "intercom.toml").write_text(with_token)
    run(boot, etc)
    exchange = load_exchange_config(etc / "exchange.toml")  # validates: no password = ""
    assert {e.number: e.password for e in exchange.extensions}["100"] is None
    assert (etc / "first-login.txt").stat().st_mode & 0o777 == 0o600
