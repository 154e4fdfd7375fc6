"""Collaboration on ``/incident``: status updates, the commander, post-mortem drafts; the post-mortem
button and the commander picker on the announcement."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core import slack
from bot.core.errors import DependencyError, UserError
from bot.core.ids import mentioned_user
from bot.core.permissions import Actor
from bot.core.slack import SLACK_ERRORS
from bot.core.text import user
from bot.incidents.machine import TransitionRefused
from bot.incidents.render import ASSIGN_ACTION, POSTMORTEM_ACTION
from handlers import parse as p
from handlers.guard import Reply, ephemeral, first_action, guarded, require_readable, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

RECENT_WINDOW = timedelta(days=30)


async def dispatch(svc: Services, cmd: p.Command, ack: AsyncAck, actor: Actor, respond: Any) -> None:
    match cmd:
        case p.Update(number=number, text=text, public=public):
            await require_responder(svc, actor, "post status updates")
            if public and svc.statuspage is None:
                raise UserError("No status page is set up (`statuspage` in the config); nothing was posted.")
            try:
                incident, entry = await svc.incidents.update(number, text, actor.user)
            except TransitionRefused as exc:
                raise UserError(f"{exc.incident.ref} is closed; updates go to open incidents.") from None
            stakeholders = svc.config.channels.stakeholders
            where = f" and <#{stakeholders}>" if stakeholders else ""
            public_too = " The status page follows." if public else ""
            await ack(text=f"Update on {incident.ref} posted to the incident{where}.{public_too}")
            svc.tasks.spawn(svc.flows.published(incident, entry), name=f"update-{incident.ref}")
            if public and svc.statuspage is not None:
                work = svc.statuspage.update(number, text, actor.user)
                svc.tasks.spawn(work, name=f"statuspage-{incident.ref}")
        case p.Assign(number=number, commander=commander):
            await assign(svc, number, commander, actor, lambda text: ack(text=text))
        case p.Postmortem(number=number):
            await require_responder(svc, actor, "draft post-mortems")
            incident = await svc.store.get(number)
            await require_readable(svc, incident, actor)
            await ack(text=f"Drafting the post-mortem of {incident.ref}…")
            svc.tasks.spawn(postmortem(svc, number, actor.user, respond), name=f"postmortem-{incident.ref}")


async def assign(svc: Services, number: int, commander: str, actor: Actor, reply: Reply) -> None:
    """The commander hands over, an operator reassigns; while nobody commands, a responder may take it themselves
    (in a private incident only someone already in its channel)."""
    await require_responder(svc, actor, "assign the commander")
    operator = await svc.access.is_operator(actor.user)
    if not operator:
        await require_readable(svc, await svc.store.get(number), actor)
    try:
        incident, entry = await svc.incidents.assign(number, commander, actor.user, operator=operator)
    except TransitionRefused as exc:
        raise UserError(f"{exc.incident.ref} is closed; its commander can no longer change.") from None
    await reply(f"{user(commander)} is now the commander of {incident.ref}.")
    svc.tasks.spawn(svc.flows.assigned(incident, entry), name=f"assign-{incident.ref}")


async def postmortem(svc: Services, number: int, actor: str, respond: Any) -> None:
    """Build the draft in the requester's time zone, upload it to the incident, record it."""
    reply = ephemeral(respond)
    async with guarded("task", "postmortem", reply):
        tz = await slack.user_timezone(svc.client, actor, ZoneInfo(svc.config.oncall.timezone))
        try:
            incident, channel = await svc.flows.postmortem(number, actor, tz)
        except SLACK_ERRORS as exc:
            log.error("post-mortem upload for INC-%s failed: %s", number, slack.error_code(exc))
            raise DependencyError(
                "Slack did not accept the post-mortem file; `chatops-bot postmortem INC-n` writes it locally."
            ) from None
        await reply(f"Post-mortem draft of {incident.ref} uploaded to <#{channel}>.")


def register(app: AsyncApp, svc: Services) -> None:
    """Post-mortem button (after resolve) and the commander picker on the announcement."""

    async def on_postmortem(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        async with guarded("action", POSTMORTEM_ACTION, ephemeral(respond)):
            number = p.parse_ref(str(first_action(body).get("value", "")))
            if number is None:
                raise UserError("That button is not attached to an incident.")
            actor = Actor.of_body(body)
            await require_responder(svc, actor, "draft post-mortems")
            await require_readable(svc, await svc.store.get(number), actor)
            svc.tasks.spawn(postmortem(svc, number, actor.user, respond), name="postmortem")

    async def on_assign(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        reply = ephemeral(respond)
        async with guarded("action", ASSIGN_ACTION, reply):
            action = first_action(body)
            number = p.parse_ref(str(action.get("block_id", "")).removeprefix("incident_actions_"))
            chosen = mentioned_user(str(action.get("selected_user") or ""))
            if number is None or chosen is None:
                raise UserError("Pick a person for this incident's commander.")
            await assign(svc, number, chosen, Actor.of_body(body), reply)

    app.action(POSTMORTEM_ACTION)(on_postmortem)
    app.action(ASSIGN_ACTION)(on_assign)
