"""A switch on a fake clock, with phones that record what it sends them: call control tested
without sockets, an event loop or real seconds.

``Rig.advance(seconds)`` moves the clock to each deadline the switch asked for in turn and
ticks there, as the server's loop timer would, so a timer runs at exactly its time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from intercom.exchange.config import (
    ExchangeConfig,
    ExchangeSettings,
    ExtensionConfig,
    OutsideLineConfig,
    RingGroupConfig,
    UserConfig,
)
from intercom.exchange.directory import Directory, Target
from intercom.exchange.history import HistoryEnd, HistoryPage, HistoryStart
from intercom.exchange.registry import Endpoint, Registry
from intercom.exchange.relay import Relay
from intercom.exchange.supervisor import Supervisor
from intercom.exchange.switch import Switch
from intercom.protocol.enums import CallState, CallType, EndCause, Privilege
from intercom.protocol.events import IncomingCall, LegState, encode_event
from intercom.protocol.messages import HistoryQuery
from intercom.protocol.wire import WireModel

T = TypeVar("T", bound=WireModel)

START = 1_700_000_000.0  # the fake clock's first reading (Unix time)

CALL = [Privilege.CALL]
CONCIERGE = [Privilege.CALL, Privilege.MONITOR, Privilege.MODIFY, Privilege.DIRECTORY]


def directory_config(**settings: Any) -> ExchangeConfig:
    def ext(number: str, name: str, privileges: list[Privilege] = CALL) -> ExtensionConfig:
        return ExtensionConfig(number=number, display_name=name, privileges=privileges)

    return ExchangeConfig(
        exchange=ExchangeSettings(**settings),
        extensions=[
            ext("100", "Front door", [Privilege.CALL, Privilege.DOOR]),
            ext("201", "Flat 1"),
            ext("202", "Flat 2"),
            ext("203", "Flat 3"),
            ext("900", "Concierge", CONCIERGE),
        ],
        users=[UserConfig(id="alice", full_name="Alice", extensions=["201", "203"])],
        ring_groups=[
            RingGroupConfig(number="200", name="All flats", members=["201", "202"]),
            RingGroupConfig(
                number="210",
                name="One by one",
                strategy="sequential",
                members=["201", "202", "203"],
                member_timeout=15.0,
            ),
        ],
        outside_lines=[OutsideLineConfig(id="pstn", prefix="0")],
    )


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(eq=False)
class Phone:
    """A logged-in connection (the switch's ``Endpoint``) that keeps every event it gets."""

    conn_id: int
    extension: str
    privileges: frozenset[Privilege]
    properties: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, WireModel]] = field(default_factory=list)

    def all(self, kind: str, model: type[T]) -> list[T]:
        found = [event for k, event in self.events if k == kind]
        assert all(isinstance(event, model) for event in found)
        return cast(list[T], found)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.events if k == kind)

    def incoming(self) -> IncomingCall:
        """The last call that rang here."""
        calls = self.all("call.incoming", IncomingCall)
        assert calls, f"nothing rang at {self.extension}"
        return calls[-1]

    def states(self, call_id: str) -> list[LegState]:
        return [s for s in self.all("call.state", LegState) if s.call_id == call_id]

    def state(self, call_id: str) -> CallState:
        """The leg's public state: an incoming leg rings until told otherwise."""
        states = self.states(call_id)
        if states:
            return states[-1].state
        assert any(c.call_id == call_id for c in self.all("call.incoming", IncomingCall))
        return CallState.RINGING

    def end_cause(self, call_id: str) -> EndCause | None:
        return self.states(call_id)[-1].cause


class CountingDirectory(Directory):
    """Counts how often a number is resolved."""

    resolved: list[str]

    def resolve(self, number: str) -> Target | None:
        self.resolved.append(number)
        return super().resolve(number)


class Rig:
    def __init__(self, **settings: Any) -> None:
        settings.setdefault("ring_timeout", 30.0)
        self.config = directory_config(**settings)
        self.clock = FakeClock()
        self.directory = CountingDirectory(self.config)
        self.directory.resolved = []
        self.records: list[tuple[str, str]] = []  # (kind, encoded frame), in order sent
        self.store = MemoryHistory()
        self.registry = Registry(self.deliver)
        self.switch = Switch(
            self.directory,
            self.store,
            self.config.exchange,
            self.registry,
            self.deliver,
            clock=self.clock,
            timer_clock=self.clock,
        )
        self.relay = Relay(self.switch)
        self.supervisor = Supervisor(self.switch, self.relay)
        self._conn_ids = itertools.count(1)

    def deliver(self, endpoints: Iterable[Endpoint], kind: str, event: WireModel) -> None:
        frame = encode_event(kind, event)  # every event must be one the protocol knows
        for ep in endpoints:
            assert isinstance(ep, Phone)
            ep.events.append((kind, event))
            self.records.append((ep.extension, frame))

    def login(
        self,
        number: str,
        privileges: Iterable[Privilege] | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Phone:
        if privileges is None:
            privileges = self.config_privileges(number)
        phone = Phone(next(self._conn_ids), number, frozenset(privileges), properties or {})
        self.switch.attach(phone)
        return phone

    def config_privileges(self, number: str) -> list[Privilege]:
        return next(e.privileges for e in self.config.extensions if e.number == number)

    def logout(self, phone: Phone) -> None:
        self.switch.detach(phone)

    @property
    def now(self) -> float:
        """Seconds since the rig started."""
        return self.clock.now - START

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, running each deadline at its own time."""
        target = self.clock.now + seconds
        while (due := self.switch.next_deadline()) is not None and due <= target:
            self.clock.now = max(self.clock.now, due)
            self.switch.tick()
        self.clock.now = target

    def call(
        self, phone: Phone, number: str, call_type: CallType = CallType.AUDIO, **limits: Any
    ) -> str:
        """Dial and let the switch route (it does at its next tick, after the reply)."""
        started = self.switch.start_call(phone, number, call_type, **limits)
        self.advance(0)
        return started.call_id

    def answer(self, phone: Phone) -> str:
        call_id = phone.incoming().call_id
        self.switch.accept(phone, call_id)
        return call_id

    def talking(self, caller: Phone, callee: Phone, **limits: Any) -> tuple[str, str]:
        """A call from ``caller`` answered by ``callee``: both leg ids."""
        out = self.call(caller, callee.extension, **limits)
        return out, self.answer(callee)


class MemoryHistory:
    """``CallHistory`` in memory: the rows the switch opened and closed."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def started(self, call: HistoryStart) -> None:
        self.rows[call.call_id] = {
            "start": call.start,
            "direction": call.direction,
            "source": call.source,
            "destination": call.destination,
            "dialed": call.dialed,
            "type": call.call_type,
        }

    def ended(self, call: HistoryEnd) -> None:
        self.rows[call.call_id].update(
            destination=call.destination,
            state=call.state,
            ring=call.ring_duration,
            talk=call.talk_duration,
            end=call.end,
        )

    def query(self, q: HistoryQuery, only_extension: str | None = None) -> HistoryPage:
        return HistoryPage(len(self.rows), [])

    def close(self) -> None:
        pass
