"""Who may open the door, and when.

A code is 1 to 8 digits ended by ``#``, stored as a salted hash and compared in constant time.
Digits count only from the remote party of an answered call with this station; wrong codes are
counted and, past a limit, every code is refused for a lockout period. A client holding the
``door`` privilege in such a call may unlock without a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum

CODE_DIGITS = "0123456789"


def hash_code(code: str, salt: bytes | None = None) -> str:
    if not (1 <= len(code) <= 8 and all(c in CODE_DIGITS for c in code)):
        raise ValueError("a door code is 1 to 8 digits")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, 100_000)
    return f"pbkdf2${salt.hex()}${digest.hex()}"


def code_matches(stored: str, code: str) -> bool:
    try:
        _, salt_hex, _ = stored.split("$", 2)
        candidate = hash_code(code, bytes.fromhex(salt_hex))
    except ValueError:
        candidate = "x"
    return hmac.compare_digest(candidate.encode(), stored.encode())


class Outcome(StrEnum):
    PENDING = "pending"  # digits collected, no '#' yet
    UNLOCK = "unlock"
    WRONG = "wrong"
    LOCKED_OUT = "locked_out"
    REFUSED = "refused"  # not from the party of an answered call


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    relay: str | None = None
    attempts_left: int = 0
    locked_until: float | None = None


@dataclass
class UnlockPolicy:
    codes: dict[str, list[str]]  # relay name -> hashed codes
    max_wrong: int = 5
    lockout_seconds: float = 300.0
    clock: object = field(default=time.monotonic)
    _digits: str = ""
    _wrong: int = 0
    _locked_until: float | None = None

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator, no-any-return]

    def reset_entry(self) -> None:
        """A new call: forget half-entered digits (not the wrong-code count)."""
        self._digits = ""

    def locked(self) -> bool:
        if self._locked_until is not None and self._now() >= self._locked_until:
            self._locked_until, self._wrong = None, 0
        return self._locked_until is not None

    def digit(self, key: str, from_answered_party: bool) -> Decision:
        if not from_answered_party:
            return Decision(Outcome.REFUSED)
        if key == "*":
            self._digits = ""
            return Decision(Outcome.PENDING)
        if key != "#":
            if key in CODE_DIGITS and len(self._digits) < 8:
                self._digits += key
            return Decision(Outcome.PENDING)
        code, self._digits = self._digits, ""
        if self.locked():
            return Decision(Outcome.LOCKED_OUT, locked_until=self._locked_until)
        for relay, hashes in self.codes.items():
            # Check every hash, so the time taken does not tell which relay or code was close.
            matched = [code_matches(h, code) for h in hashes]
            if any(matched):
                self._wrong = 0
                return Decision(Outcome.UNLOCK, relay)
        self._wrong += 1
        if self._wrong >= self.max_wrong:
            self._locked_until = self._now() + self.lockout_seconds
            return Decision(Outcome.LOCKED_OUT, locked_until=self._locked_until)
        return Decision(Outcome.WRONG, attempts_left=self.max_wrong - self._wrong)
