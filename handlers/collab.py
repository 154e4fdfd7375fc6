"""Collaboration on ``/incident``: status updates, the commander, post-mortem drafts; the post-mortem button and the
commander picker on the announcement."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.alerts.render import public_modal
from bot.alerts.statuspage import FIRST_POST, PublicStatus
from bot.core import slack
from bot.core.errors import DependencyError, UserError
from bot.core.ids import mentioned_user
from bot.core.permissions import Actor
from bot.core.slack import SLACK_ERRORS
from bot.core.text import user
from bot.incidents import parse as p
from bot.incidents.machine import TransitionRefused
from bot.incidents.permissions import require_readable
from bot.incidents.render import ASSIGN_ACTION, POSTMORTEM_ACTION
from handlers.kit import Answer, Click, Kit, Replies
from handlers.needs import Needs

log = logging.getLogger(__name__)

Later = Callable[[Replies], Awaitable[None]]


async def answer(needs: Needs, cmd: p.Update | p.Assign | p.Postmortem, actor: Actor, trigger_id: str = "") -> Answer:
    """``trigger_id``: the command's, to open a form (the status page's, for a first public post)."""
    match cmd:
        case p.Update():
            return await update(needs, cmd, actor, trigger_id)
        case p.Assign(number=number, commander=commander):
            said, later = await assign(needs, number, commander, actor)
            return Answer(said, later=later, name="incident-assign", task=f"assign-INC-{number}")
        case p.Postmortem(number=number):
            incident = await needs.store.get(number)
            await require_readable(needs.access, needs.config.incident_channels, incident, actor)

            async def draft(replies: Replies) -> None:
                await postmortem(needs, number, actor.user, replies)

            return Answer(f"Drafting the post-mortem of {incident.ref}…", later=draft, name="postmortem")


async def update(needs: Needs, cmd: p.Update, actor: Actor, trigger_id: str = "") -> Answer:
    """A status update (the kit checked the responder): the incident, the stakeholders, and with ``--public`` the
    status page."""
    public = needs.statuspage if cmd.public else None
    if cmd.public and public is None:
        raise UserError("No status page is set up (`statuspage` in the config); nothing was posted.")
    if public is not None:
        first = await _first_public_post(needs, public, cmd, trigger_id)
        if first is not None:
            return first
    try:
        incident, entry = await needs.incidents.update(cmd.number, cmd.text, actor.user)
    except TransitionRefused as exc:
        raise UserError(f"{exc.incident.ref} is closed; updates go to open incidents.") from None
    stakeholders = needs.config.channels.stakeholders
    where = f" and <#{stakeholders}>" if stakeholders else ""

    async def publish(replies: Replies) -> None:
        if public is not None:
            needs.tasks.spawn(public.update(cmd.number, cmd.text, actor.user), name=f"statuspage-{incident.ref}")
        await needs.flows.published(incident, entry)

    public_too = " The status page follows." if public is not None else ""
    return Answer(f"Update on {incident.ref} posted to the incident{where}.{public_too}", later=publish,
                  name="incident-update", task=f"update-{incident.ref}")  # fmt: skip


async def _first_public_post(needs: Needs, public: PublicStatus, cmd: p.Update, trigger_id: str) -> Answer | None:
    """``--public`` on an incident not on the status page yet posts nothing: the first public post is the reviewed
    form's (opened here with the text typed), and below ``statuspage.min_severity`` nothing is public."""
    incident = await needs.store.get(cmd.number)
    if incident.statuspage_id:
        return None
    below = public.below_minimum(incident)
    if below is not None:
        raise UserError(f"{below}. Nothing was posted; `/incident update {incident.ref} <text>` updates responders.")
    view = public_modal(incident, public.settings.components, body=cmd.text)
    instead = "The announcement's *Post to status page* button opens it."
    said = (
        f"{incident.ref} is not on the status page yet: {FIRST_POST} (opening it with your text). Nothing was posted."
    )
    return replace(Answer.form(view, trigger_id, instead=instead, name="statuspage-form"), text=said)


async def assign(needs: Needs, number: int, commander: str, actor: Actor) -> tuple[str, Later]:
    """The commander hands over, an operator reassigns; while nobody commands, a responder may take it themselves
    (in a private incident only someone already in its channel). What to say, and what follows."""
    operator = await needs.access.is_operator(actor.user)
    if not operator:
        await require_readable(needs.access, needs.config.incident_channels, await needs.store.get(number), actor)
    try:
        incident, entry = await needs.incidents.assign(number, commander, actor.user, operator=operator)
    except TransitionRefused as exc:
        raise UserError(f"{exc.incident.ref} is closed; its commander can no longer change.") from None

    async def announce(replies: Replies) -> None:
        await needs.flows.assigned(incident, entry)

    return f"{user(commander)} is now the commander of {incident.ref}.", announce


async def postmortem(needs: Needs, number: int, actor: str, replies: Replies) -> None:
    """Build the draft in the requester's time zone, upload it to the incident, record it."""
    tz = await slack.user_timezone(needs.client, actor, ZoneInfo(needs.config.oncall.timezone))
    try:
        incident, channel = await needs.flows.postmortem(number, actor, tz)
    except SLACK_ERRORS as exc:
        log.error("post-mortem upload for INC-%s failed: %s", number, slack.error_code(exc))
        raise DependencyError(
            "Slack did not accept the post-mortem file; `chatops-bot postmortem INC-n` writes it locally."
        ) from None
    await replies.private(f"Post-mortem draft of {incident.ref} uploaded to <#{channel}>.")


async def postmortem_button(needs: Needs, click: Click, replies: Replies) -> None:
    number = p.parse_ref(click.value)
    if number is None:
        raise UserError("That button is not attached to an incident.")
    await require_readable(needs.access, needs.config.incident_channels, await needs.store.get(number), click.actor)
    await postmortem(needs, number, click.actor.user, replies)


async def assign_picker(needs: Needs, click: Click, replies: Replies) -> None:
    """The commander picker of the announcement (its block ``incident_actions_<n>``) and of the App Home (the Home
    names the block ``home_incident_<n>``, one per incident in the view)."""
    _, _, ref = click.block_id.rpartition("_")
    known = click.block_id.startswith(("incident_actions_", "home_incident_"))
    number = p.parse_ref(ref) if known else None
    chosen = mentioned_user(click.selected_user or "")
    if number is None or chosen is None:
        raise UserError("Pick a person for this incident's commander.")
    said, announce = await assign(needs, number, chosen, click.actor)
    await replies.private(said)
    await announce(replies)


def register(kit: Kit) -> None:
    kit.button(POSTMORTEM_ACTION, postmortem_button, doing="draft post-mortems")
    kit.button(ASSIGN_ACTION, assign_picker, doing="assign the commander")
