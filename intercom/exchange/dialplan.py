"""The dial plan: what a dialled number reaches, worked out once per number a call dials.

A call resolves its number when it is created, and again only when it dials another one (a
forward, a transfer). Everything routing needs later (who to ring and how, why nobody can be,
how history and supervisors describe the destination) is in the ``Route``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .directory import (
    DirectoryLookup,
    ExtensionTarget,
    OutsideLineTarget,
    RingGroupTarget,
    UserTarget,
)


@dataclass(frozen=True, slots=True)
class Route:
    number: str
    #: the extensions the number reaches, in order, never the caller's own
    members: tuple[str, ...] = ()
    #: set for a sequential ring group: ring one member at a time, each this long
    member_timeout: float | None = None
    #: why nothing can ring at all (None: the members may)
    refusal: str | None = None
    #: an outside line with no gateway: worth an error to the caller, not only a state
    gateway_missing: bool = False
    destination_type: str = "extension"  # extension, user, ringgroup or outsideline
    direction: str = "Internal"  # or Outbound

    @property
    def known(self) -> bool:
        """Whether the number is in the directory at all."""
        return self.refusal is None or self.gateway_missing


def route(directory: DirectoryLookup, caller: str, number: str) -> Route:
    target = directory.resolve(number)
    if target is None:
        return Route(number, refusal=f"number {number!r} is not in the directory")
    if isinstance(target, OutsideLineTarget):
        return Route(
            number,
            refusal=f"outside line {target.line.id!r} ({target.line.type}) has no gateway "
            "connected",
            gateway_missing=True,
            destination_type="outsideline",
            direction="Outbound",
        )
    member_timeout: float | None = None
    if isinstance(target, ExtensionTarget):
        members: list[str] = [target.extension.number]
        kind = "extension"
    elif isinstance(target, UserTarget):
        members, kind = list(target.user.extensions), "user"
    else:
        assert isinstance(target, RingGroupTarget)
        members, kind = list(target.group.members), "ringgroup"
        if target.group.strategy == "sequential":
            member_timeout = target.group.member_timeout
    return Route(
        number,
        tuple(member for member in members if member != caller),
        member_timeout,
        destination_type=kind,
    )
