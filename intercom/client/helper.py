"""Helper: synchronous queries answered from the client's replicated view of the exchange."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Generic, Protocol, TypeVar

from intercom.protocol.enums import CallState, SessionState
from intercom.protocol.session_state import HOLD_STATES

from .directory import Extension, User
from .session import Session

#: what the client's history query returns (``HistoryResult``, a type variable so that this
#: module need not import webclient, where it is defined)
History_co = TypeVar("History_co", covariant=True)


class ClientView(Protocol[History_co]):
    """What the helper reads from the connection (``OzWebClient``): its replicated directory
    and sessions, and its history query. A Protocol, so that this module need not import the
    client, which imports it."""

    @property
    def extensions(self) -> dict[str, Extension]: ...

    @property
    def outside_lines(self) -> dict[str, Extension]: ...

    @property
    def users(self) -> dict[str, User]: ...

    @property
    def sessions(self) -> dict[str, Session]: ...

    def get_call_history(self, filters: dict[str, Any] | None = None) -> Awaitable[History_co]: ...


class Helper(Generic[History_co]):
    """Answers the seed's Helper queries from the client's view of the exchange."""

    def __init__(self, client: ClientView[History_co]) -> None:
        self._c = client

    def get_extension_by_id(self, extension_id: str) -> Extension | None:
        return self._c.extensions.get(extension_id)

    def get_extensions(self) -> dict[str, Extension]:
        return dict(self._c.extensions)

    def get_extensions_by_type(self, extension_type: str) -> dict[str, Extension]:
        wanted = extension_type.lower()
        return {k: e for k, e in self._c.extensions.items() if e.type.lower() == wanted}

    def get_outside_line_by_id(self, line_id: str) -> Extension | None:
        return self._c.outside_lines.get(line_id)

    def get_outside_lines(self) -> dict[str, Extension]:
        return dict(self._c.outside_lines)

    def get_outside_lines_by_type(self, line_type: str) -> dict[str, Extension]:
        wanted = line_type.lower()
        return {k: e for k, e in self._c.outside_lines.items() if e.type.lower() == wanted}

    def get_user_by_id(self, user_id: str) -> User | None:
        return self._c.users.get(user_id)

    def get_user_by_extension(self, extension_id: str) -> User | None:
        for user in self._c.users.values():
            if extension_id in user.extensions:
                return user
        return None

    def get_active_session_by_id(self, session_id: str) -> Session | None:
        return self._c.sessions.get(session_id)

    def get_active_sessions_by_session_state(
        self, session_state: SessionState | CallState | str
    ) -> dict[str, Session]:
        """Accepts rich states (``INCALL``), public ones (``IN_CALL``) and ``HOLD``."""
        text = str(session_state.value if hasattr(session_state, "value") else session_state)
        wanted = set(HOLD_STATES) if text.upper() == "HOLD" else {SessionState.parse(text)}
        return {k: s for k, s in self._c.sessions.items() if s.session_state in wanted}

    def get_active_calls_of_extension(self, extension_id: str) -> dict[str, Session]:
        return {k: s for k, s in self._c.sessions.items() if extension_id in (s.caller, s.callee)}

    def get_active_calls_of_user(self, user_id: str) -> dict[str, Session]:
        user = self._c.users.get(user_id)
        if user is None:
            return {}
        numbers = set(user.extensions)
        return {k: s for k, s in self._c.sessions.items() if numbers & {s.caller, s.callee}}

    async def get_call_history_of_extension(
        self, extension_id: str, properties: dict[str, Any] | None = None
    ) -> History_co:
        return await self._c.get_call_history({**(properties or {}), "extension": extension_id})

    getExtensionById = get_extension_by_id
    getExtensions = get_extensions
    getExtensionsByType = get_extensions_by_type
    getOutsideLineById = get_outside_line_by_id
    getOutsideLines = get_outside_lines
    getOutsideLinesByType = get_outside_lines_by_type
    getUserById = get_user_by_id
    getUserByExtension = get_user_by_extension
    getActiveSessionById = get_active_session_by_id
    getActiveSessionsBySessionState = get_active_sessions_by_session_state
    getActiveCallsOfExtension = get_active_calls_of_extension
    getActiveCallsOfUser = get_active_calls_of_user
    getCallHistoryOfExtension = get_call_history_of_extension
