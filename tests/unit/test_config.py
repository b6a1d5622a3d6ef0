"""Configuration errors name the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from intercom.configfile import ConfigError
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
