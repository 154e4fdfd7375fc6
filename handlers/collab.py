"""Collaboration on ``/incident``: status updates, the commander, post-mortem drafts, the recent summary;
and what follows an open or a change (announcement, incident channel, archive)."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.collab import postmortems
from bot.durations import format_duration
from bot.incidents.machine import NoChange, TransitionRefused
from bot.incidents.model import Incident, Severity, State, TimelineEntry
from bot.redis_conn import StoreUnavailable
from bot.render import ASSIGN_ACTION, POSTMORTEM_ACTION, SEVERITY_EMOJI, user
from bot.services import Services
from bot.settings import BotConfig
from bot.slack_client import SLACK_ERRORS
from handlers import parse as p
from handlers.guard import Replied, Reply, guarded

log = logging.getLogger(__name__)

RECENT_WINDOW = timedelta(days=30)


class Collaboration:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def opened(self, incident: Incident) -> None:
        """After an open: the announcement, then (if wanted) the incident's own channel."""
        await self.svc.announcer.announce(incident)
        if self.svc.config.incident_channels.wanted(incident.severity):
            try:
                who = await self.svc.roster.now(self.svc.clock())
            except StoreUnavailable:
                who = None
            primary = who.primary if who else None
            await self.svc.rooms.open_room(incident, [incident.opened_by, incident.commander, primary])

    async def changed(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.svc.announcer.changed(incident, entry)
        if incident.state is State.CLOSED:
            await self.svc.rooms.archive(incident)

    async def dispatch(self, cmd: p.Command, ack: AsyncAck, actor: str, respond: Any) -> None:
        svc = self.svc
        match cmd:
            case p.Update(number=number, text=text):
                try:
                    incident, entry = await svc.incidents.update(number, text, actor)
                except TransitionRefused as exc:
                    await ack(text=f"{exc.incident.ref} is closed; updates go to open incidents.")
                    raise Replied from None
                stakeholders = svc.config.channels.stakeholders
                where = f" and <#{stakeholders}>" if stakeholders else ""
                await ack(text=f"Update on {incident.ref} posted to the incident{where}.")
                svc.tasks.spawn(self._published(incident, entry), name=f"update-{incident.ref}")
            case p.Assign(number=number, commander=commander):
                await self.assign(number, commander, actor, lambda text: ack(text=text))
            case p.Postmortem(number=number):
                incident = await svc.store.get(number)
                await ack(text=f"Drafting the post-mortem of {incident.ref}…")
                svc.tasks.spawn(self.postmortem(number, actor, respond), name=f"postmortem-{incident.ref}")

    async def assign(self, number: int, commander: str, actor: str, reply: Reply) -> None:
        if not await self.svc.access.is_responder(actor):
            await reply("Only incident responders may assign the commander.")
            raise Replied
        try:
            incident, entry = await self.svc.incidents.assign(number, commander, actor)
        except TransitionRefused as exc:
            await reply(f"{exc.incident.ref} is closed; its commander can no longer change.")
            raise Replied from None
        except NoChange as exc:
            await reply(str(exc))
            raise Replied from None
        await reply(f"{user(commander)} is now the commander of {incident.ref}.")
        self.svc.tasks.spawn(self._assigned(incident, entry), name=f"assign-{incident.ref}")

    async def _assigned(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.svc.announcer.changed(incident, entry)
        if incident.channel:
            await self.svc.rooms.invite(incident.channel, [incident.commander])

    async def _published(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.svc.updates.publish(incident, entry)
        await self.svc.announcer.refresh(incident.number)

    async def postmortem(self, number: int, actor: str, respond: Any) -> None:
        """Build the draft in the requester's time zone, upload it to the incident, record it."""
        svc = self.svc
        try:
            incident, markdown = await postmortems.draft(svc.store, svc.config, number, await self._tz(actor))
            channel, thread = await svc.store.home(incident) or (svc.config.channels.incidents, None)
            await postmortems.upload(svc.client, incident, markdown, channel, thread)
            await svc.incidents.postmortem_drafted(number, actor)
        except StoreUnavailable as exc:
            await respond(text=f":warning: No post-mortem: {exc}.", response_type="ephemeral", replace_original=False)
            return
        except SLACK_ERRORS as exc:
            log.error("post-mortem upload for INC-%s failed: %s", number, type(exc).__name__)
            await respond(
                text="Slack did not accept the post-mortem file; `chatops-bot postmortem INC-n` writes it locally.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        await respond(
            text=f"Post-mortem draft of {incident.ref} uploaded to <#{channel}>.",
            response_type="ephemeral",
            replace_original=False,
        )

    async def _tz(self, user_id: str) -> ZoneInfo:
        """The reader's time zone from users.info, else the on-call time zone."""
        fallback = ZoneInfo(self.svc.config.oncall.timezone)
        try:
            resp = await self.svc.client.users_info(user=user_id)
            return ZoneInfo(str(resp["user"]["tz"]))
        except SLACK_ERRORS:
            return fallback
        except (KeyError, TypeError, ZoneInfoNotFoundError, ValueError):
            return fallback


def register_buttons(app: AsyncApp, svc: Services) -> None:
    """Post-mortem button (after resolve) and the commander picker on the announcement."""
    collab = Collaboration(svc)

    async def on_postmortem(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()

        async def reply(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

        async with guarded("action", POSTMORTEM_ACTION, reply):
            number = p.parse_ref(str((body.get("actions") or [{}])[0].get("value", "")))
            if number is None:
                await reply("That button is not attached to an incident.")
                raise Replied
            svc.tasks.spawn(collab.postmortem(number, body["user"]["id"], respond), name="postmortem")

    async def on_assign(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()

        async def reply(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

        async with guarded("action", ASSIGN_ACTION, reply):
            action = (body.get("actions") or [{}])[0]
            number = p.parse_ref(str(action.get("block_id", "")).removeprefix("incident_actions_"))
            chosen = str(action.get("selected_user") or "")
            if number is None or not p.MENTION.match(chosen):
                await reply("Pick a person for this incident's commander.")
                raise Replied
            await collab.assign(number, chosen, body["user"]["id"], reply)

    app.action(POSTMORTEM_ACTION)(on_postmortem)
    app.action(ASSIGN_ACTION)(on_assign)


def recent_blocks(incidents: Sequence[Incident], config: BotConfig, now: datetime) -> list[Block]:
    """``/incident list --recent``: per severity, how many, time to acknowledge and resolve."""
    blocks: list[Block] = [HeaderBlock(text=f"Incidents of the last 30 days: {len(incidents)}")]
    lines = []
    for severity in Severity:
        group = [i for i in incidents if i.severity is severity]
        if not group:
            continue
        tta = [(i.acknowledged_at - i.opened_at).total_seconds() for i in group if i.acknowledged_at]
        ttr = [(i.resolved_at - i.opened_at).total_seconds() for i in group if i.resolved_at]
        on_time = sum(1 for i in group if i.acknowledged_at and i.acknowledged_at <= i.respond_by)
        lines.append(
            f"{SEVERITY_EMOJI[severity]} *{severity.value}*: {len(group)} — median time to acknowledge "
            f"{_median(tta)} ({on_time}/{len(group)} within target), median time to resolve {_median(ttr)}"
        )
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines) or "✅ No incidents.")))
    return blocks


def _median(seconds: list[float]) -> str:
    return format_duration(timedelta(seconds=statistics.median(seconds))) if seconds else "—"
