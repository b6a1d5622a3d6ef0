"""Opening the door: digits toward a code and unlock commands from the station's call, judged
by the unlock policy (``unlock.py``: who may, which code, wrong codes and lockouts); the relay's
pulse, tones at the door, the screen's answer, the log, and hanging up once the door is open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from intercom.client import Call, CallState, DtmfEvent
from intercom.media.audio import FRAME_SAMPLES, SAMPLE_RATE, AudioSink, mono_frame

from .config import StationConfig
from .events import Log
from .hardware import Hardware
from .screen import ScreenModel, ScreenState
from .unlock import Outcome, UnlockPolicy, dtmf_refusal, hash_code

log = logging.getLogger(__name__)

#: (frequency Hz, seconds) tones the door plays
OPENED_TONES = ((880.0, 0.12), (1320.0, 0.2))
WRONG_TONES = ((300.0, 0.3),)
LOCKED_OUT_TONES = ((300.0, 0.3), (200.0, 0.5))


def door_codes(config: StationConfig) -> dict[str, list[str]]:
    """Each relay's hashed codes (plain ones, still accepted, hashed here in memory)."""
    return {r.name: [hash_code(c) for c in r.codes] + list(r.code_hashes) for r in config.relays}


class DoorActions:
    """The door side of the station's current call (``follow``); wrong codes and lockouts are
    kept in ``database``, as a restart must not hand out fresh tries."""

    def __init__(
        self,
        config: StationConfig,
        database: Path,
        hardware: Hardware,
        speaker: AudioSink,
        screen: ScreenModel,
        log_event: Log,
        commit: Callable[[], object],
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
    ) -> None:
        self.policy = UnlockPolicy(
            door_codes(config),
            max_wrong=config.unlock.max_wrong,
            lockout_seconds=config.unlock.lockout,
            max_lockout_seconds=config.unlock.max_lockout,
            database=database,
        )
        self.hangup_after_unlock = config.calls.hangup_after_unlock
        self.hardware = hardware
        self.speaker = speaker
        self._screen = screen
        self._log = log_event
        self._commit = commit
        self._spawn = spawn
        self.call: Call | None = None
        self.bell: int | None = None  # the bell of the call, for the log
        #: (who, how, reason) of refused digits already logged in this entry: one
        #: ``unlock_refused`` per attempted entry, not one per key
        self._refusing: set[tuple[str, str, str]] = set()
        self._hangup_timer: asyncio.TimerHandle | None = None

    def reconfigure(self, config: StationConfig) -> None:
        """Codes and unlock settings from a reloaded configuration, at once: the codes of the
        relays running now (one the file adds needs a restart; until then its code must not
        reach a relay that does not exist)."""
        running = self.hardware.relays
        self.policy.codes = {
            relay: codes for relay, codes in door_codes(config).items() if relay in running
        }
        self.policy.max_wrong = config.unlock.max_wrong
        self.policy.lockout_seconds = config.unlock.lockout
        self.policy.max_lockout_seconds = config.unlock.max_lockout
        self.hangup_after_unlock = config.calls.hangup_after_unlock

    def close(self) -> None:
        if self._hangup_timer is not None:  # nothing fires after the station has stopped
            self._hangup_timer.cancel()
            self._hangup_timer = None
        self.policy.close()

    # ----------------------------------------------------------------- calls

    def follow(self, call: Call, bell: int) -> None:
        """A new call from the door: a fresh code entry (not a fresh wrong-code count)."""
        self.call, self.bell = call, bell
        self.policy.reset_entry()
        self._refusing.clear()
        call.onDtmfReceived(lambda event: self._dtmf(call, event))
        call.on_command_received(lambda data: self._command(call, data))

    def call_ended(self, call: Call) -> None:
        if call is not self.call:
            return
        self.call = None
        if self._hangup_timer is not None:
            self._hangup_timer.cancel()
            self._hangup_timer = None

    def answered(self, call: Call) -> bool:
        return call is self.call and call.state in (CallState.IN_CALL, CallState.HOLD)

    # ---------------------------------------------------------------- digits

    def _dtmf(self, call: Call, event: DtmfEvent) -> None:
        """A key toward the door code. It counts only from the other party of this answered
        call or from a supervisor holding ``door`` (``dtmf_refusal``); the log names who really
        sent it (a supervisor's extension for session digits) and how."""
        how = f"dtmf-{event.source}"
        who = event.sender or (call.other_party if event.from_other_party else "unknown")
        refusal = dtmf_refusal(
            event.source, event.from_other_party, event.privileges, self.answered(call)
        )
        decision = self.policy.digit(event.key, refusal is None)
        if decision.outcome is Outcome.UNLOCK and decision.relay is not None:
            self.unlock(decision.relay, who, how)
        elif decision.outcome is Outcome.WRONG:
            # The policy has committed the attempt: only now does the door answer.
            self.beep(WRONG_TONES)
            self._log(
                "wrong_code",
                who=who,
                how=how,
                attempts_left=decision.attempts_left,
                bell=self.bell,
            )
            self._screen.show(ScreenState.NOTICE, "Wrong code", "", 5)
        elif decision.outcome is Outcome.LOCKED_OUT:
            self.beep(LOCKED_OUT_TONES)
            self._log(
                "lockout",
                who=who,
                how=how,
                bell=self.bell,
                until=decision.locked_until,
                seconds=round(decision.lockout_seconds),
                started=decision.new_lockout,
            )
            minutes = max(1, round(decision.lockout_seconds / 60))
            self._screen.show(
                ScreenState.NOTICE, "Too many wrong codes", f"Try again in {minutes} min", 10
            )
        elif decision.outcome is Outcome.REFUSED and refusal is not None:
            key = (who, how, refusal)
            if key not in self._refusing:
                self._log("unlock_refused", who=who, how=how, reason=refusal, bell=self.bell)
            if event.key == "#":
                self._refusing.discard(key)  # the next entry is logged again
            else:
                self._refusing.add(key)
        self._commit()

    def _command(self, call: Call, data: dict[str, Any]) -> None:
        who = str(data.get("from", ""))
        if data.get("command") != "unlock":
            return
        if "door" not in data.get("privileges", []) or not self.answered(call):
            self._log(
                "unlock_refused",
                who=who,
                how="command",
                reason="no door privilege or no answered call",
            )
            return
        relays = self.hardware.relays
        relay = data.get("target") or next(iter(relays), "")
        if relay not in relays:
            self._log("unlock_refused", who=who, how="command", reason="unknown relay")
            return
        self.policy.reset()  # an authorised unlock: wrong codes and lockouts start over
        self.unlock(relay, who, "command")

    # ------------------------------------------------------------------ door

    def unlock(self, relay: str, who: str, how: str) -> None:
        """Pulse ``relay``, say so at the door and in the log, and hang up a little later."""
        lock = self.hardware.relays[relay]
        lock.open()
        self.beep(OPENED_TONES)
        self._log("unlock", relay=relay, who=who, how=how, bell=self.bell)
        self._screen.show(ScreenState.DOOR_OPEN, "Door open", "Please push", lock.pulse_seconds)
        self._commit()
        call = self.call
        if call is not None and self._hangup_timer is None:
            self._hangup_timer = asyncio.get_running_loop().call_later(
                self.hangup_after_unlock, lambda: self._spawn(self._end(call))
            )

    async def _end(self, call: Call) -> None:
        self._hangup_timer = None
        if call.is_active:
            with contextlib.suppress(Exception):
                await call.hangUp()

    def beep(self, tones: tuple[tuple[float, float], ...]) -> None:
        """Feedback at the door: (frequency Hz, seconds) tones on the door speaker."""
        import numpy as np

        samples = []
        for frequency, seconds in tones:
            t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
            samples.append(0.4 * 32767 * np.sin(2 * np.pi * frequency * t))
        wave = np.concatenate(samples).astype(np.int16)
        for i in range(0, len(wave) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            self.speaker.push(mono_frame(wave[i : i + FRAME_SAMPLES], i))
