"""The exchange's configuration file: listener, limits and the directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from intercom.configfile import beside, load_toml
from intercom.protocol.enums import Privilege

Number = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z*#+._@-]+$")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IceServer(Strict):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class TlsSettings(Strict):
    """HTTPS/WSS on the exchange's port. Without ``certificate`` and ``key`` the exchange makes
    its own self-signed certificate on first start (kept under ``data_dir/tls``)."""

    enabled: bool = True
    certificate: str | None = None
    key: str | None = None
    #: More host names or addresses the exchange is reached by (a DNS name, a forwarded
    #: address): the generated certificate names them besides localhost, loopback, the host's
    #: name, ``<name>.local`` and every address of the host, and its pages' origins may use them.
    names: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pair(self) -> TlsSettings:
        if (self.certificate is None) != (self.key is None):
            raise ValueError("give both 'certificate' and 'key', or neither")
        return self


class ExchangeSettings(Strict):
    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=0, le=65535)] = 7777
    data_dir: str = "data"
    ring_timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_call_duration: Annotated[float, Field(gt=0, le=86400)] = 3600.0
    call_warning: Annotated[float, Field(ge=0, le=600)] = 10.0
    auth_timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    rate_limit: Annotated[float, Field(gt=0)] = 50.0
    rate_burst: Annotated[int, Field(ge=1)] = 200
    ping_interval: Annotated[float, Field(gt=0)] = 20.0
    ping_timeout: Annotated[float, Field(gt=0)] = 20.0
    # How long a closing handshake may take before the socket is dropped; a peer that stopped
    # reading holds its connection (and, for a while, its presence) this long.
    close_timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    public_webphone_state: bool = True
    #: Devices one extension may have logged in at once; a further login is refused.
    max_devices_per_extension: Annotated[int, Field(ge=1, le=1000)] = 4
    #: Open connections in all, from one address, and from one address not logged in yet.
    max_connections: Annotated[int, Field(ge=1, le=1_000_000)] = 5000
    max_connections_per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 64
    max_pending_per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 16
    #: Legs one call rings at once: each is a peer connection at the calling door.
    max_ringing_legs: Annotated[int, Field(ge=1, le=1000)] = 16
    tls: TlsSettings = Field(default_factory=TlsSettings)
    #: Other web origins (``https://portal.example.org``) whose pages may load /WebphoneAPI
    #: and connect; the exchange's own pages always may, and non-browser clients send none.
    allowed_origins: list[Annotated[str, StringConstraints(pattern=r"^https?://[^/\s]+$")]] = (
        Field(default_factory=list)
    )
    ice_servers: list[IceServer] = Field(default_factory=list)


#: ``intercom.exchange.auth.hash_password``'s form: ``scrypt$<salt hex>$<64-byte digest hex>``.
PASSWORD_HASH = re.compile(r"scrypt\$(?:[0-9a-f]{2})+\$[0-9a-f]{128}")


def is_password_hash(password: str) -> bool:
    return PASSWORD_HASH.fullmatch(password) is not None


class ExtensionConfig(Strict):
    number: Number
    type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "webphone"
    display_name: str = ""
    #: A hash (``intercom passwd``) or, still accepted with a warning, plain text; left out,
    #: the extension logs in with a token only.
    password: str | None = None
    privileges: list[Privilege] = Field(default_factory=lambda: [Privilege.CALL])

    @field_validator("password")
    @classmethod
    def _password(cls, password: str | None) -> str | None:
        if password == "":
            # It would match an empty password typed by anyone.
            raise ValueError(
                "an empty password is refused: set one with `intercom passwd`, or leave the "
                "key out for token-only login"
            )
        if (
            password is not None
            and password.startswith("scrypt$")
            and not is_password_hash(password)
        ):
            # Checked as a hash, so no password could ever match it: a copy-paste error.
            raise ValueError("not a complete scrypt hash; make one with `intercom passwd`")
        return password


class UserConfig(Strict):
    id: Number
    full_name: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    extensions: list[Number] = Field(default_factory=list)


class OutsideLineConfig(Strict):
    id: Number
    type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "sip"
    display_name: str = ""
    prefix: Number | None = None


class RingGroupConfig(Strict):
    number: Number
    name: str = ""
    strategy: Literal["parallel", "sequential"] = "parallel"
    members: Annotated[list[Number], Field(min_length=1)]
    member_timeout: Annotated[float, Field(gt=0, le=600)] = 15.0


class ExchangeConfig(Strict):
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    extensions: list[ExtensionConfig] = Field(default_factory=list)
    users: list[UserConfig] = Field(default_factory=list)
    outside_lines: list[OutsideLineConfig] = Field(default_factory=list)
    ring_groups: list[RingGroupConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_references(self) -> ExchangeConfig:
        seen: dict[str, str] = {}

        def claim(number: str, what: str) -> None:
            if number in seen:
                raise ValueError(f"number {number!r} of {what} is already used by {seen[number]}")
            seen[number] = what

        for i, ext in enumerate(self.extensions):
            claim(ext.number, f"extensions[{i}]")
        for i, group in enumerate(self.ring_groups):
            claim(group.number, f"ring_groups[{i}]")
            for member in group.members:
                if member not in seen or not seen[member].startswith("extensions"):
                    raise ValueError(
                        f"ring_groups[{i}] member {member!r} is not a configured extension"
                    )
        for i, line in enumerate(self.outside_lines):
            claim(line.id, f"outside_lines[{i}]")
        user_ids: set[str] = set()
        for i, user in enumerate(self.users):
            if user.id in user_ids:
                raise ValueError(f"users[{i}] id {user.id!r} is used twice")
            user_ids.add(user.id)
            for number in user.extensions:
                if number not in seen or not seen[number].startswith("extensions"):
                    raise ValueError(
                        f"users[{i}] extension {number!r} is not a configured extension"
                    )
        return self


def load_exchange_config(path: Path | str) -> ExchangeConfig:
    return load_toml(path, ExchangeConfig)


def data_dir_of(config: ExchangeConfig, config_path: Path | str) -> Path:
    return beside(config_path, config.exchange.data_dir)
