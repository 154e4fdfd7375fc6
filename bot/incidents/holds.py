"""Holds on paging (``bot.incidents.steps.PagingHold``): ended on time, exactly once across replicas.

The poller sweeps the incidents not closed; each one held is asked of the declaration that holds it, and a hold
that ended is released by a compare-and-set change of the incident (so two replicas sweeping at once release it
once): its timeline says so, the announcement drops its "paging held" line, and an incident nobody responded to
is escalated from then as if it had just opened (the primary paged at once, the deadline counted from now). The
holder may also sweep at once when it knows its hold ended (a window closed), instead of waiting for the poller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.board import Board, Periodic
from bot.core.redis import StoreUnavailable
from bot.core.tasks import BackgroundTasks
from bot.incidents.flows import IncidentFlows
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Incident
from bot.incidents.service import IncidentService
from bot.incidents.steps import PagingHold

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(seconds=30)  # as escalation reconciles: a window that closes sweeps at once
GONE = "is no longer known to the bot"  # a hold whose declaration is gone (a domain removed): paging as always


class PagingHolds:
    def __init__(
        self,
        *,
        incidents: IncidentService,
        flows: IncidentFlows,
        board: Board,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime],
    ) -> None:
        self.incidents = incidents
        self.flows = flows
        self.board = board
        self.tasks = tasks
        self.clock = clock

    def periodic(self) -> Periodic:
        return Periodic("paging-holds", SWEEP_EVERY, self.sweep)

    async def sweep(self, now: datetime | None = None) -> int:
        """Release every hold that ended; return how many this replica released."""
        at = now or self.clock()
        declared = {source.key: source for source in self.board.of(PagingHold)}
        released = 0
        for incident in await self.incidents.store.active():
            if incident.held is None or not incident.paging_held:
                continue
            source = declared.get(incident.held.key)
            try:
                why = GONE if source is None else await source.ended(incident.held, at)
            except StoreUnavailable as exc:
                log.warning("%s: whether its hold on paging ended was not read: %s", incident.ref, exc)
                continue
            if why is not None and await self._release(incident, why, source):
                released += 1
        return released

    async def _release(self, incident: Incident, why: str, source: PagingHold | None) -> bool:
        assert incident.held is not None
        try:
            released, entry = await self.incidents.release(incident.number, why, incident.held.ref)
        except TransitionRefused:
            return False  # another replica released it first
        log.info("%s: paging no longer held (%s %s)", released.ref, incident.held.ref, why)
        self.tasks.spawn(self.flows.changed(released, entry), name=f"released-{released.ref}")
        if source is not None and source.released is not None:
            self.tasks.spawn(self._told(source, released), name=f"released-told-{released.ref}")
        return True

    async def _told(self, source: PagingHold, incident: Incident) -> None:
        assert source.released is not None
        try:
            await source.released(incident)
        except Exception:
            log.exception("%s: %s not told that its hold on paging ended", incident.ref, source.key)
