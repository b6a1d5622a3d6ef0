"""Secrets at rest: extension passwords are kept as scrypt hashes (`intercom passwd`, the demo),
`intercom config validate` warns about plain-text ones and refuses empty ones, and a configuration
written by `intercom config` is never readable by others."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w

from intercom.client import ConnectionState, OzWebClient
from intercom.demo import demo_config, demo_logins
from intercom.exchange.auth import password_matches
from intercom.exchange.config import is_password_hash
from intercom.exchange.server import Exchange
from tests.conftest import PASSWORD, directory_config

pytestmark = pytest.mark.integration

COMMENT = "# Flats and the door. This comment stays.\n"


def intercom(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intercom.cli", *args],
        input=stdin,  # a pipe, not a TTY: one line is read
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def exchange_file(config_path: Callable[..., Path]) -> Path:
    path: Path = config_path()
    path.write_text(COMMENT + path.read_text())
    path.chmod(0o640)
    return path



def stored(path: Path) -> dict[str, str | None]:
    return {e["number"]: e.get("password") for e in tomllib.loads(path.read_text())["extensions"]}


async def login(path: Path, extension: str, password: str) -> ConnectionState:
    exchange = Exchange.from_file(path)
    await exchange.start()
    try:
        client = OzWebClient(media=False, reconnect=False)
        state = await client.connect(exchange.url, extension, password=password)
        await client.disconnect()
        return state
    finally:
        await exchange.stop()


async def test_passwd_stores_only_the_hash_of_the_password_read(exchange_file: Path) -> None:
    out = intercom(
        "passwd", "--config", str(exchange_file), "201", "--no-reload", stdin="N3w pass\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "saved\n"
    text = exchange_file.read_text()
    assert "N3w pass" not in text and text.startswith(COMMENT)
    passwords = stored(exchange_file)
    assert is_password_hash(passwords["201"] or "")
    assert password_matches(passwords["201"] or "", "N3w pass")
    assert passwords["202"] == PASSWORD.format("202")  # the others are left as they were
    assert exchange_file.stat().st_mode & 0o777 == 0o640
    assert await login(exchange_file, "201", "N3w pass") is ConnectionState.ACCESS_GRANTED
    assert await login(exchange_file, "201", PASSWORD.format("201")) is (
        ConnectionState.ACCESS_DENIED
    )


def test_passwd_generate_prints_the_password_once(exchange_file: Path) -> None:
    out = intercom("passwd", "--config", str(exchange_file), "900", "--generate", "--no-reload")
    assert out.returncode == 0, out.stderr
    first, saved = out.stdout.splitlines()
    match = re.fullmatch(r"extension 900 password (\S{16,})", first)
    assert match is not None and saved == "saved"
    assert password_matches(stored(exchange_file)["900"] or "", match.group(1))
    assert match.group(1) not in exchange_file.read_text()


@pytest.mark.parametrize(
    ("extension", "stdin", "reason"),
    [
        ("555", "something\n", "no extension '555'"),
        ("201", "\n", "an empty password is refused"),
        ("201", "", "an empty password is refused"),
    ],
)
def test_passwd_refusals_leave_the_file_unchanged(
    exchange_file: Path, extension: str, stdin: str, reason: str
) -> None:
    before = exchange_file.read_bytes()
    out = intercom("passwd", "--config", str(exchange_file), extension, stdin=stdin)
    assert out.returncode == 2
    assert reason in out.stderr and "unchanged" in out.stderr
    assert exchange_file.read_bytes() == before


def test_passwd_refuses_a_station_file(tmp_path: Path) -> None:
    station = tmp_path / "station.toml"
    station.write_text('[station]\nextension = "100"\npassword = "door-pass"\n')
    out = intercom("passwd", "--config", str(station), "100", stdin="x\n")
    assert out.returncode == 2 and "that is a station file" in out.stderr
    assert "door-pass" in station.read_text()


def test_validate_warns_about_each_plain_text_password(exchange_file: Path) -> None:
    out = intercom("config", "--config", str(exchange_file), "validate")
    assert out.returncode == 0 and out.stdout == f"ok: {exchange_file}\n"
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    numbers = [e["number"] for e in directory_config()["extensions"]]
    assert len(warnings) == len(numbers) == 6
    for i, (line, number) in enumerate(zip(warnings, numbers, strict=True)):
        assert line.startswith(f"warning: extensions[{i}].password: ")
        assert "plain text" in line and f"intercom passwd --config {exchange_file} {number}" in line
    intercom("passwd", "--config", str(exchange_file), "201", "--no-reload", stdin="p4ss\n")
    again = intercom("config", "--config", str(exchange_file), "validate")
    assert again.returncode == 0
    assert again.stderr.count("warning: ") == 5 and "extension 201 " not in again.stderr


def test_validate_refuses_an_empty_password(exchange_file: Path) -> None:
    text = exchange_file.read_text().replace('password = "secret-202"', 'password = ""')
    exchange_file.write_text(text)
    out = intercom("config", "--config", str(exchange_file), "validate")
    assert out.returncode == 2
    assert f"{exchange_file}: extensions[2].password:" in out.stderr
    assert "an empty password is refused" in out.stderr


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o600])
def test_config_set_leaves_no_file_readable_by_others(exchange_file: Path, mode: int) -> None:
    exchange_file.chmod(mode)
    out = intercom("config", "--config", str(exchange_file), "set", "exchange.ring_timeout=9")
    assert out.returncode == 0, out.stderr
    assert exchange_file.stat().st_mode & 0o777 == mode & 0o640


@pytest.mark.usefixtures("open_umask")
def test_the_demo_keeps_plain_passwords_only_in_its_private_file(tmp_path: Path) -> None:
    path = demo_config(tmp_path, 0)
    kept = tmp_path / "passwords.toml"
    assert path.stat().st_mode & 0o777 == 0o600 and kept.stat().st_mode & 0o777 == 0o600
    passwords = tomllib.loads(kept.read_text())
    hashes = stored(path)
    assert set(passwords) == set(hashes) == {"100", "201", "202", "900"}
    for number, password in passwords.items():
        assert password not in path.read_text()
        assert password_matches(hashes[number] or "", password)
    # Each start prints the same logins, in plain text.
    logins = demo_logins(path)
    assert logins == [
        f"extension {n} password {passwords[n]}" for n in ("100", "201", "202", "900")
    ]
    assert demo_logins(demo_config(tmp_path, 0)) == logins


def test_an_old_demo_directory_is_rewritten_with_hashes(tmp_path: Path) -> None:
    # As older versions left it: the passwords in plain text in exchange.toml too.
    (tmp_path / "passwords.toml").write_text(tomli_w.dumps({"201": "old-demo-pass"}))
    (tmp_path / "exchange.toml").write_text('[[extensions]]\nnumber = "201"\npassword = "old"\n')
    path = demo_config(tmp_path, 0)
    assert "old-demo-pass" not in path.read_text()
    assert password_matches(stored(path)["201"] or "", "old-demo-pass")
    assert "extension 201 password old-demo-pass" in demo_logins(path)
