"""The session state machine: only legal edges, no way out of a final state, one mapping."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercom.protocol.enums import CallState, SessionState
from intercom.protocol.session_state import (
    FINAL_SESSION_STATES,
    TRANSITIONS,
    IllegalTransition,
    SessionStateMachine,
    hold_state,
    public_call_state,
)

S = SessionState


def test_every_state_has_a_public_state_among_the_seven() -> None:
    seven = set(CallState) - {CallState.ANSWERED}
    for state in SessionState:
        assert public_call_state(state) in seven


def test_final_states_have_no_exit() -> None:
    for state in FINAL_SESSION_STATES:
        assert TRANSITIONS[state] == frozenset()
        assert public_call_state(state).is_final


def test_non_final_states_are_not_final_publicly() -> None:
    for state in set(SessionState) - FINAL_SESSION_STATES:
        assert not public_call_state(state).is_final


def test_distinct_outcomes_map_as_documented() -> None:
    assert public_call_state(S.NOTFOUND) is CallState.NOT_FOUND
    assert public_call_state(S.BUSY) is CallState.BUSY
    assert public_call_state(S.REJECTED) is CallState.REJECTED
    assert public_call_state(S.CALLEEONHOLD) is CallState.HOLD
    assert public_call_state(S.CALLERHUNGUP) is CallState.COMPLETED


def test_answered_is_reported_once() -> None:
    sm = SessionStateMachine()
    assert sm.to(S.RINGING) is False
    assert sm.to(S.INCALL) is True
    sm.to(S.CALLEEONHOLD)
    assert sm.to(S.INCALL) is False


def test_illegal_transition_is_refused_and_changes_nothing() -> None:
    sm = SessionStateMachine()
    sm.to(S.RINGING)
    with pytest.raises(IllegalTransition):
        sm.to(S.CALLEEONHOLD)
    assert sm.state is S.RINGING


@pytest.mark.parametrize(
    ("caller", "callee", "state"),
    [
        (False, False, S.INCALL),
        (True, False, S.CALLEEONHOLD),
        (False, True, S.CALLERONHOLD),
        (True, True, S.ONHOLD),
    ],
)
def test_hold_flags(caller: bool, callee: bool, state: SessionState) -> None:
    assert hold_state(caller, callee) is state


def test_parse_accepts_both_spellings() -> None:
    assert SessionState.parse("IN_CALL") is S.INCALL
    assert SessionState.parse("incall") is S.INCALL
    assert SessionState.parse("NOT_FOUND") is S.NOTFOUND
    with pytest.raises(ValueError):
        SessionState.parse("DANCING")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list(SessionState)), max_size=40))
def test_random_walks_never_take_an_illegal_edge(targets: list[SessionState]) -> None:
    sm = SessionStateMachine()
    answers = 0
    for target in targets:
        before = sm.state
        if target in TRANSITIONS[before]:
            answers += sm.to(target)
            assert sm.state is target
        else:
            with pytest.raises(IllegalTransition):
                sm.to(target)
            assert sm.state is before
    assert answers <= 1
    path = [*sm.history, sm.state]
    for a, b in itertools.pairwise(path):
        assert b in TRANSITIONS[a]
    for state in path[:-1]:
        assert state not in FINAL_SESSION_STATES
