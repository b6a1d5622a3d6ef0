"""Call: this client's own leg of a call."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from intercom.protocol.enums import CallState, CallType, EndCause, SessionState

from .errors import OzError
from .events import Event

if TYPE_CHECKING:
    from intercom.media.callmedia import CallMedia, MediaOptions

    from .camera import OzCamera

_DTMF_DIGITS = re.compile(r"^[0-9*#A-D]{1,32}$")


class Message(str):
    """A text message from the other party; it is the text itself, with its sender attached."""

    sender: str

    def __new__(cls, text: str, sender: str) -> Message:
        obj = super().__new__(cls, text)
        obj.sender = sender
        return obj


@dataclass(frozen=True)
class DtmfEvent:
    """One key pressed, who pressed it and how: enough to decide whether it may count toward
    a door code (``intercom.station.unlock.dtmf_refusal``)."""

    key: str
    source: str  # "signalling" (Call.send_dtmf), "session" (Session.sendDtmf), "rtp", "inband"
    #: the sender's extension; for media digits from a peer that is not the other party, the
    #: peer's id (a leg id, or ``listener:N``)
    sender: str
    #: the sender's privilege names, as the exchange reported them
    privileges: frozenset[str] = frozenset()
    #: from the other party of this call: its signalling DTMF, or RFC 4733/in-band digits on
    #: its own peer connection. False for a supervisor's ``Session.sendDtmf`` and for media
    #: from any other peer (a listener, a party that rang but did not answer, one transferred
    #: away), and when not known.
    from_other_party: bool = False
    #: the peer connection media digits came from; None for digits sent over signalling
    peer: str | None = None


class CallHost(Protocol):
    """What a call needs from the connection that made it (``OzWebClient``): a Protocol, so
    that this module need not import the client, which imports it."""

    @property
    def media_options(self) -> MediaOptions | None:
        """How calls carry audio and video; None for a signalling-only client."""

    @property
    def ice_servers(self) -> list[dict[str, Any]]:
        """The ICE servers the exchange handed out at login."""

    async def request(
        self,
        kind: str,
        data: dict[str, Any],
        on_result: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Send one request and wait for the answer; ``on_result`` runs as the answer arrives,
        before any later event is handled."""

    def register_call(self, call: Call) -> None:
        """From now on, route the exchange's events for ``call.call_id`` to ``call``."""


class Call:
    """Created by ``OzWebClient.create_call`` or delivered by ``onIncomingCall``.

    Network methods are coroutines that return once the exchange acknowledged; the resulting
    states arrive through ``on_call_state_changed``. A refusal raises ``OzError`` (and reaches
    ``onErrorOccured``) and changes nothing.

    The connection drives a call through three methods that applications do not call:
    ``start_media`` (an incoming call, as it arrives), ``apply_state`` (each ``call.state``
    event) and ``connection_lost``; the call reaches back only through ``CallHost``.
    """

    def __init__(
        self,
        client: CallHost,
        number: str,
        call_type: CallType,
        *,
        incoming: bool = False,
        call_id: str | None = None,
        session_id: str | None = None,
        other_party_name: str = "",
    ) -> None:
        self._client = client
        self.call_id = call_id
        self.session_id = session_id
        self.dialed = number
        self.call_type = call_type
        self.incoming = incoming
        self.other_party = number
        self.other_party_name = other_party_name
        self.other_privileges: frozenset[str] = frozenset()
        self.state: CallState | None = CallState.RINGING if incoming else None
        self.session_state: SessionState | None = None
        self.end_cause: EndCause | None = None
        self.end_message = ""
        self.states_seen: list[CallState] = [self.state] if self.state else []
        self.camera: OzCamera | None = None
        self.remote_display: str | None = None
        self.peer: str | None = None  # the caller's leg id, on an incoming call
        #: the other party's leg id, as the exchange last named it (None while nobody answered):
        #: the one peer connection whose RFC 4733 and in-band digits are the other party's
        self.other_leg: str | None = None
        self._changed = asyncio.Event()

        #: ``(state, call)``, as in the browser library; a handler may take ``state`` alone
        self.on_call_state_changed: Event[[CallState, Call]] = Event("onCallStateChanged")
        self.on_message_received: Event[[Message]] = Event("onMessageReceived")
        self.on_dtmf_received: Event[[DtmfEvent]] = Event("onDtmfReceived")
        self.on_call_expiring: Event[[float]] = Event("onCallExpiring")
        self.on_call_extended: Event[[float]] = Event("onCallExtended")
        self.on_command_received: Event[[dict[str, Any]]] = Event("onCommandReceived")
        # Media negotiation and listeners, consumed by the media layer.
        self.on_signal_received: Event[[dict[str, Any]]] = Event("onSignalReceived")
        self.on_peer_changed: Event[[dict[str, Any]]] = Event("onPeerChanged")
        self.on_listener_changed: Event[[dict[str, Any]]] = Event("onListenerChanged")
        self.onCallStateChanged = self.on_call_state_changed
        self.onMessageReceived = self.on_message_received
        self.onDtmfReceived = self.on_dtmf_received
        self.media: CallMedia | None = None
        #: set before ``start()`` to end this call, or its ringing, sooner than the exchange would
        self.max_duration: float | None = None
        self.ring_timeout: float | None = None

    # --------------------------------------------------------------- media

    def start_media(self, options: MediaOptions, ice_servers: list[dict[str, Any]]) -> None:
        """Give the call its peer connections (for the connection, and ``start()``)."""
        from intercom.media.callmedia import CallMedia

        media = CallMedia(
            options,
            ice_servers,
            video=self.call_type is CallType.VIDEO,
            send_signal=self._send_media_signal,
            on_dtmf=self._media_dtmf,
        )
        self.media = media

        def peer_changed(data: dict[str, Any]) -> None:
            peer = data["peer"]
            if data.get("added"):
                media.post(lambda: media.add_peer(peer))
            elif data.get("removed"):
                media.post(lambda: media.remove_peer(peer))

        def signal(data: dict[str, Any]) -> None:
            peer, kind, sdp = data["peer"], data["kind"], data.get("sdp", "")
            media.post(lambda: media.handle_signal(peer, kind, sdp))

        def state(new: CallState) -> None:
            session = self.session_state.value if self.session_state else None
            media.post(lambda: media.on_state(new.value, session))

        def listener(data: dict[str, Any]) -> None:
            conn = int(data["conn"])
            if data.get("active"):
                media.post(lambda: media.add_listener(conn))
            else:
                media.post(lambda: media.remove_peer(f"listener:{conn}"))

        self.on_peer_changed(peer_changed)
        self.on_listener_changed(listener)
        self.on_signal_received(signal)
        self.on_call_state_changed(state)
        if self.camera is not None:
            self.attach_camera(self.camera)
        if self.remote_display is not None:
            self.set_remote_display(self.remote_display)

    async def _send_media_signal(self, kind: str, sdp: str, peer: str | None) -> None:
        if self.call_id is None or (self.state is not None and self.state.is_final):
            return
        with contextlib.suppress(OzError):  # the leg ended while we negotiated
            await self.send_signal(kind, sdp, peer)

    def _media_dtmf(self, key: str, source: str, peer: str) -> None:
        """A digit in the audio of peer connection ``peer``: the other party's only if that
        peer is the other party's leg."""
        if self.other_leg is not None and peer == self.other_leg:
            event = DtmfEvent(
                key,
                source,
                self.other_party,
                self.other_privileges,
                from_other_party=True,
                peer=peer,
            )
        else:
            event = DtmfEvent(key, source, peer, peer=peer)
        self.on_dtmf_received.emit(event)

    # ------------------------------------------------------------- queries

    def get_call_state(self) -> CallState | None:
        return self.state

    def get_other_party(self) -> str:
        return self.other_party

    @property
    def is_active(self) -> bool:
        return self.state is not None and not self.state.is_final

    # ------------------------------------------------------------- control

    def _need_id(self) -> str:
        if self.call_id is None:
            raise RuntimeError("the call has not been started")
        return self.call_id

    async def _do(self, request_type: str, **data: Any) -> dict[str, Any]:
        return await self._client.request(request_type, {"call_id": self._need_id(), **data})

    async def start(self) -> None:
        if self.call_id is not None:
            raise RuntimeError("the call was already started")
        if self._client.media_options is not None and self.media is None:
            self.start_media(self._client.media_options, self._client.ice_servers)

        def started(result: dict[str, Any]) -> None:
            self.call_id = result["call_id"]
            self.session_id = result["session_id"]
            self._client.register_call(self)

        request: dict[str, Any] = {"number": self.dialed, "call_type": self.call_type.value}
        if self.max_duration is not None:
            request["max_duration"] = self.max_duration
        if self.ring_timeout is not None:
            request["ring_timeout"] = self.ring_timeout
        await self._client.request("call.start", request, on_result=started)

    async def accept(self) -> None:
        await self._do("call.accept")

    async def reject(self) -> None:
        await self._do("call.reject")

    async def hang_up(self) -> None:
        await self._do("call.hangup")

    async def hold(self) -> None:
        await self._do("call.hold")

    async def un_hold(self) -> None:
        await self._do("call.unhold")

    async def forward(self, target: str) -> None:
        if not target:
            raise ValueError("forward needs a target number")
        await self._do("call.forward", target=target)

    async def transfer(self, target: str) -> None:
        if not target:
            raise ValueError("transfer needs a target number")
        await self._do("call.transfer", target=target)

    async def send_message(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError("a message is text")
        await self._do("call.message", text=message)

    async def send_dtmf(self, digits: str, method: str = "signalling") -> None:
        """Send DTMF to the other party: over signalling (default), as RFC 4733
        telephone-events in the audio (``method="rtp"``), or as tones (``"inband"``)."""
        if not isinstance(digits, str) or not _DTMF_DIGITS.match(digits.upper()):
            raise ValueError(f"DTMF digits must be 0-9, *, #, A-D; got {digits!r}")
        if method == "signalling":
            await self._do("call.dtmf", digits=digits.upper())
            return
        if method not in ("rtp", "inband"):
            raise ValueError(f"unknown DTMF method {method!r}: signalling, rtp or inband")
        if self.media is None:
            raise RuntimeError(f"{method} DTMF needs a call with media")
        if method == "rtp":
            await self.media.send_dtmf_rtp(digits.upper())
        else:
            await self.media.send_dtmf_inband(digits.upper())

    async def extend(self, seconds: int) -> float:
        """Push the call's maximum-duration deadline back; returns the seconds now left."""
        result = await self._do("call.extend", seconds=int(seconds))
        return float(result["seconds_left"])

    async def unlock(self, relay: str = "") -> None:
        """Open the door of the station at the other end (needs the ``door`` privilege and an
        answered call); ``relay`` names one of several locks, empty for the first."""
        await self._do("call.command", command="unlock", target=relay)

    async def send_signal(self, kind: str, sdp: str = "", peer: str | None = None) -> None:
        data: dict[str, Any] = {"kind": kind, "sdp": sdp}
        if peer is not None:
            data["peer"] = peer
        await self._do("call.signal", **data)

    def attach_camera(self, cam: OzCamera | None) -> None:
        """Send this camera's video in the call (early media: before the answer too)."""
        if cam is None:
            raise ValueError("attachCamera needs a camera")
        self.camera = cam
        if self.media is not None:
            if cam.source is None:
                raise ValueError(f"camera {cam.get_name()!r} has no video source")
            self.media.attach_camera(cam.source)

    def set_remote_display(self, display_id: str = "local") -> None:
        """Show the other party's video on the named display; one display per call."""
        if not display_id:
            raise ValueError("setRemoteDisplay needs a display id")
        if self.media is not None:
            from intercom.media.displays import display_ids, get_display

            display = get_display(display_id)
            if display is None:
                raise ValueError(
                    f"no display {display_id!r}; registered: {', '.join(display_ids()) or 'none'}"
                )
            self.media.set_display(display)
        self.remote_display = display_id

    async def wait_for(self, state: CallState | str, timeout: float = 10.0) -> None:
        """Wait until the call has been in ``state`` (now or earlier); for scripts and tests."""
        wanted = CallState(state)
        async with asyncio.timeout(timeout):
            while wanted not in self.states_seen:
                if self.state is not None and self.state.is_final:
                    raise RuntimeError(
                        f"call ended {self.state.value} ({self.end_cause}) before {wanted.value}"
                    )
                self._changed.clear()
                await self._changed.wait()

    # ------------------------------------------------------------- events in

    def apply_state(self, data: dict[str, Any]) -> None:
        """The exchange's ``call.state`` event for this leg (for the connection)."""
        state = CallState(data["state"])
        self.session_id = data.get("session_id", self.session_id)
        if data.get("session_state"):
            self.session_state = SessionState(data["session_state"])
        if data.get("other_party"):
            self.other_party = data["other_party"]
            self.other_party_name = data.get("other_party_name", "")
        if "other_privileges" in data:
            self.other_privileges = frozenset(data["other_privileges"])
        # Every state names the other leg while there is one: none while a new party rings.
        self.other_leg = data.get("other_leg")
        if data.get("cause"):
            self.end_cause = EndCause(data["cause"])
        if data.get("message"):
            self.end_message = data["message"]
        if state is not CallState.ANSWERED:
            self.state = state
        self.states_seen.append(state)
        self._changed.set()
        self.on_call_state_changed.emit(state, self)

    def connection_lost(self, cause: EndCause) -> None:
        """The connection to the exchange went away: the exchange has ended this leg too
        (for the connection)."""
        if self.state is not None and self.state.is_final:
            return
        self.end_cause = cause
        self.state = CallState.COMPLETED
        self.states_seen.append(CallState.COMPLETED)
        self._changed.set()
        self.on_call_state_changed.emit(CallState.COMPLETED, self)

    # ------------------------------------------------------------ seed names

    hangUp = hang_up
    unHold = un_hold
    getCallState = get_call_state
    getOtherParty = get_other_party
    sendMessage = send_message
    attachCamera = attach_camera
    setRemoteDisplay = set_remote_display

    def __repr__(self) -> str:
        direction = "from" if self.incoming else "to"
        state = self.state.value if self.state else "NEW"
        return f"<Call {self.call_id} {direction} {self.other_party} {state}>"
