"""Emergency contacts (``escalation.emergency_contacts`` by severity, the guide's P1 list): each is called once and
DMed once per incident, when the escalation chain's last step is paged for an incident still unacknowledged (an
``AfterPage`` with ``last``; not at its repeats), or at once by ``/incident escalate INC-n emergency``.

The call is the pager's ``call_now`` (once per incident and person across replicas, on the timeline, the number
masked); the DM is claimed once per incident and person (HSETNX in ``inc:{n}:paging``) before it is sent. Whichever
trigger comes first escalates; the other is told it happened already."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core import keys, slack
from bot.core.durations import format_duration
from bot.core.errors import DependencyError
from bot.core.slack import SLACK_ERRORS
from bot.core.text import as_text, clip, escape, user, when
from bot.incidents.model import Action, Incident, State
from bot.incidents.render import action_id
from bot.incidents.text import SEVERITY_EMOJI
from bot.paging.engine import KEPT, Pager

log = logging.getLogger(__name__)

WHY = "emergency contact"  # call_now's reason: one call per incident and person, whichever trigger
ESCALATED = "emergency:escalated"  # field of inc:{n}:paging: who escalated (or "the chain's last step")
LAST_STEP = "the chain's last step"


def contacts_of(pager: Pager, incident: Incident) -> list[str]:
    return list(pager.config.escalation.emergency_contacts.get(incident.severity, []))


def page_text(incident: Incident, person: str, reason: str) -> str:
    return f"📟 {user(person)} paged for {incident.ref} (emergency contact) — {reason}"


def page_blocks(incident: Incident, person: str, reason: str) -> list[Block]:
    """The DM to an emergency contact, like the escalation's page (an Acknowledge button while it is open)."""
    sev = incident.severity
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"🚨 *You are paged* as an emergency contact for *{incident.ref}* "
                f"{SEVERITY_EMOJI[sev]} {sev.value}: {escape(clip(incident.title, 150))}\n{escape(reason)}. "
                f"Respond by {when(incident.respond_by)}."
            )
        )
    ]
    if incident.state is State.OPEN:
        button = ButtonElement(
            text="Acknowledge", action_id=action_id(Action.ACKNOWLEDGE), value=str(incident.number), style="primary"
        )
        blocks.append(ActionsBlock(block_id=f"page_{incident.number}_emergency", elements=[button]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Commander: {user(incident.commander)}")]))
    return blocks


class Emergency:
    """Reaches a severity's emergency contacts through the pager (calls) and Slack (DMs)."""

    def __init__(self, pager: Pager) -> None:
        self.pager = pager
        self._dm_channels: dict[str, str] = {}

    async def paged(self, incident: Incident, person: str, step: int, at: datetime, last: bool) -> None:
        """An ``AfterPage``: the chain's last step paged (the first time), the incident still unacknowledged."""
        if not last or incident.state is not State.OPEN or not contacts_of(self.pager, incident):
            return
        if await self.claim(incident, LAST_STEP) is not None:
            return
        waited = format_duration(max(at - incident.opened_at, timedelta(0)))
        await self.reach(incident, f"unacknowledged for {waited}, the last step of the escalation paged")

    async def claim(self, incident: Incident, by: str) -> str | None:
        """Escalate ``incident`` once: None when this is the first time, else who escalated it before."""
        field = keys.paging_attempts(incident.number)
        async with self.pager.io():
            if await self.pager.redis.hsetnx(field, ESCALATED, by):
                await self.pager.redis.expire(field, KEPT)
                return None
            before = await self.pager.redis.hget(field, ESCALATED)
        return as_text(before) if before is not None else LAST_STEP

    async def reach(self, incident: Incident, reason: str) -> list[str]:
        """DM and call each emergency contact of the incident's severity; what happened to each, in words."""
        said: list[str] = []
        for person in contacts_of(self.pager, incident):
            await self._dm(incident, person, reason)
            try:
                said.append(f"{user(person)}: {await self.pager.call_now(incident, person, WHY)}")
            except DependencyError as exc:
                log.warning("%s: the emergency call to %s not made: %s", incident.ref, person, exc)
                said.append(f"{user(person)}: not called ({exc}): phone them directly")
        return said

    async def _dm(self, incident: Incident, person: str, reason: str) -> None:
        try:
            async with self.pager.io():
                first = await self.pager.redis.hsetnx(keys.paging_attempts(incident.number), f"dm:{person}:{WHY}", "1")
            if not first:
                return
            if person not in self._dm_channels:
                opened = await self.pager.client.conversations_open(users=person)
                self._dm_channels[person] = str(opened["channel"]["id"])
            await self.pager.client.chat_postMessage(
                channel=self._dm_channels[person],
                text=page_text(incident, person, reason),
                blocks=page_blocks(incident, person, reason),
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the emergency page of {person} for {incident.ref}", exc)
        except DependencyError as exc:
            log.warning("%s: the emergency DM to %s not sent: %s", incident.ref, person, exc)
