"""The switch's records of calls: a ``Session`` per call, a ``Leg`` per client taking part.

Plain data, changed only by the switch (and the supervisor through it). A session's times
come from the switch's clock, so a test's fake clock sets them too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from intercom.protocol.enums import CallState, CallType, Party, SessionState
from intercom.protocol.session_state import SessionStateMachine

from .dialplan import Route
from .registry import Endpoint
from .timers import Timer

#: ``peer`` of a supervisor listening in: ``listener:<conn_id>``
LISTENER_PREFIX = "listener:"


def new_id() -> str:
    return secrets.token_urlsafe(8)


@dataclass(eq=False)
class Leg:
    """One client's side of a session: what ``Call`` mirrors in the client."""

    call_id: str
    endpoint: Endpoint
    extension: str
    role: Party
    session: Session
    call_type: CallType
    last_state: CallState | None = None


@dataclass(eq=False)
class Session:
    id: str
    caller: str
    callee: str
    dialed: str
    call_type: CallType
    route: Route  # what the number being rung reaches, resolved once
    started_at: float
    direction: str = "Internal"
    destination_type: str = "extension"
    master_id: str | None = None
    sm: SessionStateMachine = field(default_factory=SessionStateMachine)
    caller_leg: Leg | None = None
    ringing: dict[str, Leg] = field(default_factory=dict)
    callee_leg: Leg | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    state_since: float = 0.0
    start_time: str = ""
    caller_holds: bool = False
    callee_holds: bool = False
    rejected: int = 0
    #: a sequential group's members still to ring, one at a time
    pending_members: list[str] = field(default_factory=list)
    #: when the conversation reaches its maximum duration (the switch's ``timer_clock``)
    deadline: float | None = None
    #: pending deadlines by name: route, ring, member, warn, end
    timers: dict[str, Timer] = field(default_factory=dict)
    listeners: dict[int, Endpoint] = field(default_factory=dict)
    click_to_call: str | None = None  # number still to dial once the caller answers
    max_duration: float | None = None  # the caller's own limit, below the exchange's
    ring_timeout: float | None = None  # likewise for ringing

    def __post_init__(self) -> None:
        self.state_since = self.started_at
        #: ISO 8601 (UTC), as every session record shows it
        self.start_time = datetime.fromtimestamp(self.started_at, UTC).isoformat()

    @property
    def state(self) -> SessionState:
        return self.sm.state

    def legs(self) -> list[Leg]:
        legs = [self.caller_leg] if self.caller_leg else []
        if self.callee_leg:
            legs.append(self.callee_leg)
        legs.extend(self.ringing.values())
        return legs

    def other(self, leg: Leg) -> Leg | None:
        return self.callee_leg if leg is self.caller_leg else self.caller_leg
