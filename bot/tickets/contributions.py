"""What tickets add to the shared surfaces: the ticket of an incident ticketed at open, once it is announced
(``AfterOpened``), and after every change the ticket made at acknowledgement or moved with the incident
(``AfterIncidentChange``); the action items in the post-mortem draft (``PostmortemActions``) and the weekly report's
open and overdue ones (``WeeklySection``)."""

from __future__ import annotations

from bot.core.board import Board, Periodic, WeeklySection
from bot.incidents.steps import AfterIncidentChange, AfterOpened, AnnouncementButtons, PostmortemActions
from bot.tickets import render
from bot.tickets.actions import ActionItems
from bot.tickets.service import RECONCILE_EVERY, IncidentTickets

WEEKLY_ORDER = 60


def declare(board: Board, tickets: IncidentTickets | None, actions: ActionItems) -> None:
    board.declare(
        PostmortemActions("tickets", actions.rows),
        WeeklySection("action-items", WEEKLY_ORDER, "Action items", actions.weekly),
    )
    if tickets is None:
        return
    board.declare(  # the button only with a tracker: without one, `/incident action` records them
        AnnouncementButtons("tickets-actions", render.action_items_button),
        AfterOpened("tickets", tickets.opened),
        AfterIncidentChange("tickets", tickets.changed),
        Periodic("tickets", RECONCILE_EVERY, tickets.reconcile),
    )
