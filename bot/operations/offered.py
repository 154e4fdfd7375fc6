"""What was offered (pure): the offers of one report, by proposal key, and the button that carries one: only the
offer's opaque id, behind a confirm dialog stating the change. Beside ``bot.operations.offers``, which stores them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from bot.core.text import clip
from runbooks.changes import Change

CHANGE_ACTION_PREFIX = "offer_"
LEGACY_CHANGE_ACTION_PREFIX = "runbook_"  # the buttons of offers made before they were called offers


def change_action(change: Change, key: str | None = None) -> str:
    """The button's action id: ``offer_<kind>``, or ``offer_<kind>:<key>`` where one block has several of a kind
    (an action_id is unique within its block). The listener takes every such id, and the older ``runbook_<kind>``."""
    return f"{CHANGE_ACTION_PREFIX}{change.kind}" + (f":{key}" if key else "")


@dataclass(frozen=True)
class Offered:
    """What was offered for one report: offer ids and their changes by proposal key, and refusals."""

    now: datetime
    ids: Mapping[str, str]
    changes: Mapping[str, Change]
    refusals: Mapping[str, str]

    def button(self, key: str, text: str, *, title: str, states: str, confirm: str) -> ButtonElement | None:
        """A danger button carrying only the offer's opaque id, behind a confirm dialog stating the change."""
        if key not in self.ids:
            return None
        return change_button(self.changes[key], self.ids[key], text, title=title, states=states, confirm=confirm)


def change_button(
    change: Change,
    offer_id: str,
    text: str,
    *,
    title: str | None = None,
    states: str | None = None,
    confirm: str | None = None,
    key: str | None = None,
) -> ButtonElement:
    """The button of a stored offer: only its opaque id, behind a confirm dialog stating the change (by default
    what the change says of itself); ``key`` tells it from others of its kind in the same block."""
    return ButtonElement(
        text=clip(text, 75),
        action_id=change_action(change, key),
        value=offer_id,
        style="danger",
        confirm=ConfirmObject(
            title=clip(title or f"{change.label.capitalize()}?", 100),
            text=clip(f"{states or change.states} Operators only; it is audited.", 300),
            confirm=clip(confirm or change.verb.split(" ")[0].capitalize(), 30),
            deny="Cancel",
        ),
    )
