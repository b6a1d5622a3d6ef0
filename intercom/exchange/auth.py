"""Who may connect, and with which privileges.

Tokens are random and long, so a plain SHA-256 of them is what we store: nobody can brute-force
a 256-bit secret from its hash, and a lookup stays one indexed query. A token never grants more
than its extension has now. Extension passwords are stored as scrypt hashes (plain text still
works, and ``intercom config validate`` warns about it) and every password check costs the same,
whether the extension exists or not: one scrypt where the directory holds hashes.

The seam is ``TokenRegistry``: issuing, finding and revoking tokens. ``TokenStore`` is today's
implementation, in SQLite; a cluster shares tokens between nodes behind the same methods.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from intercom.protocol.enums import Privilege
from intercom.sqlite import open_database

from .directory import Directory

MIGRATIONS = [
    """
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        extension TEXT NOT NULL,
        privileges TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL
    )
    """,
]

TOKEN_PREFIX = "oz_"


@dataclass(frozen=True)
class Grant:
    extension: str
    privileges: frozenset[Privilege]
    #: what the connection logged in with, so that a reload can check it again
    token_hash: str | None = None
    password: str | None = None  # the stored form (hash or plain) the login matched


@dataclass(frozen=True)
class TokenInfo:
    id: str  # the first characters of the token's hash: enough to name it, useless to use it
    extension: str
    privileges: tuple[str, ...]
    created_at: float
    expires_at: float | None


TOKEN_ID_CHARS = 12


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def is_hashed(stored: str) -> bool:
    return stored.startswith("scrypt$")


def password_matches(stored: str, given: str) -> bool:
    if is_hashed(stored):
        try:
            _, salt_hex, _digest = stored.split("$", 2)
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            return False
        candidate = hash_password(given, salt=salt)
        return hmac.compare_digest(candidate.encode(), stored.encode())
    return hmac.compare_digest(stored.encode(), given.encode())


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash nobody's password matches, to spend the same time when there is nothing to
    compare against."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


class TokenRegistry(Protocol):
    def create(
        self,
        extension: str,
        privileges: set[Privilege],
        ttl_seconds: float | None = 86400.0,
        *,
        allowed: set[Privilege] | frozenset[Privilege] | None = None,
    ) -> str: ...

    def lookup(self, token: str, now: float | None = None) -> Grant | None: ...

    def lookup_hash(self, token_hash: str, now: float | None = None) -> Grant | None: ...

    def list(self) -> list[TokenInfo]: ...

    def revoke(self, token_id: str) -> TokenInfo: ...

    def revoke_extension(self, extension: str) -> int: ...

    def extensions(self) -> set[str]:
        """The extensions that have tokens."""
        ...

    def close(self) -> None: ...


class TokenStore:
    """``TokenRegistry`` in an SQLite file, holding hashes of the tokens only."""

    def __init__(self, path: Path | str) -> None:
        self._db: sqlite3.Connection = open_database(path, MIGRATIONS)

    def close(self) -> None:
        self._db.close()

    def create(
        self,
        extension: str,
        privileges: set[Privilege],
        ttl_seconds: float | None = 86400.0,
        *,
        allowed: set[Privilege] | frozenset[Privilege] | None = None,
    ) -> str:
        """A new token for ``extension``; ``allowed``: the extension's own privileges, which a
        token may not exceed."""
        if allowed is not None and not privileges <= allowed:
            extra = ", ".join(sorted(p.value for p in privileges - allowed))
            raise ValueError(f"extension {extension} does not have: {extra}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        self._db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
            (
                hash_token(token),
                extension,
                json.dumps(sorted(p.value for p in privileges)),
                now,
                None if ttl_seconds is None else now + ttl_seconds,
            ),
        )
        return token

    def lookup(self, token: str, now: float | None = None) -> Grant | None:
        return self.lookup_hash(hash_token(token), now)

    def lookup_hash(self, token_hash: str, now: float | None = None) -> Grant | None:
        """The grant of a token that is still valid (not revoked, not expired)."""
        row = self._db.execute(
            "SELECT extension, privileges, expires_at FROM tokens WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        if row["expires_at"] is not None and row["expires_at"] < (now or time.time()):
            return None
        return Grant(
            row["extension"],
            frozenset(Privilege(p) for p in json.loads(row["privileges"])),
            token_hash=token_hash,
        )

    def list(self) -> list[TokenInfo]:
        rows = self._db.execute(
            "SELECT token_hash, extension, privileges, created_at, expires_at FROM tokens "
            "ORDER BY created_at"
        ).fetchall()
        return [
            TokenInfo(
                row["token_hash"][:TOKEN_ID_CHARS],
                row["extension"],
                tuple(json.loads(row["privileges"])),
                row["created_at"],
                row["expires_at"],
            )
            for row in rows
        ]

    def revoke(self, token_id: str) -> TokenInfo:
        """Delete the one token whose id (as ``list`` shows it) starts with ``token_id``."""
        if len(token_id) < 6 or not all(c in "0123456789abcdef" for c in token_id):
            raise ValueError("name a token by 6 or more characters of its id (intercom token list)")
        matches = [t for t in self.list() if t.id.startswith(token_id)]
        if len(matches) != 1:
            raise ValueError(
                f"no token {token_id!r}" if not matches else f"{token_id!r} names several tokens"
            )
        self._db.execute(
            "DELETE FROM tokens WHERE substr(token_hash, 1, ?) = ?",
            (TOKEN_ID_CHARS, matches[0].id),
        )
        return matches[0]

    def revoke_extension(self, extension: str) -> int:
        cursor = self._db.execute("DELETE FROM tokens WHERE extension = ?", (extension,))
        return cursor.rowcount

    def extensions(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT DISTINCT extension FROM tokens")}


class Authenticator:
    def __init__(self, directory: Directory, tokens: TokenRegistry) -> None:
        self.directory = directory
        self.tokens = tokens

    def check_token(self, token: str) -> Grant | None:
        """A token alone: valid, of an extension that still exists, and never granting more
        than that extension has now."""
        grant = self.tokens.lookup(token)
        return None if grant is None else self.narrowed(grant)

    def narrowed(self, grant: Grant) -> Grant | None:
        ext = self.directory.extensions.get(grant.extension)
        if ext is None:
            return None
        return replace(grant, privileges=grant.privileges & frozenset(ext.privileges))

    def check_password(self, number: str | None, password: str) -> Grant | None:
        """The seed's Webphone login: an extension and its password. Blocking (one scrypt
        where the directory holds hashes): run it off the event loop."""
        ext = self.directory.extensions.get(number) if number else None
        stored = ext.password if ext is not None else None
        hashed_directory = self.directory.hashes_passwords
        if stored is None or (hashed_directory and not is_hashed(stored)):
            # Spend what a hashed check spends, so that the time taken does not tell which
            # extensions exist (or which still have a plain-text password).
            password_matches(_dummy_hash() if hashed_directory else "x" * 16, password)
            if stored is None:
                return None
        assert ext is not None and stored is not None
        if not password_matches(stored, password):
            return None
        return Grant(ext.number, frozenset(ext.privileges), password=stored)

    def authenticate(
        self, token: str | None, extension: str | None, password: str | None
    ) -> Grant | None:
        """A token alone, or the seed's Webphone login: the extension in ``token`` (or
        ``extension``) with its password. Blocking; the server runs password checks off the
        event loop."""
        if token and token.startswith(TOKEN_PREFIX) and password is None:
            return self.check_token(token)
        number = extension or token
        if not number or password is None:
            return None
        return self.check_password(number, password)

    def still_valid(self, grant: Grant) -> Grant | None:
        """After a reload: what ``grant`` allows now, or None if its login no longer holds
        (extension gone, password changed, token revoked or expired)."""
        ext = self.directory.extensions.get(grant.extension)
        if ext is None:
            return None
        if grant.token_hash is not None:
            current = self.tokens.lookup_hash(grant.token_hash)
            return None if current is None else self.narrowed(current)
        if grant.password is not None and ext.password != grant.password:
            return None
        return replace(grant, privileges=grant.privileges & frozenset(ext.privileges))
