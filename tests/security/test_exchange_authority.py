"""Authority follows the directory live: a reload that takes a privilege, a password or an
extension away closes the connections that relied on it, and tokens never grant more than
their extension has."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from intercom.exchange.auth import TokenStore
from intercom.exchange.server import CLOSE_PRIVILEGES, CLOSE_REMOVED, Exchange
from intercom.protocol.enums import Privilege
from intercom.protocol.errors import ErrorCode
from tests.security.helpers import answer, closed, frame, login_raw, login_token, registered

pytestmark = pytest.mark.integration


def rewrite(exchange: Exchange, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the exchange's file and reload it, as ``systemctl reload`` does."""
    config = tomllib.loads(exchange.config_path.read_text())
    change(config)
    exchange.config_path.write_text(tomli_w.dumps(config))
    assert exchange.reload()


def extension(config: dict[str, Any], number: str) -> dict[str, Any]:
    return next(e for e in config["extensions"] if e["number"] == number)


async def test_losing_a_privilege_closes_live_connections_and_narrows_tokens(
    exchange: Exchange,
) -> None:
    token = exchange.tokens.create("900", {Privilege.MODIFY, Privilege.MONITOR})
    by_password, _ = await login_raw(exchange, "900")
    by_token, reply = await login_token(exchange, token)
    assert sorted(reply["data"]["privileges"]) == ["modify", "monitor"]
    bystander, _ = await login_raw(exchange, "201")

    def drop_modify(config: dict[str, Any]) -> None:
        extension(config, "900")["privileges"].remove("modify")

    rewrite(exchange, drop_modify)
    assert await closed(by_password) == CLOSE_PRIVILEGES
    assert await closed(by_token) == CLOSE_PRIVILEGES
    assert registered(exchange, "900") == 0
    assert registered(exchange, "201") == 1  # nobody else was touched
    # The old token still logs in, with what its extension has now, and cannot modify.
    again, reply = await login_token(exchange, token)
    assert reply["data"]["privileges"] == ["monitor"]
    refused = await answer(again, frame("session.hold", {"session_id": "x"}, 2))
    assert refused["data"]["code"] == ErrorCode.FORBIDDEN
    for ws in (again, bystander):
        await ws.close()


async def test_a_new_password_or_a_removed_extension_disconnects(exchange: Exchange) -> None:
    resident, _ = await login_raw(exchange, "201")
    other, _ = await login_raw(exchange, "202")

    def new_password(config: dict[str, Any]) -> None:
        extension(config, "201")["password"] = "a-new-secret"

    rewrite(exchange, new_password)
    assert await closed(resident) == CLOSE_REMOVED
    stale, reply = await login_raw(exchange, "201")
    assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
    fresh, reply = await login_raw(exchange, "201", password="a-new-secret")
    assert reply["type"] == "result"

    def remove_202(config: dict[str, Any]) -> None:
        config["extensions"].remove(extension(config, "202"))
        for group in config["ring_groups"]:
            group["members"] = [m for m in group["members"] if m != "202"]
        for user in config["users"]:
            user["extensions"] = [e for e in user["extensions"] if e != "202"]

    rewrite(exchange, remove_202)
    assert await closed(other) == CLOSE_REMOVED
    assert registered(exchange, "201") == 1
    for ws in (stale, fresh):
        await ws.close()


async def test_privileges_are_checked_at_every_request_after_a_reload(
    exchange: Exchange,
) -> None:
    """Added privileges need a new login; nothing widens a live connection silently."""
    resident, reply = await login_raw(exchange, "203")
    assert reply["data"]["privileges"] == ["call"]

    def grant_door(config: dict[str, Any]) -> None:
        extension(config, "203")["privileges"].append("door")

    rewrite(exchange, grant_door)
    refused = await answer(resident, frame("call.command", {"call_id": "x", "command": "unlock"}))
    assert refused["data"]["code"] == ErrorCode.FORBIDDEN
    await resident.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intercom.cli", *args], capture_output=True, text=True, timeout=60
    )


async def test_tokens_are_listed_revoked_and_never_wider_than_their_extension(
    exchange: Exchange,
) -> None:
    path = str(exchange.config_path)
    wider = cli("token", "create", "--config", path, "--extension", "201", "--privilege", "modify")
    assert wider.returncode == 2 and "modify" in wider.stderr and not wider.stdout
    made = cli("token", "create", "--config", path, "--extension", "201", "--privilege", "door")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    listed = cli("token", "list", "--config", path)
    assert listed.returncode == 0
    (row,) = [line for line in listed.stdout.splitlines() if " 201 " in line]
    token_id = row.split()[0]
    assert token not in listed.stdout and "door" in row

    ws, reply = await login_token(exchange, token)
    assert reply["type"] == "result"
    revoked = cli("token", "revoke", "--config", path, token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in revoked.stdout
    # The running exchange reloads on SIGHUP (the CLI sends it where one serves this data
    # directory); this one runs inside the test, so reload it directly.
    exchange.reload()
    assert await closed(ws) == CLOSE_REMOVED
    again, reply = await login_token(exchange, token)
    assert reply["data"]["code"] == ErrorCode.AUTHENTICATION_FAILED
    await again.close()
    unknown = cli("token", "revoke", "--config", path, "abcdef")
    assert unknown.returncode == 2 and "no token" in unknown.stderr


async def test_expired_tokens_close_at_the_next_reload(exchange: Exchange) -> None:
    token = exchange.tokens.create("201", {Privilege.CALL}, ttl_seconds=3600)
    ws, reply = await login_token(exchange, token)
    assert reply["type"] == "result"
    assert isinstance(exchange.tokens, TokenStore)
    exchange.tokens._db.execute("UPDATE tokens SET expires_at = 1")
    exchange.reload()
    assert await closed(ws) == CLOSE_REMOVED


def test_reload_signal_goes_only_to_an_intercom_process(tmp_path: Path) -> None:
    from intercom.exchange.server import PID_FILE, reload_running_exchange

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / PID_FILE).write_text(str(sleeper.pid))
        assert "no running exchange" in reload_running_exchange(tmp_path)
        assert sleeper.poll() is None  # not signalled
    finally:
        sleeper.kill()
        sleeper.wait()
