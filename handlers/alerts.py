"""``/alerts`` (what is firing now) and the status page: the announcement's "Post to status page" (a form a person
fills in) and "Resolve on status page" buttons. Responders only; the status page calls run after Slack is answered."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.alerts.render import (
    PUBLIC_ACTION,
    PUBLIC_BODY_MAX,
    PUBLIC_MODAL,
    PUBLIC_NAME_MAX,
    PUBLIC_RESOLVE_ACTION,
    firing_blocks,
    public_modal,
)
from bot.core.errors import UserError
from bot.core.permissions import Actor
from bot.core.slack import SLACK_ERRORS
from bot.incidents.render import URL_ACTION
from handlers import parse as p
from handlers.guard import acked, answer, ephemeral, first_action, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)


def _number(body: dict[str, Any]) -> int:
    value = str(first_action(body).get("value", ""))
    if not value.isdigit():
        raise UserError("This button names no incident.")
    return int(value)


def register(app: AsyncApp, svc: Services) -> None:
    async def on_alerts(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/alerts", acked(ack)):
            await require_responder(svc, Actor.of_command(command), "read the alerts")
            if svc.firing is None:
                await ack(text="Not connected to Alertmanager: set `alerts.alertmanager_url` in the config.")
                return
            firing = svc.firing
            await ack(text="Reading Alertmanager…")

            async def read() -> tuple[list[Any], str]:
                lines = await firing.lines()
                return firing_blocks(lines, firing.url), f"Alerts firing now: {len(lines)} line(s)"

            svc.tasks.spawn(answer(respond, read, "/alerts"), name="alerts")

    async def on_public(ack: AsyncAck, body: dict[str, Any], client: Any, respond: Any) -> None:
        await ack()
        async with guarded("action", PUBLIC_ACTION, ephemeral(respond)):
            await require_responder(svc, Actor.of_body(body), "post to the status page")
            if svc.statuspage is None:
                raise UserError("No status page is set up (`statuspage` in the config).")
            incident = await svc.store.get(_number(body))
            services = sorted(svc.statuspage.settings.components)
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=public_modal(incident, services))
            except SLACK_ERRORS as exc:
                log.warning("views.open failed: %s", type(exc).__name__)
                raise UserError(
                    f"Slack did not open the form in time. `/incident update {incident.ref} --public <text>` posts "
                    "to the status page too."
                ) from None

    async def on_public_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})

        async def reply(text: str) -> None:
            await ack(response_action="errors", errors={"body": text[:150]})

        async with guarded("view", PUBLIC_MODAL, reply):
            actor = Actor.of_body(body)
            await require_responder(svc, actor, "post to the status page")
            if svc.statuspage is None or not str(view.get("private_metadata", "")).isdigit():
                raise UserError("No status page is set up, or this form names no incident.")
            errors: dict[str, str] = {}
            name = text = ""
            try:
                name = p.check_text(_input(values, "name"), "title", PUBLIC_NAME_MAX)
            except p.ParseError as exc:
                errors["name"] = str(exc)
            try:
                text = p.check_text(_input(values, "body"), "message", PUBLIC_BODY_MAX, multiline=True)
            except p.ParseError as exc:
                errors["body"] = str(exc)
            if not name and "name" not in errors:
                errors["name"] = "Give the public incident a title."
            if not text and "body" not in errors:
                errors["body"] = "Say what customers should know."
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            chosen = values.get("components", {}).get("value", {}).get("selected_options") or []
            services = [str(o.get("value")) for o in chosen if isinstance(o, dict)]
            await ack()
            number = int(view["private_metadata"])
            work = svc.statuspage.post(number, name, text, services, actor.user)
            svc.tasks.spawn(work, name=f"statuspage-post-{number}")

    async def on_public_resolve(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        async with guarded("action", PUBLIC_RESOLVE_ACTION, ephemeral(respond)):
            await require_responder(svc, Actor.of_body(body), "resolve on the status page")
            if svc.statuspage is None:
                raise UserError("No status page is set up (`statuspage` in the config).")
            number, public = _number(body), svc.statuspage

            async def resolve() -> None:
                async with guarded("action", PUBLIC_RESOLVE_ACTION, ephemeral(respond)):
                    await public.resolve(number, body["user"]["id"])

            svc.tasks.spawn(resolve(), name=f"statuspage-resolve-{number}")

    async def on_link(ack: AsyncAck) -> None:
        await ack()  # a link button: Slack opens the URL, and still tells the app

    app.command("/alerts")(on_alerts)
    app.action(PUBLIC_ACTION)(on_public)
    app.view(PUBLIC_MODAL)(on_public_submit)
    app.action(PUBLIC_RESOLVE_ACTION)(on_public_resolve)
    app.action(re.compile(f"^{URL_ACTION}_"))(on_link)


def _input(values: dict[str, Any], block: str) -> str:
    value = values.get(block, {}).get("value", {}).get("value")
    return value if isinstance(value, str) else ""
