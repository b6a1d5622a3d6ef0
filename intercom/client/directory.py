"""Extension and User: the client's replicated view of the exchange's directory."""

from __future__ import annotations

from typing import Any

from intercom.protocol.enums import ExtensionStatus

from .events import Event


class Extension:
    """An extension or outside line. Created by the library, never by applications."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.on_extension_status_changed: Event[[Extension, ExtensionStatus]] = Event(
            "onExtensionStatusChanged"
        )
        self.onExtensionStatusChanged = self.on_extension_status_changed
        self.update(info)

    def update(self, info: dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.phone_number: str = info.get("phoneNumber", self.id)
        self.type: str = info.get("type", "")
        self.display_name: str = info.get("displayName", "")
        self.user_id: str | None = info.get("userId")
        self.is_outside_line: bool = bool(info.get("isOutsideLine", False))
        self.status = ExtensionStatus(info.get("status", "OFFLINE"))

    def set_status(self, status: ExtensionStatus) -> None:
        """The exchange's new presence for this extension (for the connection)."""
        if status is not self.status:
            self.status = status
            self.on_extension_status_changed.emit(self, status)

    # seed-style names
    @property
    def phoneNumber(self) -> str:
        return self.phone_number

    @property
    def displayName(self) -> str:
        return self.display_name

    @property
    def userId(self) -> str | None:
        return self.user_id

    def __repr__(self) -> str:
        return f"<Extension {self.id} {self.type} {self.status.value}>"


class User:
    def __init__(self, info: dict[str, Any]) -> None:
        self.update(info)

    def update(self, info: dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.user_name: str = info.get("userName", self.id)
        self.full_name: str = info.get("fullName", "")
        self.email_address: str = info.get("emailAddress", "")
        self.phone_number: str = info.get("phoneNumber", "")
        self.mobile_number: str = info.get("mobileNumber", "")
        self.extensions: list[str] = list(info.get("extensions", []))

    @property
    def userName(self) -> str:
        return self.user_name

    @property
    def fullName(self) -> str:
        return self.full_name

    @property
    def emailAddress(self) -> str:
        return self.email_address

    @property
    def phoneNumber(self) -> str:
        return self.phone_number

    @property
    def mobileNumber(self) -> str:
        return self.mobile_number

    def __repr__(self) -> str:
        return f"<User {self.id} {self.full_name!r}>"
