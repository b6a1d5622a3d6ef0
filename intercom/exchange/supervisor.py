"""Supervisors' ``session.*`` requests: acting on calls that are not one's own.

A concierge with ``modify`` puts a whole call on hold, forwards it, transfers a party, sends
a party digits or ends it; with ``monitor`` and ``modify`` it listens in, each party sending
it a one-way media stream. ``Supervisor`` carries these out through the switch (and the relay,
for digits), which know nothing of it.
"""

from __future__ import annotations

from intercom.protocol.enums import EndCause, Privilege, SessionState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import MediaSignal
from intercom.protocol.messages import SignalKind

from .calls import LISTENER_PREFIX, Leg, Session
from .registry import Endpoint
from .relay import Relay
from .switch import Switch

S = SessionState


class Supervisor:
    def __init__(self, switch: Switch, relay: Relay) -> None:
        self.switch = switch
        self.relay = relay

    def _session(self, ep: Endpoint, session_id: str) -> Session:
        self.switch.require(ep, Privilege.MODIFY, "changing a session")
        s = self.switch.sessions.get(session_id)
        if s is None:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no active session {session_id!r}")
        return s

    @staticmethod
    def _party_leg(s: Session, party: str) -> Leg:
        if s.caller_leg and party == s.caller:
            return s.caller_leg
        if s.callee_leg and party == s.callee:
            return s.callee_leg
        raise ProtocolError(
            ErrorCode.INVALID_PARAMETER,
            f"{party!r} is neither the caller ({s.caller}) nor the callee ({s.callee})",
        )

    def _moving_a_door(self, ep: Endpoint, s: Session, what: str) -> None:
        """Moving a door station's call to another party makes that party the one who may
        enter the door's code: a supervisor needs ``door`` for that, as for sending the
        door digits itself."""
        extensions = self.switch.directory.extensions
        if any(
            number in extensions and extensions[number].type == "station"
            for number in (s.caller, s.callee)
        ):
            self.switch.require(ep, Privilege.DOOR, f"{what} a door station's call")

    def blind_transfer(self, ep: Endpoint, session_id: str, transferor: str, target: str) -> None:
        s = self._session(ep, session_id)
        self._moving_a_door(ep, s, "transferring")
        leg = self._party_leg(s, transferor)
        self.switch.talking(leg)
        self.switch.blind_transfer(leg, target)

    def close(self, ep: Endpoint, session_id: str) -> None:
        s = self._session(ep, session_id)
        self.switch.finish(s, S.ABORTED, lambda leg: EndCause.CLOSED_BY_SUPERVISOR)

    def hangup(self, ep: Endpoint, session_id: str) -> None:
        """A ringing call is cancelled, a conversation ends as if the caller had hung up."""
        s = self._session(ep, session_id)
        final = S.CALLERHUNGUP if s.sm.is_talking else S.CANCELLED
        self.switch.finish(s, final, lambda leg: EndCause.CLOSED_BY_SUPERVISOR)

    def forward(self, ep: Endpoint, session_id: str, target: str) -> None:
        s = self._session(ep, session_id)
        self._moving_a_door(ep, s, "forwarding")
        if s.state is not S.RINGING or s.click_to_call is not None:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "a session can only be forwarded while it rings"
            )
        self.switch.redirect(s, target)

    def hold(self, ep: Endpoint, session_id: str, on: bool) -> None:
        """Both parties at once: ``ONHOLD``, or back to ``INCALL``."""
        s = self._session(ep, session_id)
        if not s.sm.is_talking:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, f"session is {s.state.value}, not in a call"
            )
        self.switch.hold(s, on, on)

    def send_dtmf(self, ep: Endpoint, session_id: str, key: str, party: str) -> None:
        s = self._session(ep, session_id)
        leg = self._party_leg(s, party)
        self.switch.talking(leg)
        self.relay.dtmf_to(leg, key.upper(), "session", ep)

    def listen(self, ep: Endpoint, session_id: str, on: bool) -> None:
        self.switch.require(ep, Privilege.MONITOR, "listening to a call")
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
        self.switch.announce_listener(s, ep, on)
        self.switch.publish(s, listeners=False)

    def listener_signal(
        self, ep: Endpoint, session_id: str, peer: str, kind: SignalKind, sdp: str
    ) -> None:
        """A listener answers a party's offer (or says bye)."""
        s = self.switch.sessions.get(session_id)
        if s is None or ep.conn_id not in s.listeners:
            raise ProtocolError(ErrorCode.INAPPROPRIATE_COMMAND, "not listening to this session")
        leg = next((x for x in s.legs() if x.call_id == peer), None)
        if leg is None:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND, f"no party leg {peer!r}")
        listener = f"{LISTENER_PREFIX}{ep.conn_id}"
        signal = MediaSignal(call_id=leg.call_id, peer=listener, kind=kind, sdp=sdp)
        self.switch.send(leg.endpoint, "call.signal", signal)
