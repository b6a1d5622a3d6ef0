"""The switch: call control without I/O.

Requests, connections coming and going, and clock ticks go in; state changes and events come
out. The switch reads the time only from the clock it is given and never waits: it asks
``Timers`` for the deadlines it wants (ring timeout, next group member, call warning and end,
routing once the caller has its reply), and whoever drives it arms one wake-up for
``next_deadline()`` and calls ``tick()`` (the server's event loop; in tests, a fake clock).
Events leave as protocol models through the ``Outbox``; the server encodes and sends them.

It uses its collaborators one way: the registry (registrations and presence), the directory
(through the dial plan, once per number dialled) and call history. What only passes between
parties (text, digits, SDP) goes through ``Relay`` (relay.py), and supervisors act on calls
through ``Supervisor`` (supervisor.py); both use the switch, never the other way round.

Every request handler either changes state and emits events, or raises ``ProtocolError``
having changed nothing.

Longer than our ~500 lines on purpose: it is one state machine. Ringing, groups, answering,
forwarding, transfer, hold, the limits and the end all move the same session and legs, and
reading a transition should not mean reading several files. Whatever does not change a
call's state lives elsewhere (relay, supervisor, registry, dial plan, timers, views).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from intercom.protocol.enums import (
    CallState,
    CallType,
    EndCause,
    ExtensionStatus,
    Party,
    Privilege,
    SessionState,
)
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import ListenerChange, PeerChange, TimeLeft
from intercom.protocol.records import SessionRecord
from intercom.protocol.results import CallSetUp, CallStarted, SecondsLeft
from intercom.protocol.session_state import FINAL_SESSION_STATES, hold_state, public_call_state
from intercom.protocol.wire import WireModel

from . import dialplan, views
from .calls import Leg, Session, new_id
from .config import ExchangeSettings
from .dialplan import Route
from .directory import DirectoryLookup
from .history import CallHistory, HistoryEnd, HistoryStart
from .registry import ConnectionRegistry, Endpoint, Outbox
from .timers import Clock, Timers

log = logging.getLogger(__name__)
S = SessionState


class Switch:
    def __init__(
        self,
        directory: DirectoryLookup,
        history: CallHistory,
        settings: ExchangeSettings,
        registry: ConnectionRegistry,
        outbox: Outbox,
        clock: Clock = time.time,
        timer_clock: Clock = time.monotonic,
    ) -> None:
        """``clock``: the wall clock, for the times calls are recorded with; ``timer_clock``:
        the one deadlines are kept in, which never jumps (a Pi without a real-time clock steps
        its wall clock by years at its first time sync: that must not end every call)."""
        self.directory = directory
        self.history = history
        self.settings = settings
        self.registry = registry
        self._out = outbox
        self.clock = clock
        self.timer_clock = timer_clock
        self.timers = Timers()
        self.legs: dict[str, Leg] = {}
        #: the same legs by extension: whether one is busy is asked at every state change
        self._legs_of: dict[str, dict[str, Leg]] = {}
        self.sessions: dict[str, Session] = {}

    # ------------------------------------------------------------ driving

    def next_deadline(self) -> float | None:
        """When the switch next wants ``tick()`` (in ``timer_clock`` time), or None."""
        return self.timers.next_deadline()

    def tick(self) -> None:
        """Run every deadline that is due."""
        self.timers.run_due(self.timer_clock())

    # ------------------------------------------------------------ sending

    def send(self, ep: Endpoint, kind: str, event: WireModel) -> None:
        self._out((ep,), kind, event)

    def error_to(self, ep: Endpoint, code: ErrorCode, message: str) -> None:
        self.send(ep, "error", ProtocolError(code, message).record())

    # -------------------------------------------------------- connections

    def attach(self, ep: Endpoint) -> None:
        self.registry.add(ep)
        self._update_status(ep.extension)

    def detach(self, ep: Endpoint) -> None:
        """A connection went away: hang up its legs, drop it everywhere, tell watchers.
        Its legs and listening are swept every time (a request may have made some after an
        earlier detach); it leaves the registry, and watchers hear of it, once."""
        of_extension = self._legs_of.get(ep.extension, {}).values()
        for leg in [leg for leg in of_extension if leg.endpoint is ep]:
            if leg.call_id in self.legs:
                self._leg_gone(leg, EndCause.DISCONNECTED)
        for session in list(self.sessions.values()):
            if session.listeners.pop(ep.conn_id, None) is not None:
                self.announce_listener(session, ep, False)
        if self.registry.is_registered(ep):
            self.registry.remove(ep)
            self._update_status(ep.extension)

    def extension_status(self, number: str) -> ExtensionStatus:
        if not self.registry.is_online(number):
            return ExtensionStatus.OFFLINE
        return ExtensionStatus.BUSY if self.is_busy(number) else ExtensionStatus.ONLINE

    def _update_status(self, number: str) -> None:
        self.registry.publish_status(number, self.extension_status(number))

    def is_busy(self, number: str) -> bool:
        """In a call: a party to a session (not merely ringing) on any device."""
        for leg in self._legs_of.get(number, {}).values():
            if leg is leg.session.caller_leg or leg is leg.session.callee_leg:
                return True
        return False

    def _touch_status(self, s: Session) -> None:
        for number in dict.fromkeys((s.caller, s.callee)):
            if number in self.directory.extensions:
                self._update_status(number)

    # ----------------------------------------------------------- sessions

    def session_record(self, s: Session) -> SessionRecord:
        return views.session_record(s, self.directory, self.clock())

    def publish(self, s: Session, kind: str = "session.state", listeners: bool = True) -> None:
        """Tell monitors (and, unless ``listeners`` is False, the session's listeners)."""
        audience = list(self.registry.monitors)
        if listeners:
            audience.extend(s.listeners.values())
        if audience:
            self._out(audience, kind, self.session_record(s))

    def _create_session(
        self,
        caller: str,
        dialed: str,
        call_type: CallType,
        master_id: str | None = None,
        route: Route | None = None,
    ) -> Session:
        route = route or dialplan.route(self.directory, caller, dialed)
        s = Session(
            new_id(),
            caller,
            dialed,
            dialed,
            call_type,
            route,
            self.clock(),
            direction=route.direction,
            destination_type=route.destination_type,
            master_id=master_id,
        )
        self.sessions[s.id] = s
        try:
            self.history.started(
                HistoryStart(
                    s.id, s.started_at, s.direction, caller, dialed, dialed, caller,
                    call_type.value.title(),
                )
            )  # fmt: skip
        except Exception:  # history must never keep a call from being made
            log.exception("could not record the start of session %s", s.id)
        return s

    def _new_leg(self, ep: Endpoint, session: Session, role: Party) -> Leg:
        leg = Leg(new_id(), ep, ep.extension, role, session, session.call_type)
        self.legs[leg.call_id] = leg
        self._legs_of.setdefault(leg.extension, {})[leg.call_id] = leg
        return leg

    def _leg_state(
        self, leg: Leg, state: CallState, cause: EndCause | None = None, message: str = ""
    ) -> None:
        event = views.leg_state(leg, state, self.directory, cause, message)
        leg.last_state = state
        self.send(leg.endpoint, "call.state", event)

    def _end_leg(self, leg: Leg, state: CallState, cause: EndCause, message: str = "") -> None:
        self._leg_state(leg, state, cause, message)
        self.legs.pop(leg.call_id, None)
        of_extension = self._legs_of.get(leg.extension, {})
        of_extension.pop(leg.call_id, None)
        if not of_extension:
            self._legs_of.pop(leg.extension, None)
        s = leg.session
        if s.caller_leg is leg:
            s.caller_leg = None
        if s.callee_leg is leg:
            s.callee_leg = None
        was_callee = s.ringing.pop(leg.call_id, None) is not None or leg.role is Party.CALLEE
        if was_callee and s.caller_leg is not None:
            # The caller negotiates media with each callee leg: tell it this one is gone.
            self._peer_removed(s.caller_leg, leg)

    def _peer_removed(self, leg: Leg, gone: Leg) -> None:
        removed = PeerChange(call_id=leg.call_id, peer=gone.call_id, removed=True)
        self.send(leg.endpoint, "call.peer", removed)

    def _transition(self, s: Session, target: SessionState) -> None:
        """Move ``s`` on; tell every leg its public state, and monitors the session's."""
        first_answer = s.sm.to(target)
        s.state_since = self.clock()
        if first_answer:
            s.answered_at = s.state_since
            for leg in s.legs():
                self._leg_state(leg, CallState.ANSWERED)
        if target in FINAL_SESSION_STATES:
            return
        public = public_call_state(s.state)
        for leg in s.legs():
            if leg.last_state is not public:
                self._leg_state(leg, public)
        self.publish(s)

    def finish(
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
        s.ended_at = s.state_since = self.clock()
        self.timers.stop(s.timers)
        public = public_call_state(final)
        for leg in s.legs():
            self._end_leg(leg, public, cause_for(leg), message)
        self.sessions.pop(s.id, None)
        ring = (s.answered_at or s.ended_at) - s.started_at
        talk = 0.0 if s.answered_at is None else s.ended_at - s.answered_at
        try:
            self.history.ended(HistoryEnd(s.id, s.callee, final.value, ring, talk, s.ended_at))
        except Exception:  # history must never take a call down with it
            log.exception("could not record the end of session %s", s.id)
        monitors = list(self.registry.monitors)
        if monitors or s.listeners:
            record = self.session_record(s)  # the last state, and the closing: one record
            if monitors:
                self._out(monitors, "session.state", record)
            self._out([*monitors, *s.listeners.values()], "session.closed", record)
        self._touch_status(s)

    # ------------------------------------------------------------ routing

    def _reachable(self, number: str) -> list[Endpoint]:
        return [ep for ep in self.registry.devices(number) if Privilege.CALL in ep.privileges]

    def _route(self, s: Session) -> None:
        """Ring what ``s.route`` reaches, or end the session with the precise reason."""
        route = s.route
        if route.refusal is not None:
            if s.caller_leg is not None and route.gateway_missing:
                # Not a wrong number but a missing gateway: worth an error, not only a state.
                self.error_to(s.caller_leg.endpoint, ErrorCode.CALL_CONNECT_FAILED, route.refusal)
            self.finish(s, S.NOTFOUND, lambda leg: EndCause.UNKNOWN_NUMBER, route.refusal)
            return
        members = list(route.members)
        if route.member_timeout is not None:
            members, s.pending_members = members[:1], members[1:]
        self._ring_members(s, members)

    def _ring_members(self, s: Session, members: list[str]) -> None:
        rang = busy = capped = False
        while True:
            for number in members:
                if self.is_busy(number):
                    busy = True
                    continue
                for ep in self._reachable(number):
                    if len(s.ringing) >= self.settings.max_ringing_legs:
                        # Each ringing leg costs the caller a peer connection (a door
                        # station's file descriptors and CPU): ring the first ones only.
                        capped = True
                        break
                    self._ring_endpoint(s, ep)
                    rang = True
            if rang or not s.pending_members:
                break
            # Sequential group: the member was offline or busy, try the next one now.
            members = [s.pending_members.pop(0)]
        if capped:
            log.warning("call %s rings its first %d devices only", s.id,
                        self.settings.max_ringing_legs)  # fmt: skip
        if not rang:
            if busy:
                self.finish(s, S.BUSY, lambda leg: EndCause.BUSY, f"{s.callee} is busy")
            else:
                nobody = f"nobody is online at {s.callee}"
                self.finish(s, S.NOTFOUND, lambda leg: EndCause.UNAVAILABLE, nobody)
            return
        if s.state is not S.RINGING:
            self._transition(s, S.RINGING)
        now = self.timer_clock()
        if "ring" not in s.timers:  # a forward starts it again; the next member does not
            limit = self._ring_limit(s)
            self._at(s, "ring", now + limit, self._ring_timeout)
        if s.pending_members:
            assert s.route.member_timeout is not None
            next_at = now + s.route.member_timeout
            self._at(s, "member", next_at, self._next_member)

    def _ring_endpoint(self, s: Session, ep: Endpoint) -> None:
        leg = self._new_leg(ep, s, Party.CALLEE)
        s.ringing[leg.call_id] = leg
        leg.last_state = CallState.RINGING
        self.send(ep, "call.incoming", views.incoming_call(leg, self.directory))
        if s.caller_leg is not None:
            added = PeerChange(
                call_id=s.caller_leg.call_id, peer=leg.call_id, extension=ep.extension, added=True
            )
            self.send(s.caller_leg.endpoint, "call.peer", added)

    def _next_member(self, s: Session) -> None:
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
        if s.state is not S.RINGING:
            return
        message = f"no answer within {self._ring_limit(s):g} s"
        self.finish(s, S.NOTANSWERED, lambda leg: EndCause.NO_ANSWER, message)

    # -------------------------------------------------------- call timers

    def _at(self, s: Session, name: str, when: float, step: Callable[[Session], None]) -> None:
        """Run ``step(s)`` at ``when`` (the session's timer ``name``). A step that fails ends
        its call with ERROR rather than leave it waiting for a timer that will never come."""

        def run() -> None:
            try:
                step(s)
            except Exception:
                log.exception("the %s timer of session %s failed", name, s.id)
                self.finish(s, S.ERROR, lambda leg: EndCause.ERROR, "internal error")

        self.timers.start(s.timers, name, when, run)

    def _arm_duration(self, s: Session) -> None:
        limit = self.settings.max_call_duration
        if s.max_duration is not None:
            limit = min(limit, s.max_duration)
        s.deadline = self.timer_clock() + limit
        self._schedule_deadline(s)

    def _schedule_deadline(self, s: Session) -> None:
        """A warning ``call_warning`` seconds before the deadline (unless that is past
        already), and the end at the deadline."""
        assert s.deadline is not None
        now, warning = self.timer_clock(), self.settings.call_warning
        self.timers.stop(s.timers, "warn")
        if warning > 0 and s.deadline - warning >= now:
            self._at(s, "warn", s.deadline - warning, self._warn)
        self._at(s, "end", max(now, s.deadline), self._expire)

    def _warn(self, s: Session) -> None:
        if s.deadline is None or s.sm.is_final:
            return
        left = round(max(0.0, s.deadline - self.timer_clock()), 1)
        for leg in s.legs():
            warning = TimeLeft(call_id=leg.call_id, seconds_left=left)
            self.send(leg.endpoint, "call.warning", warning)

    def extend(self, ep: Endpoint, call_id: str, seconds: int) -> SecondsLeft:
        """Push the deadline back; every party hears how long is left now."""
        leg = self.own_leg(ep, call_id)
        s = self.talking(leg)
        assert s.deadline is not None
        s.deadline += seconds
        self._schedule_deadline(s)
        left = round(s.deadline - self.timer_clock(), 1)
        for each in s.legs():
            extended = TimeLeft(call_id=each.call_id, seconds_left=left)
            self.send(each.endpoint, "call.extended", extended)
        return SecondsLeft(seconds_left=left)

    def _expire(self, s: Session) -> None:
        message = "maximum call duration reached"
        self.finish(s, S.ABORTED, lambda leg: EndCause.MAX_DURATION, message)

    # ------------------------------------------------------- leg requests

    def own_leg(self, ep: Endpoint, call_id: str) -> Leg:
        leg = self.legs.get(call_id)
        if leg is None or leg.endpoint is not ep:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no active call {call_id!r}")
        return leg

    @staticmethod
    def require(ep: Endpoint, privilege: Privilege, what: str) -> None:
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
    ) -> CallStarted:
        self.require(ep, Privilege.CALL, "making a call")
        s = self._create_session(ep.extension, number, call_type)
        s.max_duration, s.ring_timeout = max_duration, ring_timeout
        leg = self._new_leg(ep, s, Party.CALLER)
        s.caller_leg = leg
        self.publish(s, "session.created")
        # Routing at the next tick, after the reply: the client knows the call id before its
        # first state.
        self._at(s, "route", self.timer_clock(), self._route)
        self._update_status(ep.extension)
        return CallStarted(call_id=leg.call_id, session_id=s.id)

    def setup_call(self, ep: Endpoint, caller: str, callee: str) -> CallSetUp:
        """Click-to-call: ring the caller's devices; when one answers, dial the callee."""
        self.require(ep, Privilege.CALL, "setting up a call")
        if caller != ep.extension:
            self.require(ep, Privilege.MODIFY, "setting up a call for another extension")
        if caller not in self.directory.extensions:
            raise ProtocolError(
                ErrorCode.NUMBER_NOT_FOUND, f"caller {caller!r} is not an extension"
            )
        route = dialplan.route(self.directory, caller, callee)
        if not route.known:
            raise ProtocolError(ErrorCode.NUMBER_NOT_FOUND, f"callee {callee!r} is not known")
        devices = self._reachable(caller)
        if not devices:
            raise ProtocolError(
                ErrorCode.CALL_CONNECT_FAILED, f"caller {caller!r} has no device online"
            )
        s = self._create_session(caller, callee, CallType.AUDIO, route=route)
        s.click_to_call = callee
        self.publish(s, "session.created")
        for dev in devices:
            leg = self._new_leg(dev, s, Party.CALLER)
            s.ringing[leg.call_id] = leg
            leg.last_state = CallState.RINGING
            self.send(dev, "call.incoming", views.incoming_call(leg, self.directory))
        self._transition(s, S.RINGING)
        ring_until = self.timer_clock() + self.settings.ring_timeout
        self._at(s, "ring", ring_until, self._ring_timeout)
        return CallSetUp(session_id=s.id)

    def accept(self, ep: Endpoint, call_id: str) -> None:
        leg = self.own_leg(ep, call_id)
        s = leg.session
        if leg.call_id not in s.ringing or s.state is not S.RINGING:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "only a ringing incoming call can be accepted"
            )
        del s.ringing[leg.call_id]
        for other in list(s.ringing.values()):
            self._end_leg(other, CallState.COMPLETED, EndCause.ANSWERED_ELSEWHERE)
        if s.click_to_call is not None:
            # First half of click-to-call answered: this device becomes the caller, and the
            # callee gets a whole ring timeout of its own.
            s.caller_leg = leg
            s.click_to_call = None
            self.timers.stop(s.timers, "ring")
            self._leg_state(leg, CallState.RINGING)
            self._route(s)
            return
        s.callee_leg = leg
        s.callee = leg.extension
        self.timers.stop(s.timers, "ring", "member")
        s.pending_members.clear()
        self._transition(s, S.INCALL)
        self._arm_duration(s)
        self._touch_status(s)

    def reject(self, ep: Endpoint, call_id: str) -> None:
        leg = self.own_leg(ep, call_id)
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
            self.finish(s, S.REJECTED, lambda leg: EndCause.REJECTED, "the caller declined")
            return
        if s.pending_members:
            self.timers.stop(s.timers, "member")
            self._ring_members(s, [s.pending_members.pop(0)])
            return
        self.finish(s, S.REJECTED, lambda leg: EndCause.REJECTED, f"{s.callee} rejected the call")

    def hangup(self, ep: Endpoint, call_id: str) -> None:
        self._leg_gone(self.own_leg(ep, call_id), EndCause.HUNG_UP)

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
            self.finish(s, S.CANCELLED, lambda x: cause if x is leg else EndCause.CANCELLED)
            return
        final = S.CALLERHUNGUP if leg is s.caller_leg else S.CALLEEHUNGUP
        self.finish(s, final, lambda x: cause if x is leg else EndCause.REMOTE_HUNG_UP)

    def talking(self, leg: Leg) -> Session:
        """The session of ``leg``, which must be a party to a conversation."""
        s = leg.session
        if not s.sm.is_talking or leg not in (s.caller_leg, s.callee_leg):
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND,
                f"the call is {public_call_state(s.state).value}, not in a conversation",
            )
        return s

    def set_hold(self, ep: Endpoint, call_id: str, on: bool) -> None:
        leg = self.own_leg(ep, call_id)
        s = self.talking(leg)
        if leg is s.caller_leg:
            self.hold(s, on, s.callee_holds)
        else:
            self.hold(s, s.caller_holds, on)

    def hold(self, s: Session, caller_holds: bool, callee_holds: bool) -> None:
        s.caller_holds, s.callee_holds = caller_holds, callee_holds
        target = hold_state(caller_holds, callee_holds)
        if target is not s.state:
            self._transition(s, target)

    def forward(self, ep: Endpoint, call_id: str, target: str) -> None:
        leg = self.own_leg(ep, call_id)
        s = leg.session
        if leg.call_id not in s.ringing or s.state is not S.RINGING:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "a call can only be forwarded while it rings"
            )
        self.redirect(s, target)

    def redirect(self, s: Session, target: str) -> None:
        """Ring ``target`` instead of whatever rings now (a forward)."""
        route = dialplan.route(self.directory, s.caller, target)
        if not route.known:
            raise ProtocolError(
                ErrorCode.NUMBER_NOT_FOUND, f"forward target {target!r} is not known"
            )
        self._transition(s, S.REDIRECTED)
        for leg in list(s.ringing.values()):
            self._end_leg(leg, CallState.COMPLETED, EndCause.FORWARDED)
        s.pending_members.clear()
        self.timers.stop(s.timers, "ring", "member")
        s.callee, s.route = target, route
        self._route(s)

    def transfer(self, ep: Endpoint, call_id: str, target: str) -> None:
        leg = self.own_leg(ep, call_id)
        self.talking(leg)
        self.blind_transfer(leg, target)

    def blind_transfer(self, transferor: Leg, target: str) -> None:
        """The transferor leaves; the other party is connected to ``target`` in a new session."""
        s = transferor.session
        transferee = s.other(transferor)
        assert transferee is not None
        self._transition(s, S.TRANSFERREQUESTED)
        route = dialplan.route(self.directory, transferee.extension, target)
        reachable = [x for x in route.members if self._reachable(x) and not self.is_busy(x)]
        if route.refusal is not None or not reachable:
            self._transition(s, S.TRANSFERFAILED)
            raise ProtocolError(
                ErrorCode.CALL_CONNECT_FAILED,
                route.refusal or f"transfer target {target!r} is busy or offline",
            )
        self._transition(s, S.TRANSFERRING)
        self._peer_removed(transferee, transferor)
        # Detach the transferee so that finishing the old session leaves its leg alive.
        if transferee is s.caller_leg:
            s.caller_leg = None
        else:
            s.callee_leg = None
        self.finish(s, S.TRANSFERCOMPLETED, lambda x: EndCause.TRANSFERRED)
        new = self._create_session(
            transferee.extension, target, s.call_type, master_id=s.id, route=route
        )
        transferee.session = new
        transferee.role = Party.CALLER
        new.caller_leg = transferee
        self.publish(new, "session.created")
        self._leg_state(transferee, CallState.RINGING)
        self._route(new)

    def announce_listener(self, s: Session, ep: Endpoint, active: bool) -> None:
        """Each party sends its media to a listener, and stops when it goes."""
        for leg in s.legs():
            change = ListenerChange(
                call_id=leg.call_id, listener=ep.extension, conn=ep.conn_id, active=active
            )
            self.send(leg.endpoint, "call.listener", change)

    # ------------------------------------------------------------- shutdown

    def abort_all(self) -> None:
        for s in list(self.sessions.values()):
            self.finish(s, S.ABORTED, lambda leg: EndCause.ERROR, "the exchange is stopping")
