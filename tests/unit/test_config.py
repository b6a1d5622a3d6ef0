"""Configuration errors name the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from intercom.configfile import ConfigError
from intercom.exchange.auth import hash_password, password_matches
from intercom.exchange.config import load_exchange_config
from intercom.exchange.directory import (
    Directory,
    ExtensionTarget,
    OutsideLineTarget,
    RingGroupTarget,
    UserTarget,
)
from tests.conftest import directory_config


def write(tmp_path: Path, data: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "exchange.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_sample_directory_loads(tmp_path: Path) -> None:
    config = load_exchange_config(write(tmp_path, directory_config()))
    directory = Directory(config)
    assert isinstance(directory.resolve("201"), ExtensionTarget)
    assert isinstance(directory.resolve("200"), RingGroupTarget)
    assert isinstance(directory.resolve("alice"), UserTarget)
    line = directory.resolve("0123456")
    assert isinstance(line, OutsideLineTarget) and line.number == "123456"
    assert directory.resolve("999") is None


def test_bad_value_names_key(tmp_path: Path) -> None:
    data = directory_config()
    data["extensions"][1]["privileges"] = ["call", "fly"]
    with pytest.raises(ConfigError) as info:
        load_exchange_config(write(tmp_path, data))
    assert info.value.path.endswith("exchange.toml")
    assert info.value.key == "extensions[1].privileges[1]"
    assert "call" in info.value.reason


def test_unknown_key(tmp_path: Path) -> None:
    data = directory_config()
    data["exchange"]["colour"] = "red"
    with pytest.raises(ConfigError) as info:
        load_exchange_config(write(tmp_path, data))
    assert info.value.key == "exchange.colour"
    assert info.value.reason == "unknown key"


def test_ring_group_member_must_exist(tmp_path: Path) -> None:
    data = directory_config()
    data["ring_groups"][0]["members"].append("777")
    with pytest.raises(ConfigError) as info:
        load_exchange_config(write(tmp_path, data))
    assert "777" in str(info.value)


def test_duplicate_number(tmp_path: Path) -> None:
    data = directory_config()
    data["ring_groups"][0]["number"] = "201"
    with pytest.raises(ConfigError, match="already used"):
        load_exchange_config(write(tmp_path, data))


def test_not_toml_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[exchange\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_exchange_config(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_exchange_config(tmp_path / "absent.toml")


def test_an_empty_password_is_refused(tmp_path: Path) -> None:
    data = directory_config()
    data["extensions"][1]["password"] = ""  # would match an empty password typed by anyone
    with pytest.raises(ConfigError) as info:
        load_exchange_config(write(tmp_path, data))
    assert info.value.key == "extensions[1].password"
    assert "empty password is refused" in info.value.reason


def test_passwords_may_be_hashes_but_not_broken_ones(tmp_path: Path) -> None:
    data = directory_config()
    data["extensions"][1]["password"] = hash_password("secret-201")
    del data["extensions"][2]["password"]  # token-only login
    config = load_exchange_config(write(tmp_path, data))
    assert password_matches(config.extensions[1].password or "", "secret-201")
    assert config.extensions[2].password is None
    data["extensions"][1]["password"] = hash_password("secret-201")[:-10]  # cut when pasted
    with pytest.raises(ConfigError) as info:
        load_exchange_config(write(tmp_path, data))
    assert info.value.key == "extensions[1].password"
    assert "not a complete scrypt hash" in info.value.reason
