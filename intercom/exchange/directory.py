"""The directory: who exists, and what a dialled number reaches.

The seam is ``DirectoryLookup``: the little that call control asks of a directory (what a
number reaches, what it is called, whether it is an extension). ``Directory`` is today's
implementation, built from the configuration file and replaced whole on a reload; a cluster
node would build the same from shared configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from intercom.protocol.enums import ExtensionStatus
from intercom.protocol.records import ExtensionRecord, UserRecord

from .config import (
    ExchangeConfig,
    ExtensionConfig,
    OutsideLineConfig,
    RingGroupConfig,
    UserConfig,
)


@dataclass(frozen=True)
class ExtensionTarget:
    extension: ExtensionConfig


@dataclass(frozen=True)
class UserTarget:
    user: UserConfig


@dataclass(frozen=True)
class RingGroupTarget:
    group: RingGroupConfig


@dataclass(frozen=True)
class OutsideLineTarget:
    line: OutsideLineConfig
    number: str


Target = ExtensionTarget | UserTarget | RingGroupTarget | OutsideLineTarget


def extension_info(
    ext: ExtensionConfig, user_id: str | None, status: ExtensionStatus
) -> ExtensionRecord:
    return ExtensionRecord(
        id=ext.number,
        phoneNumber=ext.number,
        type=ext.type,
        displayName=ext.display_name,
        userId=user_id,
        isOutsideLine=False,
        status=status,
    )


def outside_line_info(line: OutsideLineConfig) -> ExtensionRecord:
    return ExtensionRecord(
        id=line.id,
        phoneNumber=line.prefix or line.id,
        type=line.type,
        displayName=line.display_name,
        userId=None,
        isOutsideLine=True,
        status=ExtensionStatus.OFFLINE,
    )


def user_info(user: UserConfig) -> UserRecord:
    return UserRecord(
        id=user.id,
        userName=user.id,
        fullName=user.full_name,
        emailAddress=user.email,
        phoneNumber=user.phone,
        mobileNumber=user.mobile,
        extensions=list(user.extensions),
    )


class DirectoryLookup(Protocol):
    """What call control needs of the directory."""

    @property
    def extensions(self) -> Mapping[str, ExtensionConfig]: ...

    def resolve(self, number: str) -> Target | None: ...

    def display_name(self, number: str) -> str: ...


class Directory:
    def __init__(self, config: ExchangeConfig) -> None:
        self.extensions = {ext.number: ext for ext in config.extensions}
        self.users = {user.id: user for user in config.users}
        self.outside_lines = {line.id: line for line in config.outside_lines}
        self.ring_groups = {group.number: group for group in config.ring_groups}
        self.user_of_extension = {ext: user.id for user in config.users for ext in user.extensions}
        #: whether any password is stored hashed: then every password check costs one hash
        self.hashes_passwords = any(
            ext.password is not None and ext.password.startswith("scrypt$")
            for ext in config.extensions
        )
        # Longest prefix first, so "90" wins over "9".
        self._prefixes = sorted(
            ((line.prefix, line) for line in config.outside_lines if line.prefix),
            key=lambda item: -len(item[0]),
        )

    def resolve(self, number: str) -> Target | None:
        if number in self.extensions:
            return ExtensionTarget(self.extensions[number])
        if number in self.ring_groups:
            return RingGroupTarget(self.ring_groups[number])
        if number in self.users:
            return UserTarget(self.users[number])
        if number in self.outside_lines:
            return OutsideLineTarget(self.outside_lines[number], number)
        for prefix, line in self._prefixes:
            if number.startswith(prefix) and len(number) > len(prefix):
                return OutsideLineTarget(line, number[len(prefix) :])
        return None

    def display_name(self, number: str) -> str:
        ext = self.extensions.get(number)
        if ext is not None:
            return ext.display_name
        group = self.ring_groups.get(number)
        if group is not None:
            return group.name
        user = self.users.get(number)
        return user.full_name if user is not None else ""

    def extension_info(self, number: str, status: ExtensionStatus) -> ExtensionRecord:
        return extension_info(self.extensions[number], self.user_of_extension.get(number), status)
