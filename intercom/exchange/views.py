"""The switch's records as the protocol's models: each event about a leg or a session is
built here, and only here (``call.incoming`` for an ordinary call and for click-to-call
alike)."""

from __future__ import annotations

from intercom.protocol.enums import CallState, EndCause, Party, Privilege
from intercom.protocol.events import IncomingCall, LegState
from intercom.protocol.records import SessionRecord
from intercom.protocol.session_state import public_call_state

from .calls import Leg, Session
from .directory import DirectoryLookup


def privileges(held: frozenset[Privilege]) -> list[Privilege]:
    return sorted(held)


def other_party(leg: Leg) -> str:
    s = leg.session
    if leg.role is Party.CALLER:
        return s.callee_leg.extension if s.callee_leg else s.callee
    return s.caller


def incoming_call(leg: Leg, directory: DirectoryLookup) -> IncomingCall:
    """``call.incoming`` for a leg that starts ringing. In click-to-call the caller's own
    devices ring first, showing the number that answering will dial."""
    s = leg.session
    caller_leg = s.caller_leg
    click_to_call = s.click_to_call is not None
    caller = s.click_to_call if s.click_to_call is not None else s.caller
    return IncomingCall(
        call_id=leg.call_id,
        session_id=s.id,
        caller=caller,
        caller_name=directory.display_name(caller),
        callee=leg.extension,
        dialed=s.dialed,
        call_type=s.call_type,
        click_to_call=True if click_to_call else None,
        peer=caller_leg.call_id if caller_leg else None,
        other_privileges=privileges(caller_leg.endpoint.privileges) if caller_leg else [],
    )


def leg_state(
    leg: Leg,
    state: CallState,
    directory: DirectoryLookup,
    cause: EndCause | None = None,
    message: str = "",
) -> LegState:
    s = leg.session
    other = s.other(leg)
    party = other_party(leg)
    return LegState(
        call_id=leg.call_id,
        session_id=s.id,
        state=state,
        session_state=s.state,
        other_party=party,
        other_party_name=directory.display_name(party),
        other_privileges=privileges(other.endpoint.privileges) if other else None,
        other_leg=other.call_id if other else None,
        cause=cause,
        message=message or None,
    )


def session_record(s: Session, directory: DirectoryLookup, now: float) -> SessionRecord:
    talk = 0.0 if s.answered_at is None else (s.ended_at or now) - s.answered_at
    ring_end = s.answered_at or s.ended_at or now
    return SessionRecord(
        sessionId=s.id,
        masterSessionId=s.master_id,
        sessionState=s.state,
        callState=public_call_state(s.state),
        caller=s.caller,
        callee=s.callee,
        callerDisplayName=directory.display_name(s.caller),
        calleeDisplayName=directory.display_name(s.callee),
        callerCallLegId=s.caller_leg.call_id if s.caller_leg else None,
        calleeCallLegId=s.callee_leg.call_id if s.callee_leg else None,
        source=s.caller,
        sourceType="extension",
        destination=s.callee,
        destinationType=s.destination_type,
        dialedNumber=s.dialed,
        direction=s.direction,
        callType=s.call_type,
        startTime=s.start_time,
        startedAt=s.started_at,
        answeredAt=s.answered_at,
        stateSince=s.state_since,
        talkDuration=_duration(talk),
        ringDuration=_duration(ring_end - s.started_at),
        stateDuration=_duration(now - s.state_since),
        listeners=[ep.extension for ep in s.listeners.values()],
    )


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
