"""The station's link to the exchange: log in, keep trying with backoff until the exchange
answers (after that the client reconnects by itself), and follow the link going up and down."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from intercom.client import ConnectionInfo, ConnectionState, OzWebClient

from .config import StationSettings
from .events import Log
from .screen import ScreenModel, ScreenState

log = logging.getLogger(__name__)

#: The longest pause between two attempts to reach the exchange, in seconds.
MAX_RETRY_DELAY = 10.0


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
        client.onConnectionStateChanged(self._changed)

    async def connect(self) -> None:
        """Keep trying until the exchange answers; after that the client reconnects itself."""
        delay = 0.5
        while True:
            st = self._settings()
            if st.token:
                state = await self.client.connect(st.exchange, st.token)
            else:
                state = await self.client.connect(st.exchange, st.extension, password=st.password)
            if state is ConnectionState.ACCESS_GRANTED:
                return
            if state is ConnectionState.ACCESS_DENIED:
                log.error("the exchange refused this station's credentials")
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, MAX_RETRY_DELAY)

    def _changed(self, info: ConnectionInfo) -> None:
        if info.state is ConnectionState.ACCESS_GRANTED:
            self.online.set()
            self._log("online")
            self._screen.idle()
        elif self.online.is_set():
            self.online.clear()
            self._log("offline")
            self._screen.show(ScreenState.OFFLINE, "Offline", "Please try again later")
        self._commit()
