"""What the change feed adds to the shared surfaces: an incident's "What changed" once it is announced
(``AfterOpened``), and the hand-off's "Review recent changes/deployments" (``HandoffLine``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.changes import render
from bot.changes.feed import ChangeFeed
from bot.changes.incident import IncidentChanges
from bot.core.board import Board
from bot.core.settings.teams import IMPLICIT, owners
from bot.incidents.steps import AfterOpened
from bot.oncall.handoff import HANDOFF_GRACE, HandoffLine
from bot.oncall.roster import Roster
from bot.oncall.rotation import last_handoff

REVIEW = "Review recent changes/deployments"


def since_previous_handoff(now: datetime, roster: Roster) -> datetime:
    """The previous hand-off: the last one, or the one before it when the last is the one being posted now."""
    last = last_handoff(now, roster.handoff, roster.tz)
    return last - timedelta(days=7) if now - last < HANDOFF_GRACE else last


def declare(board: Board, feed: ChangeFeed, incident_changes: IncidentChanges, roster: Roster) -> None:
    async def review(now: datetime) -> list[str]:
        if not await feed.reachable():
            return ["not connected: no kubeconfig or in-cluster service account (`kubernetes.clusters`)"]
        teams = owners(roster.teams, roster.default) if len(roster.teams) > 1 or IMPLICIT not in roster.teams else None
        return render.handoff_lines(await feed.read(since_previous_handoff(now, roster), now), teams)

    board.declare(
        AfterOpened("changes", incident_changes.opened),
        HandoffLine("changes", 35, REVIEW, review, note="(since the previous hand-off; `/changes` for the detail)"),
    )
