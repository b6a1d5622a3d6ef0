"""The station's link to the exchange: log in, the client retrying with backoff until the
exchange answers (and reconnecting after), and follow the link going up and down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from intercom.client import ConnectionInfo, ConnectionState, OzWebClient

from .config import StationSettings
from .events import Log
from .screen import ScreenModel, ScreenState

log = logging.getLogger(__name__)

#: The pause before logging in again after the exchange refused the station's credentials,
#: in seconds: they stay wrong until someone fixes them, on the exchange or in the config.
DENIED_RETRY_DELAY = 10.0


class ExchangeLink:
    """``online`` is set while the exchange has accepted the station's login."""

    def __init__(
        self,
        client: OzWebClient,
        settings: Callable[[], StationSettings],
        screen: ScreenModel,
        log_event: Log,
        commit: Callable[[], object],
    ) -> None:
        self.client = client
        self._settings = settings
        self._screen = screen
        self._log = log_event
        self._commit = commit
        self.online = asyncio.Event()
        self._denied = asyncio.Event()  # the exchange refused the login (at any time)
        #: Failed attempts so far at reaching the exchange the first time (0: not retrying).
        self.attempt = 0
        client.onConnectionStateChanged(self._changed)

    async def connect(self) -> None:
        """Stay connected for as long as the station runs: the client retries until the
        exchange answers, and reconnects after a loss.

        Refused credentials end the client's own tries, at the first login or at a reconnect
        (the station's password changed on the exchange): the station still tries again now
        and then, since the exchange's directory may be fixed while it waits."""
        while True:
            self._denied.clear()
            st = self._settings()
            if st.token:
                state = await self.client.connect(st.exchange, st.token, retry=True)
            else:
                state = await self.client.connect(
                    st.exchange, st.extension, password=st.password, retry=True
                )
            if state is ConnectionState.ACCESS_GRANTED:
                await self._denied.wait()  # until a reconnect is refused
            elif state is not ConnectionState.ACCESS_DENIED:
                return  # stopped by disconnect()
            log.error("the exchange refused this station's credentials")
            await asyncio.sleep(DENIED_RETRY_DELAY)

    def _changed(self, info: ConnectionInfo) -> None:
        self.attempt = info.attempt
        if info.state is ConnectionState.ACCESS_DENIED:
            self._denied.set()
        if info.state is ConnectionState.ACCESS_GRANTED:
            self.online.set()
            self._log("online")
            self._screen.idle()
        elif self.online.is_set():
            self.online.clear()
            self._log("offline")
            self._screen.show(ScreenState.OFFLINE, "Offline", "Please try again later")
        elif info.attempt:  # still reaching the exchange the first time: no log line per try
            self._screen.show(ScreenState.OFFLINE, "Connecting...", f"attempt {info.attempt + 1}")
        self._commit()
