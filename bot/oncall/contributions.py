"""What on-call adds to the shared surfaces: escalation's steps in the incident flow (arm at open, cancel once
someone responds, move on a severity change), its ticks on the poller, and the weekly hand-off checklist."""

from __future__ import annotations

from datetime import timedelta

from bot.core.board import Board, Periodic
from bot.incidents.steps import IncidentSteps
from bot.oncall.escalator import RECONCILE_EVERY, Escalator
from bot.oncall.handoff import HandoffChecklist


def declare(board: Board, escalator: Escalator, handoff: HandoffChecklist) -> None:
    board.declare(
        IncidentSteps(
            "escalation",
            opened=escalator.opened,
            stopped=escalator.stopped,
            severity_changed=escalator.severity_changed,
            team_changed=escalator.team_changed,
        ),
        Periodic("escalation", timedelta(0), escalator.tick),  # every tick of the poller
        Periodic("escalation-reconcile", RECONCILE_EVERY, lambda now: escalator.reconcile()),
        *handoff.scheduled_posts(),
    )
