"""The API's enumerations, as strings so that ``state == "IN_CALL"`` holds as in the seed."""

from __future__ import annotations

from enum import StrEnum


class ConnectionState(StrEnum):
    ACCESS_GRANTED = "ACCESS_GRANTED"
    ACCESS_DENIED = "ACCESS_DENIED"
    CONNECTION_FAILED = "CONNECTION_FAILED"
    CONNECTION_CLOSED = "CONNECTION_CLOSED"


class CallState(StrEnum):
    """The public state of one client's call leg: the seed's seven, plus the one-time ANSWERED."""

    RINGING = "RINGING"
    NOT_FOUND = "NOT_FOUND"
    REJECTED = "REJECTED"
    HOLD = "HOLD"
    IN_CALL = "IN_CALL"
    COMPLETED = "COMPLETED"
    BUSY = "BUSY"
    ANSWERED = "ANSWERED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_CALL_STATES


FINAL_CALL_STATES = frozenset(
    {CallState.NOT_FOUND, CallState.REJECTED, CallState.COMPLETED, CallState.BUSY}
)


class SessionState(StrEnum):
    """The exchange's rich record of a call (Ozeki SDK ``SessionState``, upper-cased)."""

    SETUP = "SETUP"
    RINGING = "RINGING"
    INCALL = "INCALL"
    CALLEEONHOLD = "CALLEEONHOLD"
    CALLERONHOLD = "CALLERONHOLD"
    ONHOLD = "ONHOLD"
    ONHOLDINACTIVE = "ONHOLDINACTIVE"
    TRANSFERREQUESTED = "TRANSFERREQUESTED"
    TRANSFERRING = "TRANSFERRING"
    TRANSFERCOMPLETED = "TRANSFERCOMPLETED"
    TRANSFERFAILED = "TRANSFERFAILED"
    CALLERHUNGUP = "CALLERHUNGUP"
    CALLEEHUNGUP = "CALLEEHUNGUP"
    REDIRECTED = "REDIRECTED"
    NOTFOUND = "NOTFOUND"
    BUSY = "BUSY"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    NOTANSWERED = "NOTANSWERED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"

    @classmethod
    def parse(cls, value: str) -> SessionState:
        """Accept both spellings the seed mixes (``IN_CALL``/``INCALL``, ``NOT_FOUND``...)."""
        key = value.strip().upper().replace("_", "")
        if key == "HOLD":
            return cls.ONHOLD
        try:
            return cls(key)
        except ValueError:
            raise ValueError(f"unknown session state {value!r}") from None


class CallType(StrEnum):
    AUDIO = "AUDIO"
    VIDEO = "VIDEO"


class ClientStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class ExtensionStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    BUSY = "BUSY"


class WebphoneState(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    NOT_FOUND = "NOT_FOUND"


class Privilege(StrEnum):
    CALL = "call"
    MONITOR = "monitor"
    MODIFY = "modify"
    DIRECTORY = "directory"
    HISTORY = "history"
    DOOR = "door"


class Party(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"


class EndCause(StrEnum):
    """Why a leg ended, so that busy, not found, no answer, rejection and cancellation stay
    distinct even where the seven public states fold them together."""

    HUNG_UP = "hung_up"
    REMOTE_HUNG_UP = "remote_hung_up"
    UNKNOWN_NUMBER = "unknown_number"
    UNAVAILABLE = "unavailable"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    FORWARDED = "forwarded"
    TRANSFERRED = "transferred"
    MAX_DURATION = "max_duration"
    CLOSED_BY_SUPERVISOR = "closed_by_supervisor"
    DISCONNECTED = "disconnected"
    ERROR = "error"
