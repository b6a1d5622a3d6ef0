"""Loading TOML configuration into pydantic models with errors that name file, key and reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(Exception):
    """A configuration problem, worded for the person editing the file."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        self.path = str(path)
        self.key = key
        self.reason = reason
        super().__init__(f"{self.path}: {key}: {reason}" if key else f"{self.path}: {reason}")


def format_location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_error(path: Path | str, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    return ConfigError(path, format_location(first["loc"]), reason)


def parse_toml_text(path: Path | str, text: str, model: type[Model]) -> Model:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(path, exc) from None


def beside(config_path: Path | str, path_text: str) -> Path:
    """A path named in a configuration file: relative ones are taken from the file's folder."""
    path = Path(path_text)
    return path if path.is_absolute() else Path(config_path).resolve().parent / path


def load_toml(path: Path | str, model: type[Model]) -> Model:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    return parse_toml_text(path, text, model)
