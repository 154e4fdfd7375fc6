"""What alerts and the status page add to the shared surfaces: what is firing (the hand-off's "Check alert status",
the digest's "Alerts firing"), and the status page's buttons on the announcement and its question after a resolve."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ButtonElement

from bot.alerts.firing import FiringAlerts
from bot.alerts.render import public_buttons
from bot.alerts.statuspage import PublicStatus
from bot.core.board import Board
from bot.digest.model import DigestPart, DigestSection
from bot.incidents.model import Incident
from bot.incidents.steps import AfterIncidentChange, AnnouncementButtons
from bot.oncall.handoff import HandoffLine

NOT_CONNECTED = "not connected: set `alerts.alertmanager_url`"


def declare(board: Board, firing: FiringAlerts | None, statuspage: PublicStatus | None) -> None:
    async def handoff(now: datetime) -> list[str]:
        return await firing.lines() if firing is not None else [NOT_CONNECTED]

    board.declare(HandoffLine("alerts", 40, "Check alert status", handoff, note="(firing now)"))
    if firing is not None:

        async def digest(now: datetime) -> DigestPart:
            return DigestPart(key="alerts", title="Alerts firing", lines=await firing.lines())

        board.declare(DigestSection("alerts", 50, "Alerts firing", digest))
    if statuspage is not None:

        def buttons(incident: Incident) -> list[ButtonElement]:
            return public_buttons(incident) if statuspage.offered(incident) else []

        board.declare(
            AnnouncementButtons("statuspage", buttons),
            AfterIncidentChange("statuspage", statuspage.ask_to_resolve),
        )
