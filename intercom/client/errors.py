"""What the exchange says when it refuses something."""

from __future__ import annotations

from typing import Any


class OzError(Exception):
    """A refused operation, with the exchange's ``{code, name, message}``."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(f"{name} ({code}): {message}")
        self.code = code
        self.name = name
        self.message = message

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> OzError:
        return cls(
            int(data.get("code", 0)), str(data.get("name", "")), str(data.get("message", ""))
        )

    # The seed's examples read capitalised properties as well.
    @property
    def Code(self) -> int:
        return self.code

    @property
    def Message(self) -> str:
        return self.message


class NotConnectedError(OzError):
    def __init__(self) -> None:
        super().__init__(304, "AuthenticationRequired", "not connected to an exchange")
