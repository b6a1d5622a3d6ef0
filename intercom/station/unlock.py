"""Who may open the door, and when.

A code is 4 to 8 digits ended by ``#``, stored as a salted hash and compared in constant time;
only the exact code opens (an entry longer than the code, or with a key no code has, is a wrong
code). Digits count only from the other party of an answered call with this station, or from a
supervisor holding the ``door`` privilege (``dtmf_refusal``). Wrong codes are counted in SQLite,
committed before the door answers, so neither a restart nor a power cut forgets them; past a
limit every code is refused for a lockout period, and each further lockout lasts twice as long,
up to a cap, until an authorised unlock (the right code, or a ``door`` holder's unlock command)
starts over. A client holding the ``door`` privilege in such a call may unlock without a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from intercom.sqlite import open_database

CODE_DIGITS = "0123456789"
#: The shortest code configuration accepts: 3 digits fall to 1,000 tries.
MIN_CODE_DIGITS = 4
#: The longest code, and so the most digits an entry buffers: a flood of digits costs no memory.
MAX_CODE_DIGITS = 8
#: Where DTMF may come from the other party of the call itself (not a supervisor's session).
PARTY_SOURCES = frozenset({"signalling", "rtp", "inband"})


def check_code(code: str) -> str:
    """A code as a person sets it (configuration, ``intercom code set``): 4 to 8 digits."""
    if not (
        MIN_CODE_DIGITS <= len(code) <= MAX_CODE_DIGITS and all(c in CODE_DIGITS for c in code)
    ):
        raise ValueError(f"a door code is {MIN_CODE_DIGITS} to {MAX_CODE_DIGITS} digits")
    return code


def dtmf_refusal(
    source: str, from_other_party: bool, privileges: Iterable[str], answered: bool
) -> str | None:
    """Why a digit must not count toward a code, or None when it may.

    Digits count from the other party of the station's own answered call (signalling DTMF, or
    RFC 4733 and in-band tones on that party's own peer connection) and from a supervisor's
    ``Session.sendDtmf`` only if the supervisor holds ``door``: modifying sessions is not
    opening doors. Everything else (a listener's peer, a party that rang but did not answer or
    was transferred away, an unknown source) is refused."""
    if not answered:
        return "not in an answered call"
    if source == "session":
        return None if "door" in privileges else "supervisor without the door privilege"
    if source not in PARTY_SOURCES:
        return f"unknown DTMF source {source!r}"
    if not from_other_party:
        return "not from the other party of the call"
    return None


def hash_code(code: str, salt: bytes | None = None) -> str:
    """Any 1 to 8 digits (the minimum length is the configuration's rule, ``check_code``: a
    hash already stored must keep matching)."""
    if not (1 <= len(code) <= MAX_CODE_DIGITS and all(c in CODE_DIGITS for c in code)):
        raise ValueError(f"a door code is 1 to {MAX_CODE_DIGITS} digits")
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
    REFUSED = "refused"  # not from the party of an answered call, nor from a door holder


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    relay: str | None = None
    attempts_left: int = 0
    #: wall-clock end of the lockout (LOCKED_OUT)
    locked_until: float | None = None
    #: the length of a lockout this entry started, else the seconds left of the current one
    lockout_seconds: float = 0.0
    #: this entry's wrong code started the lockout (rather than coming during one)
    new_lockout: bool = False


MIGRATIONS = [
    """
    CREATE TABLE lockout (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        wrong INTEGER NOT NULL,
        lockouts INTEGER NOT NULL,
        locked_until REAL,
        locked_for REAL
    );
    INSERT INTO lockout (id, wrong, lockouts) VALUES (1, 0, 0)
    """,
]
# One row: wrong codes since the last lockout or authorised unlock; lockouts since the last
# authorised unlock (the next one lasts lockout * 2 ** lockouts, capped); the current lockout's
# wall-clock end and its length.


class UnlockPolicy:
    """The code entry of the current call, and the wrong-code count and lockout kept in
    ``database`` (``:memory:`` for a policy that need not survive, as in tests).

    Deadlines are wall-clock times (``time.time``), the only clock that means the same after a
    restart. A clock set back (a Pi has no real-time clock) cannot stretch a lockout past its
    own length."""

    def __init__(
        self,
        codes: dict[str, list[str]],  # relay name -> hashed codes
        max_wrong: int = 5,
        lockout_seconds: float = 300.0,
        max_lockout_seconds: float = 86400.0,
        *,
        database: Path | str = ":memory:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.codes = codes
        self.max_wrong = max_wrong
        self.lockout_seconds = lockout_seconds
        self.max_lockout_seconds = max_lockout_seconds
        self.clock = clock
        self._db: sqlite3.Connection = open_database(database, MIGRATIONS)
        self._digits = ""
        self._spoilt = False  # the entry has more digits than any code, or a key no code has

    def close(self) -> None:
        self._db.close()

    def reset_entry(self) -> None:
        """A new call: forget half-entered digits (not the wrong-code count)."""
        self._digits, self._spoilt = "", False

    def reset(self) -> None:
        """An authorised unlock: the count, the lockout and its escalation start over."""
        self._db.execute(
            "UPDATE lockout SET wrong = 0, lockouts = 0, locked_until = NULL, locked_for = NULL"
        )

    def lockout_until(self) -> float | None:
        """The wall-clock end of the current lockout, or None when codes are accepted."""
        until, length = self._db.execute("SELECT locked_until, locked_for FROM lockout").fetchone()
        now = self.clock()
        if until is None or now >= until:
            return None
        if until - now > length:
            # The clock went back: the lockout keeps its length, counted from now.
            until = now + length
            self._db.execute("UPDATE lockout SET locked_until = ?", (until,))
        return float(until)

    def digit(self, key: str, counts: bool) -> Decision:
        """One key of an entry; ``counts`` is False for digits that may not enter a code
        (``dtmf_refusal``): those are refused and leave the entry as it was."""
        if not counts:
            return Decision(Outcome.REFUSED)
        if key == "*":
            self.reset_entry()
            return Decision(Outcome.PENDING)
        if key != "#":
            if key in CODE_DIGITS and len(self._digits) < MAX_CODE_DIGITS:
                self._digits += key
            else:
                self._spoilt = True
            return Decision(Outcome.PENDING)
        code, spoilt = self._digits, self._spoilt
        self.reset_entry()
        until = self.lockout_until()
        if until is not None:
            return Decision(
                Outcome.LOCKED_OUT, locked_until=until, lockout_seconds=until - self.clock()
            )
        relay = None if spoilt or not code else self._match(code)
        if relay is not None:
            self.reset()
            return Decision(Outcome.UNLOCK, relay)
        return self._wrong_code()

    def _match(self, code: str) -> str | None:
        # Every hash is checked, so the time taken tells nothing of which relay or code matched.
        matched = [
            relay for relay, hashes in self.codes.items() for h in hashes if code_matches(h, code)
        ]
        return matched[0] if matched else None

    def _wrong_code(self) -> Decision:
        """Count a wrong code, and start a lockout at the limit: committed (durably) before
        the caller beeps or answers, so cutting the power cannot take an attempt back."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            wrong, lockouts = db.execute("SELECT wrong, lockouts FROM lockout").fetchone()
            wrong += 1
            if wrong < self.max_wrong:
                db.execute("UPDATE lockout SET wrong = ?", (wrong,))
                db.execute("COMMIT")
                return Decision(Outcome.WRONG, attempts_left=self.max_wrong - wrong)
            length = min(self.lockout_seconds * 2 ** min(lockouts, 32), self.max_lockout_seconds)
            until = self.clock() + length
            db.execute(
                "UPDATE lockout SET wrong = 0, lockouts = ?, locked_until = ?, locked_for = ?",
                (lockouts + 1, until, length),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return Decision(
            Outcome.LOCKED_OUT, locked_until=until, lockout_seconds=length, new_lockout=True
        )
