"""The board: what each domain adds to the surfaces it shares with the others, declared once at start-up.

A surface (the digest, the hand-off checklist, the App Home, the incident announcement, what follows an incident's
change, the poller) defines the type of what it accepts, and renders whatever is declared of that type, in the
declared ``order``. A domain declares its contributions in one module of its own (``contributions.py``); the
composition root hands the board to every surface and calls each domain's declarations before the bot serves.
Adding a digest section or a hand-off line is then one file in the domain that knows the answer.

Three contribution types live here because their surfaces sit beside the domains that feed them: ``Periodic`` (a
job the one poller runs), ``HomeSection`` (a part of the App Home) and ``WeeklySection`` (a part of the weekly
report). The others live with their surface:
``bot.digest.model.DigestSection``, ``bot.oncall.handoff.HandoffLine``, ``bot.incidents.steps`` (what happens when
an incident opens or changes, announcement buttons, what an incident opened during), ``bot.operations.execute``'s
``AfterChange`` and ``bot.core.schedule.ScheduledPost``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:  # the digest's CLI declares on a board too: no Slack SDK loaded for it
    from slack_sdk.models.blocks import Block


class Contribution(Protocol):
    @property
    def key(self) -> str: ...


C = TypeVar("C")


class BoardFrozen(RuntimeError):
    """A declaration after the bot started serving: every contribution is declared at start-up."""


class Board:
    """Every contribution of every domain, by type; read by the surfaces, sorted by their ``order``."""

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._frozen = False

    def declare(self, *items: Contribution) -> None:
        if self._frozen:
            raise BoardFrozen(f"declared after start-up: {', '.join(i.key for i in items)}")
        for item in items:
            if any(type(other) is type(item) and other.key == item.key for other in self._items):
                raise ValueError(f"two {type(item).__name__} contributions are both called {item.key!r}")
            self._items.append(item)

    def freeze(self) -> Board:
        self._frozen = True
        return self

    def of(self, kind: type[C]) -> list[C]:
        """Every contribution of ``kind``, by ``order`` (then in the order declared)."""
        found = [item for item in self._items if isinstance(item, kind)]
        return sorted(found, key=lambda item: getattr(item, "order", 0))

    def declared(self) -> list[tuple[str, str]]:
        """(type, key) of everything declared, for docs and tests."""
        return [(type(item).__name__, item.key) for item in self._items]


@dataclass(frozen=True)
class Periodic:
    """A job the poller runs at most every ``every`` (replicas coordinate inside the job, through Redis).

    ``run(now)`` gets the bot's clock; a failure is logged once while it lasts, and the job runs again next time.
    ``first_after``: the first run waits that long after the poller starts (by the bot's clock), for a job whose
    work can wait while start-up answers people first."""

    key: str
    every: timedelta
    run: Callable[[datetime], Awaitable[object]]
    first_after: timedelta = timedelta(0)


@dataclass(frozen=True)
class WeeklySection:
    """A section of the weekly report, after its own (cost, access audit, reliability): ``*title*`` and
    ``lines(start, end)`` for the week; a source that fails says so in a line, naming itself (never raises)."""

    key: str
    order: int
    title: str
    lines: Callable[[datetime, datetime], Awaitable[list[str]]]


@dataclass(frozen=True)
class HomeSection:
    """A part of the App Home, below the incidents and the on-call: ``blocks(viewer, now)`` ([] shows nothing)."""

    key: str
    order: int
    blocks: Callable[[str, datetime], Awaitable[list[Block]]]
