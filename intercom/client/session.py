"""Session: any call in the exchange, seen and steered by a privileged client."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any, Protocol

from intercom.protocol.enums import SessionState

from .events import Event

if TYPE_CHECKING:
    from intercom.media.listen import ListenMedia

_DTMF_KEY = re.compile(r"^[0-9*#A-Da-d]$")


class Requester(Protocol):
    async def request(self, kind: str, data: dict[str, Any]) -> dict[str, Any]: ...


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Session:
    """Created by the library from ``onSessionCreated`` or Helper queries.

    Methods validate their arguments at once (``ValueError``, as the seed throws), then ask the
    exchange; a refusal raises ``OzError`` and also reaches ``onErrorOccured``.
    """

    def __init__(self, client: Requester, info: dict[str, Any]) -> None:
        self._client = client
        self.info: dict[str, Any] = {}
        self.on_session_state_changed: Event[[Session, SessionState]] = Event(
            "onSessionStateChanged"
        )
        self.onSessionStateChanged = self.on_session_state_changed
        self.closed = False
        self.listen_media: ListenMedia | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.update(info)

    def update(self, info: dict[str, Any]) -> bool:
        """Apply new info; True when the state changed."""
        before = self.info.get("sessionState")
        self.info = info
        return before != info.get("sessionState")

    # ------------------------------------------------------------ properties

    @property
    def session_id(self) -> str:
        return str(self.info["sessionId"])

    @property
    def session_state(self) -> SessionState:
        return SessionState(self.info["sessionState"])

    @property
    def caller(self) -> str:
        return str(self.info["caller"])

    @property
    def callee(self) -> str:
        return str(self.info["callee"])

    @property
    def talk_duration(self) -> str:
        answered = self.info.get("answeredAt")
        if answered is None:
            return "00:00:00"
        end = time.time() if not self.closed else self.info.get("stateSince", time.time())
        return _duration(end - answered)

    @property
    def state_duration(self) -> str:
        return _duration(time.time() - self.info.get("stateSince", time.time()))

    def __getattr__(self, name: str) -> Any:
        # The seed's property names (masterSessionId, callerDisplayName, dialedNumber, ...)
        # come straight from the exchange's session record.
        info = self.__dict__.get("info", {})
        aliases = {
            "Id": "sessionId",
            "State": "sessionState",
            "Caller": "caller",
            "Callee": "callee",
        }
        key = aliases.get(name, name)
        if key in info:
            return info[key]
        raise AttributeError(name)

    sessionId = session_id
    sessionState = session_state
    talkDuration = talk_duration
    stateDuration = state_duration

    # --------------------------------------------------------------- methods

    async def _do(self, request_type: str, **data: Any) -> None:
        await self._client.request(request_type, {"session_id": self.session_id, **data})

    def _check_party(self, party: str, what: str) -> None:
        if party not in (self.caller, self.callee):
            raise ValueError(
                f"{what} must be the caller ({self.caller}) or the callee ({self.callee}),"
                f" not {party!r}"
            )

    async def blind_transfer(self, transferor: str, phone_number: str) -> None:
        """``transferor`` leaves the call; the other party is connected to ``phone_number``."""
        self._check_party(transferor, "transferor")
        if not phone_number:
            raise ValueError("blindTransfer needs a phone number")
        await self._do("session.blind_transfer", transferor=transferor, target=phone_number)

    async def close(self) -> None:
        await self._do("session.close")

    async def close_with_hangup(self) -> None:
        await self._do("session.close_with_hangup")

    async def forward(self, phone_number: str) -> None:
        if not phone_number:
            raise ValueError("forward needs a phone number")
        await self._do("session.forward", target=phone_number)

    async def hangup(self) -> None:
        await self._do("session.hangup")

    async def hold(self) -> None:
        await self._do("session.hold")

    async def unhold(self) -> None:
        await self._do("session.unhold")

    async def send_dtmf(self, key: str, phone_number: str) -> None:
        if not isinstance(key, str) or not _DTMF_KEY.match(key):
            raise ValueError(f"DTMF key must be one of 0-9, *, #, A-D; got {key!r}")
        self._check_party(phone_number, "the DTMF recipient")
        await self._do("session.send_dtmf", key=key, party=phone_number)

    async def start_listen(self) -> None:
        """Hear (and see) the call without being heard: each party sends its media here."""
        options = getattr(self._client, "media_options", None)
        if options is not None and self.listen_media is None:
            from intercom.media.listen import ListenMedia

            self.listen_media = ListenMedia(
                getattr(self._client, "ice_servers", []),
                self._send_listen_signal,
                options.speaker(),
            )
        try:
            await self._do("session.start_listen")
        except Exception:
            await self.close_listen_media()
            raise

    async def stop_listen(self) -> None:
        await self._do("session.stop_listen")
        await self.close_listen_media()

    async def close_listen_media(self) -> None:
        """Release this client's listening peers (for ``stop_listen`` and the connection, when
        the session closes or the connection ends)."""
        media, self.listen_media = self.listen_media, None
        if media is not None:
            await media.close()

    async def _send_listen_signal(self, peer: str, kind: str, sdp: str) -> None:
        await self._client.request(
            "session.signal",
            {"session_id": self.session_id, "peer": peer, "kind": kind, "sdp": sdp},
        )

    def handle_listen_signal(self, data: dict[str, Any]) -> None:
        """A ``session.signal`` event: a party's SDP for this listener (for the connection)."""
        media = self.listen_media
        if media is not None:
            task = asyncio.ensure_future(
                media.handle_signal(
                    data["peer"], data.get("party", ""), data["kind"], data.get("sdp", "")
                )
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    blindTransfer = blind_transfer
    closeWithHangup = close_with_hangup
    sendDtmf = send_dtmf
    startListen = start_listen
    stopListen = stop_listen

    def __repr__(self) -> str:
        return f"<Session {self.info.get('sessionId')} {self.info.get('sessionState')}>"
