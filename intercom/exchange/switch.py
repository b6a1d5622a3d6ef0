"""The switch: call sessions, their legs, routing, ring groups and call timers.

The switch knows nothing about sockets. It talks to logged-in clients through ``Endpoint``
objects (one per connection) and uses the event loop only for timers. Every request handler
either changes state and emits events, or raises ``ProtocolError`` having changed nothing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from intercom.protocol import messages as m
from intercom.protocol.enums import (
    CallState,
    CallType,
    ClientStatus,
    EndCause,
    ExtensionStatus,
    Party,
    Privilege,
    SessionState,
)
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.session_state import (
    FINAL_SESSION_STATES,
    SessionStateMachine,
    hold_state,
    public_call_state,
)

from .config import ExchangeSettings
from .directory import (
    Directory,
    ExtensionTarget,
    OutsideLineTarget,
    RingGroupTarget,
    UserTarget,
)
from .history import HistoryStore

log = logging.getLogger(__name__)
S = SessionState


class Endpoint(Protocol):
    """A logged-in client connection, as the switch sees it."""

    conn_id: int
    extension: str
    privileges: frozenset[Privilege]
    properties: dict[str, Any]

    def send(self, message: str) -> None: ...


Sender = Callable[[Iterable[Endpoint], str], None]


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
    direction: str = "Internal"
    destination_type: str = "extension"
    master_id: str | None = None
    sm: SessionStateMachine = field(default_factory=SessionStateMachine)
    caller_leg: Leg | None = None
    ringing: dict[str, Leg] = field(default_factory=dict)
    callee_leg: Leg | None = None
    started_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    ended_at: float | None = None
    state_since: float = field(default_factory=time.time)
    caller_holds: bool = False
    callee_holds: bool = False
    rejected: int = 0
    pending_members: list[str] = field(default_factory=list)
    member_timeout: float = 0.0
    deadline: float | None = None
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    listeners: dict[int, Endpoint] = field(default_factory=dict)
    click_to_call: str | None = None  # number still to dial once the caller answers
    max_duration: float | None = None  # the caller's own limit, below the exchange's
    ring_timeout: float | None = None  # likewise for ringing

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


def _fmt_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Switch:
    def __init__(
        self,
        directory: Directory,
        history: HistoryStore,
        settings: ExchangeSettings,
        send_many: Sender,
    ) -> None:
        self.directory = directory
        self.history = history
        self.settings = settings
        self._send_many = send_many
        self.endpoints: dict[str, dict[int, Endpoint]] = {}
        self.legs: dict[str, Leg] = {}
        self.sessions: dict[str, Session] = {}
        self.monitors: dict[int, Endpoint] = {}
        self.watchers: dict[int, Endpoint] = {}  # directory privilege: presence and directory
        self._ext_status: dict[str, ExtensionStatus] = {}

    # ------------------------------------------------------------------ sending

    def _emit(self, endpoints: Iterable[Endpoint], kind: str, data: dict[str, Any]) -> None:
        self._send_many(endpoints, m.encode(kind, data))

    def _emit_one(self, endpoint: Endpoint, kind: str, data: dict[str, Any]) -> None:
        endpoint.send(m.encode(kind, data))

    def error_to(self, endpoint: Endpoint, code: ErrorCode, message: str) -> None:
        endpoint.send(m.encode_error(ProtocolError(code, message)))

    # ---------------------------------------------------------------- presence

    def attach(self, ep: Endpoint) -> None:
        self.endpoints.setdefault(ep.extension, {})[ep.conn_id] = ep
        if Privilege.MONITOR in ep.privileges:
            self.monitors[ep.conn_id] = ep
        if Privilege.DIRECTORY in ep.privileges:
            self.watchers[ep.conn_id] = ep
        self._emit(
            (w for w in self.watchers.values() if w is not ep),
            "client.state",
            self.presence(ep, online=True),
        )
        self._update_status(ep.extension)

    def detach(self, ep: Endpoint) -> None:
        """A connection went away: hang up its legs, drop it everywhere, tell watchers.
        Detaching twice does nothing the second time."""
        if self.endpoints.get(ep.extension, {}).get(ep.conn_id) is not ep:
            return
        for leg in [leg for leg in self.legs.values() if leg.endpoint is ep]:
            if leg.call_id in self.legs:
                self._leg_gone(leg, EndCause.DISCONNECTED)
        for session in list(self.sessions.values()):
            if session.listeners.pop(ep.conn_id, None) is not None:
                self._announce_listener(session, ep, False)
        conns = self.endpoints.get(ep.extension, {})
        conns.pop(ep.conn_id, None)
        if not conns:
            self.endpoints.pop(ep.extension, None)
        self.monitors.pop(ep.conn_id, None)
        self.watchers.pop(ep.conn_id, None)
        self._emit(self.watchers.values(), "client.state", self.presence(ep, online=False))
        self._update_status(ep.extension)

    @staticmethod
    def presence(ep: Endpoint, online: bool) -> dict[str, Any]:
        info = {k: v for k, v in ep.properties.items() if k.lower() != "password"}
        status = ClientStatus.ONLINE if online else ClientStatus.OFFLINE
        info.update(phoneNumber=ep.extension, status=status.value)
        return info

    def extension_status(self, number: str) -> ExtensionStatus:
        if number not in self.endpoints:
            return ExtensionStatus.OFFLINE
        return ExtensionStatus.BUSY if self.is_busy(number) else ExtensionStatus.ONLINE

    def _update_status(self, number: str) -> None:
        status = self.extension_status(number)
        if self._ext_status.get(number, ExtensionStatus.OFFLINE) is status:
            return
        self._ext_status[number] = status
        audience = dict(self.watchers)
        audience.update(self.endpoints.get(number, {}))
        self._emit(audience.values(), "extension.status", {"id": number, "status": status})

    def is_busy(self, number: str) -> bool:
        for leg in self.legs.values():
            if leg.extension != number:
                continue
            if leg is leg.session.caller_leg or leg is leg.session.callee_leg:
                return True
        return False

    # ----------------------------------------------------------- session info

    def session_info(self, s: Session) -> dict[str, Any]:
        now = time.time()
        talk = 0.0 if s.answered_at is None else (s.ended_at or now) - s.answered_at
        ring_end = s.answered_at or s.ended_at or now
        return {
            "sessionId": s.id,
            "masterSessionId": s.master_id,
            "sessionState": s.state.value,
            "callState": public_call_state(s.state).value,
            "caller": s.caller,
            "callee": s.callee,
            "callerDisplayName": self.directory.display_name(s.caller),
            "calleeDisplayName": self.directory.display_name(s.callee),
            "callerCallLegId": s.caller_leg.call_id if s.caller_leg else None,
            "calleeCallLegId": s.callee_leg.call_id if s.callee_leg else None,
            "source": s.caller,
            "sourceType": "extension",
            "destination": s.callee,
            "destinationType": s.destination_type,
            "dialedNumber": s.dialed,
            "direction": s.direction,
            "callType": s.call_type.value,
            "startTime": datetime.fromtimestamp(s.started_at, UTC).isoformat(),
            "startedAt": s.started_at,
            "answeredAt": s.answered_at,
            "stateSince": s.state_since,
            "talkDuration": _fmt_duration(talk),
            "ringDuration": _fmt_duration(ring_end - s.started_at),
            "stateDuration": _fmt_duration(now - s.state_since),
            "listeners": [ep.extension for ep in s.listeners.values()],
        }

    # ------------------------------------------------------------- leg events

    def _new_leg(self, ep: Endpoint, session: Session, role: Party) -> Leg:
        leg = Leg(new_id(), ep, ep.extension, role, session, session.call_type)
        self.legs[leg.call_id] = leg
        return leg

    def _leg_state(
        self,
        leg: Leg,
        state: CallState,
        cause: EndCause | None = None,
        message: str = "",
    ) -> None:
        s = leg.session
        other = s.other(leg)
        data: dict[str, Any] = {
            "call_id": leg.call_id,
            "session_id": s.id,
            "state": state.value,
            "session_state": s.state.value,
            "other_party": self._other_party(leg),
            "other_party_name": self.directory.display_name(self._other_party(leg)),
        }
        if other is not None:
            data["other_privileges"] = sorted(p.value for p in other.endpoint.privileges)
            # The other party's leg: the only peer whose media (RFC 4733, in-band tones)
            # counts as coming from the other party.
            data["other_leg"] = other.call_id
        if cause is not None:
            data["cause"] = cause.value
        if message:
            data["message"] = message
        leg.last_state = state
        self._emit_one(leg.endpoint, "call.state", data)

    def _other_party(self, leg: Leg) -> str:
        s = leg.session
        if leg.role is Party.CALLER:
            return s.callee_leg.extension if s.callee_leg else s.callee
        return s.caller

    def _end_leg(self, leg: Leg, state: CallState, cause: EndCause, message: str = "") -> None:
        self._leg_state(leg, state, cause, message)
        self.legs.pop(leg.call_id, None)
        s = leg.session
        if s.caller_leg is leg:
            s.caller_leg = None
        if s.callee_leg is leg:
            s.callee_leg = None
        was_callee = s.ringing.pop(leg.call_id, None) is not None or leg.role is Party.CALLEE
        if was_callee and s.caller_leg is not None:
            # The caller negotiates media with each callee leg: tell it this one is gone.
            self._emit_one(
                s.caller_leg.endpoint,
                "call.peer",
                {"call_id": s.caller_leg.call_id, "peer": leg.call_id, "removed": True},
            )

    def _broadcast_state(self, s: Session) -> None:
        """Tell every leg its public state, and monitors the session state."""
        public = public_call_state(s.state)
        for leg in s.legs():
            if leg.last_state is not public:
                self._leg_state(leg, public)
        self._emit(self.monitors.values(), "session.state", self.session_info(s))
        if s.listeners:
            self._emit(s.listeners.values(), "session.state", self.session_info(s))

    def _transition(self, s: Session, target: SessionState) -> None:
        first_answer = s.sm.to(target)
        s.state_since = time.time()
        if first_answer:
            s.answered_at = s.state_since
            for leg in s.legs():
                self._leg_state(leg, CallState.ANSWERED)
        if target not in FINAL_SESSION_STATES:
            self._broadcast_state(s)

    # ----------------------------------------------------------- session end

    def _finish(
        self,
        s: Session,
        final: SessionState,
        cause_for: Callable[[Leg], EndCause],
        message: str = "",
    ) -> None:
        """Move ``s`` to a final state, end every remaining leg, record history, notify."""
        if s.sm.is_final:
            return
        s.sm.to(final)
        s.ended_at = s.state_since = time.time()
        for timer in s.timers.values():
            timer.cancel()
        s.timers.clear()
        public = public_call_state(final)
        for leg in s.legs():
            self._end_leg(leg, public, cause_for(leg), message)
        self.sessions.pop(s.id, None)
        ring = (s.answered_at or s.ended_at) - s.started_at
        talk = 0.0 if s.answered_at is None else s.ended_at - s.answered_at
        try:
            self.history.ended(s.id, s.callee, final.value, ring, talk, s.ended_at)
        except Exception:  # history must never take a call down with it
            log.exception("could not record the end of session %s", s.id)
        info = self.session_info(s)
        self._emit(self.monitors.values(), "session.state", info)
        self._emit(self.monitors.values(), "session.closed", info)
        if s.listeners:
            self._emit(s.listeners.values(), "session.closed", info)
        self._touch_status(s)

    def _touch_status(self, s: Session) -> None:
        for number in {s.caller, s.callee}:
            if number in self.directory.extensions:
                self._update_status(number)

    # --------------------------------------------------------------- routing

    def _create_session(
        self, caller: str, dialed: str, call_type: CallType, master_id: str | None = None
    ) -> Session:
        s = Session(new_id(), caller, dialed, dialed, call_type, master_id=master_id)
        self.sessions[s.id] = s
        target = self.directory.resolve(dialed)
        if isinstance(target, OutsideLineTarget):
            s.direction, s.destination_type = "Outbound", "outsideline"
        elif isinstance(target, RingGroupTarget):
            s.destination_type = "ringgroup"
        elif isinstance(target, UserTarget):
            s.destination_type = "user"
        self.history.started(
            s.id, s.started_at, s.direction, caller, dialed, dialed, caller, call_type.value.title()
        )
        return s

    def _announce(self, s: Session) -> None:
        self._emit(self.monitors.values(), "session.created", self.session_info(s))

    def _candidates(self, caller: str, number: str) -> tuple[list[str], float | None, str | None]:
        """Extensions that ``number`` reaches (not the caller's own), in order; the per-member
        timeout when they ring one after another; and a refusal reason if none exist."""
        target = self.directory.resolve(number)
        if target is None:
            return [], None, f"number {number!r} is not in the directory"
        if isinstance(target, OutsideLineTarget):
            return (
                [],
                None,
                (f"outside line {target.line.id!r} ({target.line.type}) has no gateway connected"),
            )
        sequential: float | None = None
        if isinstance(target, ExtensionTarget):
            members = [target.extension.number]
        elif isinstance(target, UserTarget):
            members = list(target.user.extensions)
        else:
            members = list(target.group.members)
            if target.group.strategy == "sequential":
                sequential = target.group.member_timeout
        return [x for x in members if x != caller], sequential, None

    def _reachable(self, number: str) -> list[Endpoint]:
        return [
            ep for ep in self.endpoints.get(number, {}).values() if Privilege.CALL in ep.privileges
        ]

    def _route(self, s: Session, number: str) -> None:
        """Ring ``number`` for session ``s``, or end the session with the precise reason."""
        members, sequential, refusal = self._candidates(s.caller, number)
        if refusal is not None:
            if s.caller_leg is not None and isinstance(
                self.directory.resolve(number), OutsideLineTarget
            ):
                # Not a wrong number but a missing gateway: worth an error, not only a state.
                self.error_to(s.caller_leg.endpoint, ErrorCode.CALL_CONNECT_FAILED, refusal)
            self._finish(
                s,
                S.NOTFOUND,
                lambda leg: EndCause.UNKNOWN_NUMBER,
                refusal,
            )
            return
        if sequential is not None:
            members, s.pending_members, s.member_timeout = members[:1], members[1:], sequential
        self._ring_members(s, members)

    def _ring_members(self, s: Session, members: list[str]) -> None:
        rang = busy = False
        while True:
            for number in members:
                if self.is_busy(number):
                    busy = True
                    continue
                for ep in self._reachable(number):
                    if len(s.ringing) >= self.settings.max_ringing_legs:
                        # Each ringing leg costs the caller a peer connection (a door
                        # station's file descriptors and CPU): ring the first ones only.
                        log.warning("call %s rings its first %d devices only", s.id,
                                    self.settings.max_ringing_legs)  # fmt: skip
                        break
                    self._ring_endpoint(s, ep)
                    rang = True
            if rang or not s.pending_members:
                break
            # Sequential group: the member was offline or busy, try the next one now.
            members = [s.pending_members.pop(0)]
        if not rang:
            if busy:
                self._finish(s, S.BUSY, lambda leg: EndCause.BUSY, f"{s.callee} is busy")
            else:
                self._finish(
                    s,
                    S.NOTFOUND,
                    lambda leg: EndCause.UNAVAILABLE,
                    f"nobody is online at {s.callee}",
                )
            return
        if s.state is not S.RINGING:
            self._transition(s, S.RINGING)
        loop = asyncio.get_running_loop()
        if "ring" not in s.timers:
            s.timers["ring"] = loop.call_later(self._ring_limit(s), self._ring_timeout, s)
        if s.pending_members:
            old = s.timers.pop("member", None)
            if old:
                old.cancel()
            s.timers["member"] = loop.call_later(s.member_timeout, self._next_member, s)

    def _ring_endpoint(self, s: Session, ep: Endpoint) -> None:
        leg = self._new_leg(ep, s, Party.CALLEE)
        s.ringing[leg.call_id] = leg
        leg.last_state = CallState.RINGING
        caller_leg = s.caller_leg
        self._emit_one(
            ep,
            "call.incoming",
            {
                "call_id": leg.call_id,
                "session_id": s.id,
                "caller": s.caller,
                "caller_name": self.directory.display_name(s.caller),
                "callee": ep.extension,
                "dialed": s.dialed,
                "call_type": s.call_type.value,
                "peer": caller_leg.call_id if caller_leg else None,
                "other_privileges": sorted(p.value for p in caller_leg.endpoint.privileges)
                if caller_leg
                else [],
            },
        )
        if caller_leg is not None:
            self._emit_one(
                caller_leg.endpoint,
                "call.peer",
                {
                    "call_id": caller_leg.call_id,
                    "peer": leg.call_id,
                    "extension": ep.extension,
                    "added": True,
                },
            )

    def _next_member(self, s: Session) -> None:
        s.timers.pop("member", None)
        if s.state is not S.RINGING or not s.pending_members:
            return
        for leg in list(s.ringing.values()):
            self._end_leg(leg, CallState.COMPLETED, EndCause.NO_ANSWER)
        self._ring_members(s, [s.pending_members.pop(0)])

    def _ring_limit(self, s: Session) -> float:
        if s.ring_timeout is None:
            return self.settings.ring_timeout
        return min(self.settings.ring_timeout, s.ring_timeout)

    def _ring_timeout(self, s: Session) -> None:
        s.timers.pop("ring", None)
        if s.state is not S.RINGING:
            return
        self._finish(
            s,
            S.NOTANSWERED,
            lambda leg: EndCause.NO_ANSWER,
            f"no answer within {self._ring_limit(s):g} s",
        )

    # ------------------------------------------------------------ call timers

    def _arm_duration(self, s: Session) -> None:
        limit = self.settings.max_call_duration
        if s.max_duration is not None:
            limit = min(limit, s.max_duration)
        s.deadline = time.time() + limit
        self._schedule_deadline(s)

    def _schedule_deadline(self, s: Session) -> None:
        assert s.deadline is not None
        for name in ("warn", "end"):
            old = s.timers.pop(name, None)
            if old:
                old.cancel()
        loop = asyncio.get_running_loop()
        remaining = s.deadline - time.time()
        warn_in = remaining - self.settings.call_warning
        if self.settings.call_warning > 0 and warn_in >= 0:
            s.timers["warn"] = loop.call_later(warn_in, self._warn, s)
        s.timers["end"] = loop.call_later(max(0.0, remaining), self._expire, s)

    def _warn(self, s: Session) -> None:
        s.timers.pop("warn", None)
        if s.deadline is None or s.sm.is_final:
            return
        left = max(0.0, s.deadline - time.time())
        for leg in s.legs():
            self._emit_one(
                leg.endpoint,
                "call.warning",
                {"call_id": leg.call_id, "seconds_left": round(left, 1)},
            )

    def _expire(self, s: Session) -> None:
        s.timers.pop("end", None)
        self._finish(
            s,
            S.ABORTED,
            lambda leg: EndCause.MAX_DURATION,
            "maximum call duration reached",
        )

    # ---------------------------------------------------------- leg requests

    def _own_leg(self, ep: Endpoint, call_id: str) -> Leg:
        leg = self.legs.get(call_id)
        if leg is None or leg.endpoint is not ep:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no active call {call_id!r}")
        return leg

    @staticmethod
    def _require(ep: Endpoint, privilege: Privilege, what: str) -> None:
        if privilege not in ep.privileges:
            raise ProtocolError(
                ErrorCode.FORBIDDEN, f"{what} needs the '{privilege.value}' privilege"
            )

    def start_call(
        self,
        ep: Endpoint,
        number: str,
        call_type: CallType,
        max_duration: float | None = None,
        ring_timeout: float | None = None,
    ) -> dict[str, Any]:
        self._require(ep, Privilege.CALL, "making a call")
        s = self._create_session(ep.extension, number, call_type)
        s.max_duration, s.ring_timeout = max_duration, ring_timeout
        leg = self._new_leg(ep, s, Party.CALLER)
        s.caller_leg = leg
        self._announce(s)
        loop = asyncio.get_running_loop()
        # Routing after the reply, so the client knows the call id before its first state.
        loop.call_soon(self._route_if_live, s, number)
        self._update_status(ep.extension)
        return {"call_id": leg.call_id, "session_id": s.id}

    def _route_if_live(self, s: Session, number: str) -> None:
        if not s.sm.is_final:
            self._route(s, number)

    def setup_call(self, ep: Endpoint, caller: str, callee: str) -> dict[str, Any]:
        """Click-to-call: ring the caller's devices; when one answers, dial the callee."""
        self._require(ep, Privilege.CALL, "setting up a call")
        if caller != ep.extension:
            self._require(ep, Privilege.MODIFY, "setting up a call for another extension")
        if caller not in self.directory.extensions:
            raise ProtocolError(
                ErrorCode.NUMBER_NOT_FOUND, f"caller {caller!r} is not an extension"
            )
        if self.directory.resolve(callee) is None:
            raise ProtocolError(ErrorCode.NUMBER_NOT_FOUND, f"callee {callee!r} is not known")
        if not self._reachable(caller):
            raise ProtocolError(
                ErrorCode.CALL_CONNECT_FAILED, f"caller {caller!r} has no device online"
            )
        s = self._create_session(caller, callee, CallType.AUDIO)
        s.click_to_call = callee
        self._announce(s)
        for dev in self._reachable(caller):
            leg = self._new_leg(dev, s, Party.CALLER)
            s.ringing[leg.call_id] = leg
            leg.last_state = CallState.RINGING
            self._emit_one(
                dev,
                "call.incoming",
                {
                    "call_id": leg.call_id,
                    "session_id": s.id,
                    "caller": callee,
                    "caller_name": self.directory.display_name(callee),
                    "callee": caller,
                    "dialed": callee,
                    "call_type": s.call_type.value,
                    "click_to_call": True,
                    "peer": None,
                    "other_privileges": [],
                },
            )
        self._transition(s, S.RINGING)
        s.timers["ring"] = asyncio.get_running_loop().call_later(
            self.settings.ring_timeout, self._ring_timeout, s
        )
        return {"session_id": s.id}

    def accept(self, ep: Endpoint, call_id: str) -> None:
        leg = self._own_leg(ep, call_id)
        s = leg.session
        if leg.call_id not in s.ringing or s.state is not S.RINGING:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "only a ringing incoming call can be accepted"
            )
        del s.ringing[leg.call_id]
        for other in list(s.ringing.values()):
            self._end_leg(other, CallState.COMPLETED, EndCause.ANSWERED_ELSEWHERE)
        if s.click_to_call is not None:
            # First half of click-to-call answered: this device becomes the caller.
            s.caller_leg = leg
            number, s.click_to_call = s.click_to_call, None
            self._leg_state(leg, CallState.RINGING)
            self._route(s, number)
            return
        s.callee_leg = leg
        s.callee = leg.extension
        for name in ("ring", "member"):
            timer = s.timers.pop(name, None)
            if timer:
                timer.cancel()
        s.pending_members.clear()
        self._transition(s, S.INCALL)
        self._arm_duration(s)
        self._touch_status(s)

    def reject(self, ep: Endpoint, call_id: str) -> None:
        leg = self._own_leg(ep, call_id)
        s = leg.session
        if leg.call_id not in s.ringing:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "only a ringing incoming call can be rejected"
            )
        self._end_leg(leg, CallState.REJECTED, EndCause.REJECTED)
        s.rejected += 1
        self._after_callee_left(s)

    def _after_callee_left(self, s: Session) -> None:
        if s.ringing or s.sm.is_final or s.callee_leg is not None:
            return
        if s.click_to_call is not None:
            self._finish(s, S.REJECTED, lambda leg: EndCause.REJECTED, "the caller declined")
            return
        if s.pending_members:
            old = s.timers.pop("member", None)
            if old:
                old.cancel()
            self._ring_members(s, [s.pending_members.pop(0)])
            return
        self._finish(s, S.REJECTED, lambda leg: EndCause.REJECTED, f"{s.callee} rejected the call")

    def hangup(self, ep: Endpoint, call_id: str) -> None:
        leg = self._own_leg(ep, call_id)
        self._leg_gone(leg, EndCause.HUNG_UP)

    def _leg_gone(self, leg: Leg, cause: EndCause) -> None:
        s = leg.session
        if leg.call_id in s.ringing:
            if s.click_to_call is not None or leg.role is Party.CALLER:
                self._end_leg(leg, CallState.COMPLETED, cause)
            else:
                self._end_leg(leg, CallState.REJECTED, EndCause.REJECTED)
                s.rejected += 1
            self._after_callee_left(s)
            return
        if s.state in (S.SETUP, S.RINGING, S.REDIRECTED):
            self._finish(
                s,
                S.CANCELLED,
                lambda x: cause if x is leg else EndCause.CANCELLED,
            )
            return
        final = S.CALLERHUNGUP if leg is s.caller_leg else S.CALLEEHUNGUP
        self._finish(s, final, lambda x: cause if x is leg else EndCause.REMOTE_HUNG_UP)

    def _talking(self, leg: Leg) -> Session:
        s = leg.session
        if not s.sm.is_talking or leg not in (s.caller_leg, s.callee_leg):
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND,
                f"the call is {public_call_state(s.state).value}, not in a conversation",
            )
        return s

    def set_hold(self, ep: Endpoint, call_id: str, on: bool) -> None:
        leg = self._own_leg(ep, call_id)
        s = self._talking(leg)
        if leg is s.caller_leg:
            s.caller_holds = on
        else:
            s.callee_holds = on
        target = hold_state(s.caller_holds, s.callee_holds)
        if target is not s.state:
            self._transition(s, target)

    def forward(self, ep: Endpoint, call_id: str, target: str) -> None:
        leg = self._own_leg(ep, call_id)
        s = leg.session
        if leg.call_id not in s.ringing or s.state is not S.RINGING:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "a call can only be forwarded while it rings"
            )
        self._redirect(s, target)

    def _redirect(self, s: Session, target: str) -> None:
        if self.directory.resolve(target) is None:
            raise ProtocolError(
                ErrorCode.NUMBER_NOT_FOUND, f"forward target {target!r} is not known"
            )
        self._transition(s, S.REDIRECTED)
        for leg in list(s.ringing.values()):
            self._end_leg(leg, CallState.COMPLETED, EndCause.FORWARDED)
        s.pending_members.clear()
        for name in ("ring", "member"):
            timer = s.timers.pop(name, None)
            if timer:
                timer.cancel()
        s.callee = target
        self._route(s, target)

    def transfer(self, ep: Endpoint, call_id: str, target: str) -> None:
        leg = self._own_leg(ep, call_id)
        self._talking(leg)
        self._blind_transfer(leg, target)

    def _blind_transfer(self, transferor: Leg, target: str) -> None:
        """The transferor leaves; the other party is connected to ``target`` in a new session."""
        s = transferor.session
        transferee = s.other(transferor)
        assert transferee is not None
        self._transition(s, S.TRANSFERREQUESTED)
        members, _, refusal = self._candidates(transferee.extension, target)
        reachable = [x for x in members if self._reachable(x) and not self.is_busy(x)]
        if refusal is not None or not reachable:
            self._transition(s, S.TRANSFERFAILED)
            raise ProtocolError(
                ErrorCode.CALL_CONNECT_FAILED,
                refusal or f"transfer target {target!r} is busy or offline",
            )
        self._transition(s, S.TRANSFERRING)
        self._emit_one(
            transferee.endpoint,
            "call.peer",
            {"call_id": transferee.call_id, "peer": transferor.call_id, "removed": True},
        )
        # Detach the transferee so that finishing the old session leaves its leg alive.
        if transferee is s.caller_leg:
            s.caller_leg = None
        else:
            s.callee_leg = None
        self._finish(s, S.TRANSFERCOMPLETED, lambda x: EndCause.TRANSFERRED)
        new = self._create_session(transferee.extension, target, s.call_type, master_id=s.id)
        transferee.session = new
        transferee.role = Party.CALLER
        new.caller_leg = transferee
        self._announce(new)
        self._leg_state(transferee, CallState.RINGING)
        self._route(new, target)

    def send_message(self, ep: Endpoint, call_id: str, text: str) -> None:
        leg = self._own_leg(ep, call_id)
        s = leg.session
        if s.state not in (S.RINGING,) and not s.sm.is_talking:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "messages need a ringing or answered call"
            )
        if leg is s.caller_leg:
            recipients = [s.callee_leg] if s.callee_leg else list(s.ringing.values())
        else:
            recipients = [s.caller_leg] if s.caller_leg else []
        for other in recipients:
            assert other is not None
            self._emit_one(
                other.endpoint,
                "call.message",
                {"call_id": other.call_id, "text": text, "from": leg.extension},
            )

    def send_dtmf(self, ep: Endpoint, call_id: str, digits: str) -> None:
        leg = self._own_leg(ep, call_id)
        s = self._talking(leg)
        other = s.other(leg)
        assert other is not None
        for key in digits:
            self._dtmf_to(other, key, "signalling", ep)

    def _dtmf_to(self, leg: Leg, key: str, source: str, sender: Endpoint) -> None:
        """Digits to ``leg``, naming who really sent them and what that sender may do: a door
        station counts a supervisor's digits (``source`` "session") only from a ``door``
        holder."""
        self._emit_one(
            leg.endpoint,
            "call.dtmf",
            {
                "call_id": leg.call_id,
                "key": key,
                "source": source,
                "from": sender.extension,
                "privileges": sorted(p.value for p in sender.privileges),
            },
        )

    def command(self, ep: Endpoint, call_id: str, command: str, target: str) -> None:
        """Relay a privileged command (``unlock``) to the other party of an answered call."""
        self._require(ep, Privilege.DOOR, f"'{command}'")
        leg = self._own_leg(ep, call_id)
        s = self._talking(leg)
        other = s.other(leg)
        assert other is not None
        self._emit_one(
            other.endpoint,
            "call.command",
            {
                "call_id": other.call_id,
                "command": command,
                "target": target,
                "from": leg.extension,
                "privileges": sorted(p.value for p in ep.privileges),
            },
        )

    def extend(self, ep: Endpoint, call_id: str, seconds: int) -> dict[str, Any]:
        leg = self._own_leg(ep, call_id)
        s = self._talking(leg)
        assert s.deadline is not None
        s.deadline += seconds
        self._schedule_deadline(s)
        left = round(s.deadline - time.time(), 1)
        for each in s.legs():
            self._emit_one(
                each.endpoint, "call.extended", {"call_id": each.call_id, "seconds_left": left}
            )
        return {"seconds_left": left}

    def relay_signal(
        self, ep: Endpoint, call_id: str, kind: str, sdp: str, peer: str | None
    ) -> None:
        leg = self._own_leg(ep, call_id)
        s = leg.session
        if peer is not None and peer.startswith(LISTENER_PREFIX):
            suffix = peer[len(LISTENER_PREFIX) :]
            listener = s.listeners.get(int(suffix)) if suffix.isdigit() else None
            if listener is None:
                raise ProtocolError(ErrorCode.INVALID_PARAMETER, f"no listener {peer!r}")
            self._emit_one(
                listener,
                "session.signal",
                {
                    "session_id": s.id,
                    "peer": leg.call_id,
                    "party": leg.extension,
                    "kind": kind,
                    "sdp": sdp,
                },
            )
            return
        if leg is s.caller_leg:
            candidates = [x for x in s.legs() if x is not leg]
            if peer is not None:
                candidates = [x for x in candidates if x.call_id == peer]
        else:
            candidates = [s.caller_leg] if s.caller_leg else []
        if len(candidates) != 1:
            raise ProtocolError(
                ErrorCode.INVALID_PARAMETER, "name the 'peer' leg this media message is for"
            )
        target = candidates[0]
        self._emit_one(
            target.endpoint,
            "call.signal",
            {"call_id": target.call_id, "peer": leg.call_id, "kind": kind, "sdp": sdp},
        )

    # -------------------------------------------------------- session requests

    def _session(self, ep: Endpoint, session_id: str) -> Session:
        self._require(ep, Privilege.MODIFY, "changing a session")
        s = self.sessions.get(session_id)
        if s is None:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no active session {session_id!r}")
        return s

    def _party_leg(self, s: Session, party: str) -> Leg:
        if s.caller_leg and party == s.caller:
            return s.caller_leg
        if s.callee_leg and party == s.callee:
            return s.callee_leg
        raise ProtocolError(
            ErrorCode.INVALID_PARAMETER,
            f"{party!r} is neither the caller ({s.caller}) nor the callee ({s.callee})",
        )

    def session_blind_transfer(
        self, ep: Endpoint, session_id: str, transferor: str, target: str
    ) -> None:
        s = self._session(ep, session_id)
        leg = self._party_leg(s, transferor)
        self._talking(leg)
        self._blind_transfer(leg, target)

    def session_close(self, ep: Endpoint, session_id: str) -> None:
        s = self._session(ep, session_id)
        self._finish(s, S.ABORTED, lambda leg: EndCause.CLOSED_BY_SUPERVISOR)

    def session_hangup(self, ep: Endpoint, session_id: str) -> None:
        """A supervisor's hang-up: a ringing call is cancelled, a conversation ends as if
        the caller had hung up."""
        s = self._session(ep, session_id)
        final = S.CALLERHUNGUP if s.sm.is_talking else S.CANCELLED
        self._finish(s, final, lambda leg: EndCause.CLOSED_BY_SUPERVISOR)

    def session_forward(self, ep: Endpoint, session_id: str, target: str) -> None:
        s = self._session(ep, session_id)
        if s.state is not S.RINGING or s.click_to_call is not None:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "a session can only be forwarded while it rings"
            )
        self._redirect(s, target)

    def session_hold(self, ep: Endpoint, session_id: str, on: bool) -> None:
        s = self._session(ep, session_id)
        if not s.sm.is_talking:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, f"session is {s.state.value}, not in a call"
            )
        s.caller_holds = s.callee_holds = on
        target = hold_state(on, on)
        if target is not s.state:
            self._transition(s, target)

    def session_dtmf(self, ep: Endpoint, session_id: str, key: str, party: str) -> None:
        s = self._session(ep, session_id)
        leg = self._party_leg(s, party)
        self._talking(leg)
        self._dtmf_to(leg, key.upper(), "session", ep)

    def session_listen(self, ep: Endpoint, session_id: str, on: bool) -> None:
        self._require(ep, Privilege.MONITOR, "listening to a call")
        s = self._session(ep, session_id)
        if on == (ep.conn_id in s.listeners):
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND,
                "already listening to this session" if on else "not listening to this session",
            )
        if on:
            if not s.sm.is_talking:
                raise ProtocolError(
                    ErrorCode.INAPPROPRIATE_COMMAND, "only an answered call can be listened to"
                )
            s.listeners[ep.conn_id] = ep
        else:
            del s.listeners[ep.conn_id]
        self._announce_listener(s, ep, on)
        self._emit(self.monitors.values(), "session.state", self.session_info(s))

    def _announce_listener(self, s: Session, ep: Endpoint, active: bool) -> None:
        """Each party sends its media to a listener, and stops when it goes."""
        for leg in s.legs():
            self._emit_one(
                leg.endpoint,
                "call.listener",
                {
                    "call_id": leg.call_id,
                    "listener": ep.extension,
                    "conn": ep.conn_id,
                    "active": active,
                },
            )

    def listener_signal(
        self, ep: Endpoint, session_id: str, peer: str, kind: str, sdp: str
    ) -> None:
        """A listener answers a party's offer (or says bye)."""
        s = self.sessions.get(session_id)
        if s is None or ep.conn_id not in s.listeners:
            raise ProtocolError(ErrorCode.INAPPROPRIATE_COMMAND, "not listening to this session")
        leg = next((x for x in s.legs() if x.call_id == peer), None)
        if leg is None:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no party leg {peer!r}")
        self._emit_one(
            leg.endpoint,
            "call.signal",
            {
                "call_id": leg.call_id,
                "peer": f"{LISTENER_PREFIX}{ep.conn_id}",
                "kind": kind,
                "sdp": sdp,
            },
        )

    # ------------------------------------------------------------- shutdown

    def abort_all(self) -> None:
        for s in list(self.sessions.values()):
            self._finish(s, S.ABORTED, lambda leg: EndCause.ERROR, "the exchange is stopping")
