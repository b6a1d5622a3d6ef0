"""Who may connect, and with which privileges.

Tokens are random and long, so a plain SHA-256 of them is what we store: nobody can brute-force
a 256-bit secret from its hash, and a lookup stays one indexed query. Extension passwords are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(stored: str, given: str) -> bool:
    if stored.startswith("scrypt$"):
        _, salt_hex, _digest = stored.split("$", 2)
        candidate = hash_password(given, salt=bytes.fromhex(salt_hex))
        return hmac.compare_digest(candidate.encode(), stored.encode())
    return hmac.compare_digest(stored.encode(), given.encode())


class TokenStore:
    def __init__(self, path: Path | str) -> None:
        self._db: sqlite3.Connection = open_database(path, MIGRATIONS)

    def close(self) -> None:
        self._db.close()

    def create(
        self, extension: str, privileges: set[Privilege], ttl_seconds: float | None = 86400.0
    ) -> str:
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
        row = self._db.execute(
            "SELECT extension, privileges, expires_at FROM tokens WHERE token_hash = ?",
            (hash_token(token),),
        ).fetchone()
        if row is None:
            return None
        if row["expires_at"] is not None and row["expires_at"] < (now or time.time()):
            return None
        return Grant(
            row["extension"], frozenset(Privilege(p) for p in json.loads(row["privileges"]))
        )

    def revoke_extension(self, extension: str) -> int:
        cursor = self._db.execute("DELETE FROM tokens WHERE extension = ?", (extension,))
        return cursor.rowcount


class Authenticator:
    def __init__(self, directory: Directory, tokens: TokenStore) -> None:
        self.directory = directory
        self.tokens = tokens

    def authenticate(
        self, token: str | None, extension: str | None, password: str | None
    ) -> Grant | None:
        """A token alone, or the seed's Webphone login: the extension in ``token`` (or
        ``extension``) with its password."""
        if token and token.startswith(TOKEN_PREFIX) and password is None:
            grant = self.tokens.lookup(token)
            if grant is None or grant.extension not in self.directory.extensions:
                return None
            return grant
        number = extension or token
        if not number or password is None:
            return None
        ext = self.directory.extensions.get(number)
        if ext is None or ext.password is None:
            # Compare anyway so that an unknown extension costs the same time as a wrong password.
            password_matches("x" * 16, password)
            return None
        if not password_matches(ext.password, password):
            return None
        return Grant(ext.number, frozenset(ext.privileges))
