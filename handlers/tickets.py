"""``/incident ticket INC-n`` (make its ticket now), ``/incident ticket INC-n link OPS-1234`` (an existing ticket
becomes the incident's), ``/incident action`` and ``/incident actions`` (follow-ups): parsed and checked here, the
tracker's calls made in the background by ``bot.tickets``."""

from __future__ import annotations

from typing import Any

from bot.core.errors import UserError
from bot.core.ids import is_user
from bot.core.text import escape
from bot.incidents.model import Incident, parse_ref
from bot.incidents.permissions import require_readable
from bot.tickets.actions import ActionItems
from bot.tickets.model import FORMS, TRACKER_NAMES
from bot.tickets.parse import parse_action, parse_actions, parse_form
from bot.tickets.render import ACTIONS_BUTTON, ACTIONS_FORM, FORM_ROWS, action_items_modal, actions_blocks
from bot.tickets.service import IncidentTickets
from bot.tickets.text import ticket_link
from handlers.kit import Answer, Click, Command, Kit, Replies, Submission, Submitted, Who, open_form
from handlers.needs import Needs

VERBS = ("ticket", "action", "actions")
USAGE = (
    "Write `/incident ticket INC-n` (make its ticket now), `/incident ticket INC-n link {form}`, or `relink {form}` "
    "to replace the ticket it has."
)
NO_TRACKER = (
    "No issue tracker is set up (`tickets.jira`, `tickets.github` or `tickets.linear` in the config, with its token); "
    "nothing was made."
)


def _tickets(needs: Needs) -> IncidentTickets:
    tickets = needs.tickets
    if tickets is None:
        raise UserError(NO_TRACKER)
    return tickets


async def _number(needs: Needs, cmd: Command, word: str | None) -> int:
    """INC-n as typed, else the incident whose channel this is."""
    if word is not None:
        number = parse_ref(word)
        if number is not None:
            return number
    room = await needs.store.room_of(cmd.channel)
    if room is None:
        raise UserError(USAGE.format(form=FORMS.get(needs.config.tickets.tracker or "jira", "OPS-1234")))
    return room


def _read(args: list[str], form: str) -> tuple[str | None, str | None]:
    """The incident (None: this channel's) and the key to link (None: make one)."""
    match args:
        case []:
            return None, None
        case [ref]:
            return ref, None
        case [verb, key] if verb.lower() in ("link", "relink"):
            return None, key
        case [ref, verb, key] if verb.lower() in ("link", "relink"):
            return ref, key
    raise UserError(USAGE.format(form=form))


async def command(needs: Needs, cmd: Command) -> Answer:
    """``/incident ticket|action|actions …``."""
    if cmd.verb == "action":
        return await action_command(needs, cmd)
    if cmd.verb == "actions":
        return await actions_command(needs, cmd)
    return await ticket_command(needs, cmd)


def _actions(needs: Needs) -> ActionItems:
    actions = needs.actions
    assert actions is not None
    return actions


async def action_command(needs: Needs, cmd: Command) -> Answer:
    """``/incident action INC-n <text> [@owner] [--due=YYYY-MM-DD]``, ``/incident action INC-n done <k>``."""
    await needs.access.require(Who.RESPONDERS, cmd.actor, "record action items")
    actions = _actions(needs)
    args = cmd.words[1:]
    room = await needs.store.room_of(cmd.channel)
    if len(args) == 3 and args[1].lower() == "done" and args[2].isdigit() and parse_ref(args[0]):
        number = parse_ref(args[0])
        assert number is not None
        await require_readable(needs.access, needs.config.incident_channels, await needs.store.get(number), cmd.actor)
        item = await actions.done(number, int(args[2]), cmd.actor.user)
        return Answer(f"Action item {item.ref} is done.")
    new = parse_action(args, actions.today(), room)
    incident = await needs.store.get(new.number)
    await require_readable(needs.access, needs.config.incident_channels, incident, cmd.actor)
    item, updated, entry = await actions.add(new, cmd.actor.user)

    async def follow(replies: Replies) -> None:
        await needs.flows.changed(updated, entry)
        await actions.later_ticket(item)

    tracker = f"; its ticket follows in {TRACKER_NAMES[needs.tickets.tracker.name]}" if needs.tickets else ""
    return Answer(f"Action item *{item.ref}* recorded: {escape(item.text)}{tracker}.", later=follow,
                  name="action-item", task=f"action-{item.ref}")  # fmt: skip


async def actions_command(needs: Needs, cmd: Command) -> Answer:
    """``/incident actions [INC-n | --mine | --open]``: with their tickets' live status."""
    actions = _actions(needs)
    query = parse_actions(cmd.words[1:], await needs.store.room_of(cmd.channel))
    if query.number is not None:
        incident = await needs.store.get(query.number)
        await require_readable(needs.access, needs.config.incident_channels, incident, cmd.actor)
    title = (f"Action items of INC-{query.number}" if query.number is not None
             else "Your open action items" if query.mine else "Open action items")  # fmt: skip

    async def readable(incident: Incident) -> bool:
        try:
            await require_readable(needs.access, needs.config.incident_channels, incident, cmd.actor)
        except UserError:
            return False
        return True

    async def produce() -> tuple[list[Any], str]:
        items = await actions.listed(query, cmd.actor.user, readable)
        return actions_blocks(title, items, actions.today()), f"{title}: {len(items)}"

    return Answer.report(f"{title}: looking up their tickets…", produce, name="action-items")


async def ticket_command(needs: Needs, cmd: Command) -> Answer:
    """``/incident ticket …`` (responders)."""
    await needs.access.require(Who.RESPONDERS, cmd.actor, "create tickets")
    tickets = _tickets(needs)
    form = FORMS[tickets.tracker.name]
    ref, typed = _read(cmd.words[1:], form)
    if ref is not None and parse_ref(ref) is None:
        raise UserError(f"`{escape(ref[:30])}` is not an incident id. " + USAGE.format(form=form))
    number = await _number(needs, cmd, ref)
    key = tickets.linkable(typed) if typed is not None else None
    incident = await needs.store.get(number)
    await require_readable(needs.access, needs.config.incident_channels, incident, cmd.actor)
    name = TRACKER_NAMES[tickets.tracker.name]
    if key is not None:
        if incident.ticket_key == key:
            return Answer(f"{incident.ref}'s ticket is {escape(key)} already.")

        async def link(replies: Replies) -> None:
            await tickets.link(number, key, cmd.actor.user, replace="relink" in map(str.lower, cmd.words))

        return Answer(f"Linking {escape(key)} to {incident.ref}; the thread says when it is done.", later=link,
                      name="ticket-link", task=f"ticket-{incident.ref}")  # fmt: skip
    if incident.ticket_key:
        return Answer(f"{incident.ref}'s ticket is {ticket_link(incident.ticket_key, incident.ticket_url)}.")

    async def make(replies: Replies) -> None:
        await tickets.retry_on_demand(number, cmd.actor.user)

    return Answer(f"Making {incident.ref}'s ticket in {name}; it is linked on the announcement once made.",
                  later=make, name="ticket-create", task=f"ticket-{incident.ref}")  # fmt: skip


async def action_items_clicked(needs: Needs, click: Click, replies: Replies) -> None:
    """The announcement's "Action items": the form for several at once."""
    number = parse_ref(click.value)
    if number is None:
        raise UserError("That button is not attached to an incident.")
    incident = await needs.store.get(number)
    await require_readable(needs.access, needs.config.incident_channels, incident, click.actor)
    instead = f"Use `/incident action {incident.ref} <text> [@owner] [--due=YYYY-MM-DD]`."
    await open_form(needs, click.trigger_id, action_items_modal(incident), instead=instead)


def _rows(form: Submission) -> list[tuple[str, str | None, str]]:
    def user_of(block: str) -> str | None:
        element = (form.values.get(block) or {}).get("value") or {}
        chosen = element.get("selected_user") if isinstance(element, dict) else None
        return chosen if isinstance(chosen, str) and is_user(chosen) else None

    return [(form.text(f"text_{r}"), user_of(f"owner_{r}"), form.text(f"due_{r}")) for r in range(1, FORM_ROWS + 1)]


async def action_items_submitted(needs: Needs, form: Submission) -> Submitted:
    """Recorded at once (the form stays open on a mistake); their thread lines and tickets follow."""
    number = parse_ref(form.private_metadata)
    if number is None:
        return Submitted({"text_1": "This form is not attached to an incident."})
    actions = _actions(needs)
    incident = await needs.store.get(number)
    await require_readable(needs.access, needs.config.incident_channels, incident, form.actor)
    new, errors = parse_form(number, _rows(form), actions.today())
    if errors:
        return Submitted(errors)
    added = [await actions.add(item, form.actor.user) for item in new]

    async def follow() -> None:
        for item, updated, entry in added:
            await needs.flows.changed(updated, entry)
            await actions.later_ticket(item)

    return Submitted(later=follow, name="action-items-form")


def register(kit: Kit) -> None:
    kit.button(ACTIONS_BUTTON, action_items_clicked, doing="record action items")
    kit.form(ACTIONS_FORM, action_items_submitted, who=Who.RESPONDERS, doing="record action items", field="text_1")
