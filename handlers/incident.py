"""``/incident``: open, lifecycle steps, status, list, severity, timeline; the open-incident modal and the
announcement's lifecycle buttons. Update, assign and post-mortem are in ``handlers.collab``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.errors import UserError
from bot.core.permissions import Actor
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.text import escape
from bot.core.text import user as render_user
from bot.incidents.machine import SeverityUnchanged, TransitionRefused
from bot.incidents.model import DESCRIPTION_MAX, TITLE_MAX, Action, Incident, TimelineEntry, parse_ref
from bot.incidents.render import (
    BUTTONS,
    OPEN_MODAL_CALLBACK,
    action_id,
    list_blocks,
    open_modal,
    recent_blocks,
    status_blocks,
    timeline_blocks,
)
from handlers import collab
from handlers import parse as p
from handlers.guard import acked, ephemeral, first_action, guarded, require_readable, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services

STATUS_TIMELINE_ENTRIES = 5
KNOWN_VERBS = {
    "help",
    "open",
    "status",
    "list",
    "severity",
    "timeline",
    "update",
    "assign",
    "postmortem",
    *p.LIFECYCLE_VERBS,
}

log = logging.getLogger(__name__)


def register(app: AsyncApp, svc: Services) -> None:
    """Bind ``/incident``, its modal and the lifecycle buttons to ``app``."""
    commands = IncidentCommands(svc)
    app.command("/incident")(commands.on_command)
    app.view(OPEN_MODAL_CALLBACK)(commands.on_modal_submit)
    for action in BUTTONS:
        app.action(action_id(action))(LifecycleButton(svc, action).on_click)


class IncidentCommands:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], client: Any, respond: Any) -> None:
        text = command.get("text") or ""
        verb = (text.split(maxsplit=1) or ["help"])[0].lower()[:20]
        async with guarded("command", f"/incident {verb if verb in KNOWN_VERBS else 'other'}", acked(ack)):
            cmd = await self._parse(text, command["channel_id"])
            await self._dispatch(cmd, ack, command, client=client, respond=respond)

    async def _parse(self, text: str, channel: str) -> p.Command:
        """Parse; inside an incident's own channel a missing INC-n means that incident."""
        try:
            return p.parse(text)
        except p.MissingIncidentId:
            number = await self.svc.store.room_of(channel)
            if number is None:
                raise
            return p.parse(p.with_incident(text, number))

    async def _dispatch(
        self, cmd: p.Command, ack: AsyncAck, command: dict[str, Any], *, client: Any, respond: Any
    ) -> None:
        svc = self.svc
        actor = Actor.of_command(command)
        user = actor.user
        match cmd:
            case p.Help():
                await ack(text=p.USAGE)
            case p.OpenModal():
                await ack()
                svc.tasks.spawn(self._open_modal(client, respond, command), name="open-modal")
            case p.Open(severity=severity, title=title):
                incident = await svc.incidents.open(title=title, severity=severity, actor=user)
                await ack(text=self._opened_text(incident))
                svc.tasks.spawn(svc.flows.opened(incident), name=f"announce-{incident.ref}")
            case p.Lifecycle(action=action, number=number, note=note):
                if action is Action.CLOSE:
                    await self._require_command(actor, number, "close")
                else:
                    await self._require_responder(actor, action.value)
                incident, entry = await svc.incidents.act(number, action, user, note)
                await ack(text=f"{incident.ref} is now *{incident.state.value}*.")
                self._changed(incident, entry)
            case p.ChangeSeverity(number=number, severity=severity, note=note):
                await self._require_command(actor, number, "change the severity of")
                try:
                    incident, entry = await svc.incidents.change_severity(number, severity, user, note)
                except TransitionRefused as exc:
                    raise UserError(f"{exc.incident.ref} is closed; its severity can no longer change.") from None
                except SeverityUnchanged as exc:
                    raise UserError(f"{exc.incident.ref} is already {severity.value}.") from None
                await ack(text=f"{incident.ref} is now {incident.severity.value}; {entry.text}.")
                self._changed(incident, entry)
            case p.Status(number=number):
                incident = await svc.store.get(number)
                await require_readable(svc, incident, actor)
                recent = await svc.store.last_timeline(number, STATUS_TIMELINE_ENTRIES)
                await ack(text=incident.ref, blocks=status_blocks(incident, recent, svc.clock()))
            case p.ListOpen(recent=False):
                incidents = await svc.store.active()
                await ack(text=f"{len(incidents)} incidents not closed", blocks=list_blocks(incidents, svc.clock()))
            case p.ListOpen(recent=True):
                now = svc.clock()
                last_month = await svc.store.recent(now - collab.RECENT_WINDOW)
                await ack(text="Incidents of the last 30 days", blocks=recent_blocks(last_month, now))
            case p.Timeline(number=number, page=page):
                incident = await svc.store.get(number)
                await require_readable(svc, incident, actor)
                entries, total = await svc.store.timeline(number)
                await ack(text=f"Timeline of {incident.ref}", blocks=timeline_blocks(incident, entries, total, page))
            case p.Update() | p.Assign() | p.Postmortem():
                await collab.dispatch(svc, cmd, ack, actor, respond)

    async def _open_modal(self, client: Any, respond: Any, command: dict[str, Any]) -> None:
        try:
            await client.views_open(trigger_id=command["trigger_id"], view=open_modal(command["channel_id"]))
        except SLACK_ERRORS as exc:
            log.warning("views.open failed: %s", type(exc).__name__)
            await respond(
                text="Slack did not open the form in time. Use `/incident open P1 <title>` instead.",
                response_type="ephemeral",
            )

    async def _require_command(self, actor: Actor, number: int, doing: str) -> None:
        """Severity and close: the incident commander or an operator (any responder while nobody commands)."""
        incident = await self.svc.store.get(number)
        if actor.user == incident.commander or await self.svc.access.is_operator(actor.user):
            return
        if incident.commander is None:
            await self._require_responder(actor, doing)
            return
        raise UserError(
            f"Only the commander ({render_user(incident.commander)}) or an operator may {doing} {incident.ref}."
        )

    async def _require_responder(self, actor: Actor, doing: str) -> None:
        await require_responder(self.svc, actor, f"{doing} incidents")

    def _changed(self, incident: Incident, entry: TimelineEntry) -> None:
        self.svc.tasks.spawn(self.svc.flows.changed(incident, entry), name=f"changed-{incident.ref}")

    def _opened_text(self, incident: Incident) -> str:
        return (
            f"Opened *{incident.ref}* [{incident.severity.value}] {escape(incident.title)} — "
            f"announced in <#{self.svc.config.channels.incidents}>."
        )

    async def on_modal_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view.get("state", {}).get("values", {})

        async def reply(text: str) -> None:
            await ack(response_action="errors", errors={"title": text[:150]})

        async with guarded("view", OPEN_MODAL_CALLBACK, reply):
            errors: dict[str, str] = {}
            title = description = ""
            try:
                title = p.check_text(_input(values, "title") or "", "title", TITLE_MAX)
                if not title:
                    errors["title"] = "Give the incident a title."
            except p.ParseError as exc:
                errors["title"] = str(exc)
            severity = Severity.parse(_selected(values, "severity") or "")
            if severity is None:
                errors["severity"] = "Pick a severity, P1 to P4."
            try:
                description = p.check_text(
                    _input(values, "description") or "", "description", DESCRIPTION_MAX, multiline=True
                )
            except p.ParseError as exc:
                errors["description"] = str(exc)
            if errors or severity is None:
                await ack(response_action="errors", errors=errors)
                return
            incident = await self.svc.incidents.open(
                title=title, severity=severity, actor=user, description=description
            )
            await ack()
            self.svc.tasks.spawn(self.svc.flows.opened(incident), name=f"announce-{incident.ref}")


class LifecycleButton:
    """The announcement's (and a page DM's) Acknowledge, Mitigated, Resolve and Reopen buttons."""

    def __init__(self, svc: Services, action: Action) -> None:
        self.svc = svc
        self.action = action

    async def on_click(self, ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        self.svc.tasks.spawn(self._run(body, respond), name=f"click-{self.action.value}")

    async def _run(self, body: dict[str, Any], respond: Any) -> None:
        async with guarded("action", self.action.value, ephemeral(respond)):
            actor = Actor.of_body(body)
            number = parse_ref(str(first_action(body).get("value", "")))
            if number is None:
                raise UserError("That button is not attached to an incident.")
            await require_responder(self.svc, actor, f"{self.action.value} incidents")
            incident, entry = await self.svc.incidents.act(number, self.action, actor.user)
            await self.svc.flows.changed(incident, entry)


def _input(values: dict[str, Any], block: str) -> str | None:
    value = values.get(block, {}).get("value", {}).get("value")
    return value if isinstance(value, str) else None


def _selected(values: dict[str, Any], block: str) -> str | None:
    option = values.get(block, {}).get("value", {}).get("selected_option") or {}
    value = option.get("value")
    return value if isinstance(value, str) else None
