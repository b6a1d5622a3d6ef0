"""Error objects ``{code, name, message}``, reusing Ozeki HTTP API status codes where one fits."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from .records import ErrorRecord


class ErrorCode(IntEnum):
    PARSE_ERROR = 300
    NOT_IMPLEMENTED_COMMAND = 301
    INVALID_PARAMETER = 302
    INAPPROPRIATE_COMMAND = 303
    AUTHENTICATION_REQUIRED = 304
    AUTHENTICATION_FAILED = 305
    FORBIDDEN = 306
    CALL_CONNECT_FAILED = 402
    NUMBER_NOT_FOUND = 404
    MESSAGE_TOO_LARGE = 413
    RATE_LIMITED = 429
    LIMIT_REACHED = 430  # too many devices for the extension, or connections from an address
    CALL_NOT_FOUND = 601
    CONFIG_NOT_FOUND = 701
    INVALID_CONFIG = 702
    INTERNAL_ERROR = 500

    @property
    def title(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))


class ProtocolError(Exception):
    """A refused request. Serialises to the error object every client understands."""

    def __init__(self, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id

    def record(self) -> ErrorRecord:
        return ErrorRecord(code=int(self.code), name=self.code.title, message=self.message)

    def to_data(self) -> dict[str, Any]:
        return self.record().wire()
