"""What alerts and the status page add to the shared surfaces: what is firing (the hand-off's "Check alert status",
the digest's "Alerts firing"), and the status page's buttons on the announcement and its question after a resolve.

Free of Slack and Redis until :func:`declare` runs: ``chatops-bot digest --print`` declares the digest's part too
(:func:`declare_digest`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.board import Board
from bot.digest.model import DigestPart, DigestSection

if TYPE_CHECKING:
    from slack_sdk.models.blocks import ButtonElement

    from bot.alerts.firing import FiringAlerts
    from bot.alerts.heartbeat import Heartbeats
    from bot.alerts.statuspage import PublicStatus
    from bot.incidents.model import Incident

NOT_CONNECTED = "not connected: set `alerts.alertmanager_url`"
ALERTS_ORDER = 50


def declare_digest(board: Board, firing: FiringAlerts | None) -> None:
    """The digest's "Alerts firing" (``/health``, the scheduled post, ``digest --print``), when Alertmanager is set."""
    if firing is None:
        return

    async def digest(now: datetime) -> DigestPart:
        return DigestPart(key="alerts", title="Alerts firing", lines=await firing.lines())

    board.declare(DigestSection("alerts", ALERTS_ORDER, "Alerts firing", digest))


def declare(
    board: Board, firing: FiringAlerts | None, statuspage: PublicStatus | None, heartbeats: Heartbeats | None = None
) -> None:
    from bot.alerts.render import public_buttons  # noqa: PLC0415 - Slack's blocks: the bot's, not digest --print's
    from bot.incidents.steps import AfterIncidentChange, AnnouncementButtons  # noqa: PLC0415
    from bot.oncall.handoff import HandoffLine  # noqa: PLC0415

    async def handoff(now: datetime) -> list[str]:
        return await firing.lines() if firing is not None else [NOT_CONNECTED]

    board.declare(HandoffLine("alerts", 40, "Check alert status", handoff, note="(firing now)"))
    declare_digest(board, firing)
    if heartbeats is not None:  # the dead man's switches, looked at every 30 s
        from bot.alerts.heartbeat import CHECK_EVERY  # noqa: PLC0415
        from bot.core.board import Periodic  # noqa: PLC0415

        board.declare(Periodic("heartbeats", CHECK_EVERY, heartbeats.check))
    if statuspage is not None:

        def buttons(incident: Incident) -> list[ButtonElement]:
            return public_buttons(incident) if statuspage.offered(incident) else []

        board.declare(
            AnnouncementButtons("statuspage", buttons),
            AfterIncidentChange("statuspage", statuspage.ask_to_resolve),
        )
