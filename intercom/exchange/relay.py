"""What passes between the parties of a call without changing its state: text messages,
DTMF digits, door commands and media negotiation (SDP), each to the right leg and naming who
really sent it.

``Relay`` works through the switch (its legs and sessions) and the switch knows nothing of
it; a message can be refused here, never change a call.
"""

from __future__ import annotations

from intercom.protocol.enums import Privilege, SessionState
from intercom.protocol.errors import ErrorCode, ProtocolError
from intercom.protocol.events import (
    DoorCommand,
    DtmfDigit,
    DtmfSource,
    ListenerSignal,
    MediaSignal,
    TextMessage,
)
from intercom.protocol.messages import Command, SignalKind

from . import views
from .calls import LISTENER_PREFIX, Leg
from .registry import Endpoint
from .switch import Switch


class Relay:
    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    def send_message(self, ep: Endpoint, call_id: str, text: str) -> None:
        """Text for the other party; while it rings, to every ringing callee."""
        leg = self.switch.own_leg(ep, call_id)
        s = leg.session
        if s.state is not SessionState.RINGING and not s.sm.is_talking:
            raise ProtocolError(
                ErrorCode.INAPPROPRIATE_COMMAND, "messages need a ringing or answered call"
            )
        if leg is s.caller_leg:
            recipients = [s.callee_leg] if s.callee_leg else list(s.ringing.values())
        else:
            recipients = [s.caller_leg] if s.caller_leg else []
        for other in recipients:
            assert other is not None
            message = TextMessage(call_id=other.call_id, text=text, sender=leg.extension)
            self.switch.send(other.endpoint, "call.message", message)

    def send_dtmf(self, ep: Endpoint, call_id: str, digits: str) -> None:
        leg = self.switch.own_leg(ep, call_id)
        s = self.switch.talking(leg)
        other = s.other(leg)
        assert other is not None
        for key in digits:
            self.dtmf_to(other, key, "signalling", ep)

    def dtmf_to(self, leg: Leg, key: str, source: DtmfSource, sender: Endpoint) -> None:
        """Digits to ``leg``, naming who really sent them and what that sender may do: a door
        station counts a supervisor's digits (``source`` "session") only from a ``door``
        holder."""
        digit = DtmfDigit(
            call_id=leg.call_id,
            key=key,
            source=source,
            sender=sender.extension,
            privileges=views.privileges(sender.privileges),
        )
        self.switch.send(leg.endpoint, "call.dtmf", digit)

    def command(self, ep: Endpoint, call_id: str, command: Command, target: str) -> None:
        """Relay a privileged command (``unlock``) to the other party of an answered call."""
        self.switch.require(ep, Privilege.DOOR, f"'{command}'")
        leg = self.switch.own_leg(ep, call_id)
        s = self.switch.talking(leg)
        other = s.other(leg)
        assert other is not None
        order = DoorCommand(
            call_id=other.call_id,
            command=command,
            target=target,
            sender=leg.extension,
            privileges=views.privileges(ep.privileges),
        )
        self.switch.send(other.endpoint, "call.command", order)

    def signal(
        self, ep: Endpoint, call_id: str, kind: SignalKind, sdp: str, peer: str | None
    ) -> None:
        """Media negotiation: the caller names the callee leg (``peer``), a callee's goes to
        the caller; ``listener:<conn>`` is a supervisor listening in."""
        leg = self.switch.own_leg(ep, call_id)
        s = leg.session
        if peer is not None and peer.startswith(LISTENER_PREFIX):
            suffix = peer[len(LISTENER_PREFIX) :]
            listener = s.listeners.get(int(suffix)) if suffix.isdigit() else None
            if listener is None:
                raise ProtocolError(ErrorCode.INVALID_PARAMETER, f"no listener {peer!r}")
            offer = ListenerSignal(
                session_id=s.id, peer=leg.call_id, party=leg.extension, kind=kind, sdp=sdp
            )
            self.switch.send(listener, "session.signal", offer)
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
        signal = MediaSignal(call_id=target.call_id, peer=leg.call_id, kind=kind, sdp=sdp)
        self.switch.send(target.endpoint, "call.signal", signal)
