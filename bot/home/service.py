"""The App Home, published for one person when they open it (``views.publish``). A publish Slack refuses is logged,
never retried in a loop: the next opening publishes again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.board import Board, HomeSection
from bot.core.errors import DependencyError
from bot.core.permissions import Access
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.digest.service import DigestService
from bot.home.render import home_view
from bot.incidents.model import Incident, State
from bot.incidents.store import IncidentStore
from bot.oncall.model import OnCallNow
from bot.oncall.roster import Roster

log = logging.getLogger(__name__)


class HomeService:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient,
        store: IncidentStore,
        roster: Roster,
        access: Access,
        digest: DigestService,
        clock: Callable[[], datetime],
        board: Board,
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.roster = roster
        self.access = access
        self.digest = digest
        self.clock = clock
        self.board = board

    async def _paged(self, incidents: list[Incident], viewer: str) -> set[int]:
        """The open incidents whose timeline pages ``viewer``."""
        paged = set()
        for incident in incidents:
            if incident.state not in (State.OPEN, State.ACKNOWLEDGED, State.MITIGATED):
                continue
            entries, _ = await self.store.timeline(incident.number, limit=200)
            if any(e.kind == "was paged" and e.actor == viewer for e in entries):
                paged.add(incident.number)
        return paged

    async def _teams(self, viewer: str, now: datetime) -> list[OnCallNow]:
        """Every team's on-call, the viewer's own teams first."""
        mine = self.roster.teams_of(viewer)
        every = await self.roster.every(now)
        return sorted(every, key=lambda t: t.team not in mine)

    async def publish(self, viewer: str) -> None:
        now = self.clock()
        try:
            active = sorted(await self.store.active(), key=lambda i: (i.severity.value, i.number))
            paged = await self._paged(active, viewer)
            who = await self.roster.now(now) if self.config.oncall.rotation else None
            teams = await self._teams(viewer, now) if self.config.teams else []
            sections: list[Block] = []
            for section in self.board.of(HomeSection):
                sections += await section.blocks(viewer, now)
        except DependencyError as exc:
            log.warning("App Home of %s not built: %s", viewer, exc)
            return
        open_now = [i for i in active if i.state is not State.CLOSED and i.state is not State.RESOLVED]
        mine = [i for i in open_now if i.commander == viewer or i.number in paged]
        view = home_view(
            viewer,
            mine,
            open_now,
            who,
            operator=await self.access.is_operator(viewer),
            sections=sections,
            health=await self.digest.last(),
            now=now,
            teams=teams,
        )
        try:
            await self.client.views_publish(user_id=viewer, view=view)
        except SLACK_ERRORS as exc:
            slack.failed("views.publish", f"the App Home of {viewer}", exc)
