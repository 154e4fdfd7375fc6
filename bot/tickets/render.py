"""Block Kit for action items (pure): ``/incident actions`` as sections within Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.blocks import MESSAGE_TEXT, chunked_sections, messages
from bot.core.text import SECTION_LIMIT, clip
from bot.incidents.model import Incident, State
from bot.tickets.model import ActionItem
from bot.tickets.parse import ACTION_MAX
from bot.tickets.text import action_status

SHOWN = 40
MORE_ROOM = 200  # block text kept for the "…and N more" line
ACTIONS_BUTTON = "ticket_action_items"
ACTIONS_FORM = "ticket_action_items_modal"
FORM_ROWS = 3


def action_items_button(incident: Incident) -> list[ButtonElement]:
    """The announcement's "Action items" once the incident is resolved (the post-mortem's time)."""
    if incident.state not in (State.RESOLVED, State.CLOSED):
        return []
    return [ButtonElement(text="Action items", action_id=ACTIONS_BUTTON, value=str(incident.number))]


def postmortem_button(incident: Incident, tracker: str) -> tuple[str, list[Block]]:
    """The message right under the post-mortem draft (a file, which carries no buttons): the same form."""
    line = (f"📌 Action items of {incident.ref}'s post-mortem: record several at once (owner, due date); each "
            f"becomes a {tracker} ticket linked to the incident's.")  # fmt: skip
    button = ButtonElement(text="Action items", action_id=ACTIONS_BUTTON, value=str(incident.number))
    return line, [SectionBlock(text=MarkdownTextObject(text=line)), ActionsBlock(elements=[button])]


def action_items_modal(incident: Incident) -> View:
    """Several action items at once: what, owner, due, per row (the first one required)."""
    blocks: list[Block] = []
    for row in range(1, FORM_ROWS + 1):
        blocks += [
            InputBlock(block_id=f"text_{row}", label=f"Action item {row}", optional=row > 1,
                       element=PlainTextInputElement(action_id="value", max_length=ACTION_MAX)),
            InputBlock(block_id=f"owner_{row}", label="Owner", optional=True,
                       element=UserSelectElement(action_id="value")),
            InputBlock(block_id=f"due_{row}", label="Due", optional=True, element=DatePickerElement(action_id="value")),
        ]  # fmt: skip
    return View(
        type="modal", callback_id=ACTIONS_FORM, private_metadata=str(incident.number),
        title=f"Action items {incident.ref}"[:24], submit="Record", close="Cancel", blocks=blocks,
    )  # fmt: skip


def actions_blocks(title: str, items: Sequence[ActionItem], today: date) -> list[Block]:
    """One message Slack takes (50 blocks, about 12,000 characters of block text): the first lines that fit (at most
    ``SHOWN``), then how many more there are and how to see them."""
    header = HeaderBlock(text=title[:150])
    if not items:
        return [header, ContextBlock(elements=[MarkdownTextObject(text="No action items.")])]
    budget = MESSAGE_TEXT - len(title) - MORE_ROOM
    lines: list[str] = []
    for item in items[:SHOWN]:
        line = clip(action_status(item, today), SECTION_LIMIT)
        if lines and sum(len(x) + 1 for x in lines) + len(line) > budget:
            break
        lines.append(line)
    blocks: list[Block] = [header, *chunked_sections(lines)]
    left = len(items) - len(lines)
    if left:
        more = f"…and {left} more: `/incident actions INC-n` lists one incident's, `--mine` yours."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    (kept,) = messages(blocks, most=1, cut="…more left out")  # within Slack's limits whatever the lines held
    return kept
