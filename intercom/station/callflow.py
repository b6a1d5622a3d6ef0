"""The call from the door: a bell press rings the bell's target with video, the screen follows
the call (ringing, answered, on hold, messages, the warning before the end), each outcome has
its notice and its log entry, and no answer rings the bell's fallback target once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from intercom.client import Call, CallState, CallType, Message, OzCamera, OzWebClient

from .config import StationConfig
from .events import Log
from .hardware import CAMERA_NAME
from .screen import ScreenModel, ScreenState

log = logging.getLogger(__name__)

#: What the door says when a call from it ends without a conversation, by end cause.
NOTICES = {
    "busy": "Busy - please try later",
    "no_answer": "No answer",
    "unknown_number": "Not available",
    "unavailable": "Nobody is home",
    "rejected": "No answer",
}
#: Seconds the warning before the end of a call stays up, at most.
WARNING_SECONDS = 10.0


class CallView(NamedTuple):
    """The station's call as it announces it: its state, with whom, from which bell, and the
    other party's leg (the one peer connection whose media digits are that party's)."""

    state: str | None
    other_party: str
    bell: int | None
    other_leg: str | None


class CallFlow:
    """One call from the door at a time. ``when_pressed(bell, event_id)`` runs at each press
    (logged), ``when_call_started(call, bell)`` as a call is placed, ``when_call_ended(call)``
    when it is over or gives way to the fallback."""

    def __init__(
        self,
        settings: Callable[[], StationConfig],
        client: OzWebClient,
        online: asyncio.Event,
        screen: ScreenModel,
        log_event: Log,
        commit: Callable[[], object],
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
    ) -> None:
        self._settings = settings
        self.client = client
        self._online = online
        self._screen = screen
        self._log = log_event
        self._commit = commit
        self._spawn = spawn
        self.call: Call | None = None
        self.bell_of_call: int | None = None
        self.fallback_tried = False
        #: the longest call from the door, in seconds (``calls.max_call``; a reload sets it)
        self.max_call = settings().calls.max_call
        self.idle = asyncio.Event()  # no call of the station's in progress
        self.idle.set()
        #: where calls show the resident's video (the panel's display), if anywhere
        self.display: str | None = None
        self.when_pressed: Callable[[int, int], None] | None = None
        self.when_call_started: Callable[[Call, int], None] | None = None
        self.when_call_ended: Callable[[Call], None] | None = None

    def view(self) -> CallView | None:
        call = self.call
        if call is None or not call.is_active:
            return None
        state = call.state.value if call.state else None
        return CallView(state, call.other_party, self.bell_of_call, call.other_leg)

    # ----------------------------------------------------------------- bells

    def press(self, bell_id: int = 1) -> None:
        bell = next((b for b in self._settings().bells if b.id == bell_id), None)
        if bell is None:
            raise ValueError(f"no bell {bell_id}")
        event_id = self._log("bell", bell=bell_id, target=bell.target)
        if self.when_pressed is not None:
            self.when_pressed(bell_id, event_id)
        if self.call is not None and self.call.is_active:
            if bell.press_in_call == "hangup":
                self._spawn(self.call.hangUp())
            return
        if not self._online.is_set():
            self._screen.show(ScreenState.NOTICE, "Offline", "Please try again later", 10)
            self._log("offline", bell=bell_id)
            self._commit()
            return
        self.fallback_tried = False
        self._spawn(self._ring(bell_id, bell.target))

    async def _ring(self, bell_id: int, target: str) -> None:
        call = self.client.createCall(target, CallType.VIDEO)
        call.max_duration = self.max_call
        call.ring_timeout = self._settings().calls.ring_timeout
        if self.display is not None:
            call.setRemoteDisplay(self.display)
        camera = OzCamera.getCameraByName(CAMERA_NAME)
        if camera is not None:
            call.attachCamera(camera)
        self.call, self.bell_of_call = call, bell_id
        self.idle.clear()
        if self.when_call_started is not None:
            self.when_call_started(call, bell_id)
        call.onCallStateChanged(lambda state: self._state(call, state))
        call.onMessageReceived(lambda message: self._message(call, message))
        call.on_call_expiring(lambda left: self._expiring(call, left))
        self._screen.show(ScreenState.CALLING, f"Calling {target}...")
        self._commit()
        try:
            await call.start()
        except Exception as exc:
            log.warning("call to %s failed: %s", target, exc)
            self._notice("Not available")
            self._ended(call)
            self._commit()

    # ----------------------------------------------------------------- calls

    def _state(self, call: Call, state: CallState) -> None:
        if call is not self.call:
            return
        if state is CallState.RINGING:
            name = call.other_party_name or call.other_party
            self._screen.show(ScreenState.CALLING, f"Calling {name}...")
        elif state is CallState.IN_CALL:
            if len(call.states_seen) >= 2 and call.states_seen[-2] is CallState.ANSWERED:
                self._log("call_answered", bell=self.bell_of_call, by=call.other_party)
            self._screen.show(ScreenState.IN_CALL, call.other_party_name or call.other_party)
        elif state is CallState.HOLD:
            self._screen.show(ScreenState.ON_HOLD, "Please wait")
        elif state.is_final:
            cause = call.end_cause.value if call.end_cause else state.value
            self._log(
                "call_ended",
                bell=self.bell_of_call,
                state=state.value,
                cause=cause,
                party=call.other_party,
            )
            bell = next((b for b in self._settings().bells if b.id == self.bell_of_call), None)
            if (
                cause == "no_answer"
                and bell is not None
                and bell.fallback_target
                and not self.fallback_tried
            ):
                # Nobody at the first target: try the fallback (a concierge, a mobile).
                self.fallback_tried = True
                self.call = None
                if self.when_call_ended is not None:
                    self.when_call_ended(call)
                self._spawn(self._ring(bell.id, bell.fallback_target))
                return
            notice = NOTICES.get(cause)
            if notice is not None:
                self._notice(notice)
            self._ended(call)
        self._commit()

    def _notice(self, title: str) -> None:
        """How the call ended, told at the door for ``screen.notice_seconds``."""
        self._screen.show(ScreenState.NOTICE, title, "", self._settings().screen.notice_seconds)

    def _ended(self, call: Call) -> None:
        """The call is over: the screen goes idle, now or when the notice up runs out (never
        back to the call's screen), and the door side lets go of the call."""
        self.call = None
        self._screen.call_over()
        self.idle.set()
        if self.when_call_ended is not None:
            self.when_call_ended(call)

    def _expiring(self, call: Call, seconds_left: float) -> None:
        if call is not self.call:
            return  # a late warning about a call that is over: nothing to warn of
        self._screen.show(
            ScreenState.NOTICE,
            "Call ends soon",
            f"{int(seconds_left)} s left",
            min(seconds_left, WARNING_SECONDS),
            ends_with_call=True,
        )
        self._commit()

    def _message(self, call: Call, message: Message) -> None:
        if call is not self.call:
            return  # the call is over: its screen is no longer the resident's to write on
        self._log("message", who=message.sender, text=str(message)[:200], bell=self.bell_of_call)
        self._screen.show(
            ScreenState.MESSAGE, "Message", str(message), self._settings().screen.message_seconds
        )
        self._commit()
