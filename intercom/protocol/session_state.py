"""The session state machine and the one mapping from session state to public call state.

Invariant: a session only ever moves along an edge of ``TRANSITIONS``; a final state has no
outgoing edge, so nothing can revive an ended call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .enums import CallState, SessionState

S = SessionState

FINAL_SESSION_STATES = frozenset(
    {
        S.TRANSFERCOMPLETED,
        S.CALLERHUNGUP,
        S.CALLEEHUNGUP,
        S.NOTFOUND,
        S.BUSY,
        S.REJECTED,
        S.CANCELLED,
        S.NOTANSWERED,
        S.ERROR,
        S.ABORTED,
    }
)

HOLD_STATES = frozenset({S.CALLEEONHOLD, S.CALLERONHOLD, S.ONHOLD, S.ONHOLDINACTIVE})
TALKING_STATES = frozenset({S.INCALL, S.TRANSFERFAILED} | HOLD_STATES)
_HANGUPS = frozenset({S.CALLERHUNGUP, S.CALLEEHUNGUP, S.ERROR, S.ABORTED})
_RINGING_ENDS = frozenset(
    {S.NOTFOUND, S.BUSY, S.REJECTED, S.CANCELLED, S.NOTANSWERED, S.ERROR, S.ABORTED}
)

TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    S.SETUP: frozenset({S.RINGING} | _RINGING_ENDS),
    S.RINGING: frozenset({S.INCALL, S.REDIRECTED} | _RINGING_ENDS),
    S.REDIRECTED: frozenset({S.RINGING} | _RINGING_ENDS),
    S.INCALL: frozenset(HOLD_STATES | {S.TRANSFERREQUESTED} | _HANGUPS),
    S.CALLEEONHOLD: frozenset({S.INCALL, S.ONHOLD, S.TRANSFERREQUESTED} | _HANGUPS),
    S.CALLERONHOLD: frozenset({S.INCALL, S.ONHOLD, S.TRANSFERREQUESTED} | _HANGUPS),
    S.ONHOLD: frozenset({S.INCALL, S.CALLEEONHOLD, S.CALLERONHOLD, S.ONHOLDINACTIVE} | _HANGUPS),
    S.ONHOLDINACTIVE: frozenset({S.INCALL, S.ONHOLD, S.CALLEEONHOLD, S.CALLERONHOLD} | _HANGUPS),
    S.TRANSFERREQUESTED: frozenset({S.TRANSFERRING, S.TRANSFERFAILED} | _HANGUPS),
    S.TRANSFERRING: frozenset({S.TRANSFERCOMPLETED, S.TRANSFERFAILED} | _HANGUPS),
    S.TRANSFERFAILED: frozenset(HOLD_STATES | {S.INCALL, S.TRANSFERREQUESTED} | _HANGUPS),
    **{final: frozenset() for final in FINAL_SESSION_STATES},
}

_PUBLIC: dict[SessionState, CallState] = {
    S.SETUP: CallState.RINGING,
    S.RINGING: CallState.RINGING,
    S.REDIRECTED: CallState.RINGING,
    S.INCALL: CallState.IN_CALL,
    S.CALLEEONHOLD: CallState.HOLD,
    S.CALLERONHOLD: CallState.HOLD,
    S.ONHOLD: CallState.HOLD,
    S.ONHOLDINACTIVE: CallState.HOLD,
    S.TRANSFERREQUESTED: CallState.IN_CALL,
    S.TRANSFERRING: CallState.IN_CALL,
    S.TRANSFERFAILED: CallState.IN_CALL,
    S.TRANSFERCOMPLETED: CallState.COMPLETED,
    S.CALLERHUNGUP: CallState.COMPLETED,
    S.CALLEEHUNGUP: CallState.COMPLETED,
    S.NOTFOUND: CallState.NOT_FOUND,
    S.BUSY: CallState.BUSY,
    # Ozeki's HTTP API reports a call that rang for the set time as Busy.
    S.NOTANSWERED: CallState.BUSY,
    S.REJECTED: CallState.REJECTED,
    S.CANCELLED: CallState.COMPLETED,
    S.ERROR: CallState.COMPLETED,
    S.ABORTED: CallState.COMPLETED,
}


def public_call_state(state: SessionState) -> CallState:
    """The single place where a rich session state becomes one of the seven call states."""
    return _PUBLIC[state]


class IllegalTransition(Exception):
    def __init__(self, current: SessionState, target: SessionState) -> None:
        super().__init__(f"illegal session transition {current} -> {target}")
        self.current = current
        self.target = target


def hold_state(caller_holds: bool, callee_holds: bool) -> SessionState:
    """Which state a pair of hold flags means: CALLEEONHOLD is the caller holding the callee."""
    if caller_holds and callee_holds:
        return S.ONHOLD
    if caller_holds:
        return S.CALLEEONHOLD
    if callee_holds:
        return S.CALLERONHOLD
    return S.INCALL


@dataclass
class SessionStateMachine:
    """Tracks one session's state and refuses every edge that is not in ``TRANSITIONS``."""

    state: SessionState = S.SETUP
    history: list[SessionState] = field(default_factory=list)
    answered: bool = False

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_SESSION_STATES

    @property
    def is_talking(self) -> bool:
        return self.state in TALKING_STATES

    def can(self, target: SessionState) -> bool:
        return target in TRANSITIONS[self.state]

    def to(self, target: SessionState) -> bool:
        """Move to ``target``. Returns True when this is the first answer of the session."""
        if target not in TRANSITIONS[self.state]:
            raise IllegalTransition(self.state, target)
        first_answer = target is S.INCALL and not self.answered
        if first_answer:
            self.answered = True
        self.history.append(self.state)
        self.state = target
        return first_answer
