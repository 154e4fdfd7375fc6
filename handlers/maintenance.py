"""``/maintenance`` (windows: schedule, list, start, done, cancel; a form for scheduling), the buttons on a
window's message, and ``/eks`` (upgrade pre-checks and the upgrade offer). Scheduling, starting, closing and
cancelling are for operators; the checklist, rollout status and smoke tests for responders."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.blocks.block_elements import DatePickerElement, TimePickerElement
from slack_sdk.models.views import View

from bot.core.errors import UserError
from bot.core.permissions import Actor
from bot.core.text import escape
from bot.maintenance import parse
from bot.maintenance.model import parse_ref
from bot.maintenance.render import (
    CANCEL_ACTION,
    DONE_ACTION,
    ROLLOUT_ACTION,
    SMOKE_ACTION,
    START_ACTION,
    STEP_ACTION,
    span,
)
from handlers.guard import acked, answer, ephemeral, first_action, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

SCHEDULE_FORM = "mw_schedule"
FORM_FIELDS = ("title", "date", "time", "duration", "cluster", "nodes", "services")


def schedule_form() -> View:
    def text(
        block: str, label: str, *, optional: bool = False, hint: str | None = None, initial: str | None = None
    ) -> InputBlock:
        return InputBlock(
            block_id=block,
            label=label,
            optional=optional,
            hint=hint,
            element=PlainTextInputElement(action_id="value", initial_value=initial, max_length=500),
        )

    return View(
        type="modal",
        callback_id=SCHEDULE_FORM,
        title="Schedule maintenance",
        submit="Schedule",
        close="Cancel",
        blocks=[
            text("title", "What is being done", hint="Postgres minor upgrade"),
            InputBlock(block_id="date", label="Day", element=DatePickerElement(action_id="value")),
            InputBlock(
                block_id="time", label="Start (on-call time zone)", element=TimePickerElement(action_id="value")
            ),
            text("duration", "Duration", initial="2h", hint="2h, 90m, 1h30m"),
            text("cluster", "Cluster", optional=True),
            text("nodes", "Nodes to cordon", optional=True, hint="node-1,node-2"),
            text("services", "Services", optional=True, hint="production/api-gateway,production/payments"),
        ],
    )


def _value(values: dict[str, Any], block: str) -> str:
    element = (values.get(block) or {}).get("value") or {}
    found = element.get("value") or element.get("selected_date") or element.get("selected_time") or ""
    return str(found).strip()


async def require_operator(svc: Services, actor: Actor, doing: str) -> None:
    if not await svc.access.is_operator(actor.user):
        raise UserError(f"Only operators (permissions.operators) may {doing}.")


def register(app: AsyncApp, svc: Services) -> None:
    windows = svc.maintenance
    tz = ZoneInfo(svc.config.oncall.timezone)
    longest = svc.config.maintenance.max_duration

    def parsed(text: str) -> parse.Command:
        return parse.parse(text, tz=tz, now=svc.clock(), clusters=svc.runbooks.clusters.names, longest=longest)

    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: Any, client: Any) -> None:
        async with guarded("command", "/maintenance", acked(ack)):
            actor = Actor.of_command(command)
            verb = (command.get("text") or "").strip().split(" ", 1)[0].lower()
            if verb in ("schedule", "start", "done", "cancel"):  # who may, before what exactly
                await require_operator(svc, actor, f"{verb} maintenance windows")
            cmd = parsed(command.get("text") or "")
            match cmd:
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.ListWindows():
                    await require_responder(svc, actor, "list maintenance windows")
                    blocks, summary = await windows.listing()
                    await ack(text=summary, blocks=blocks)
                case parse.ScheduleForm():
                    await require_operator(svc, actor, "schedule maintenance")
                    await ack()
                    await client.views_open(trigger_id=command["trigger_id"], view=schedule_form())
                case parse.Schedule():
                    await require_operator(svc, actor, "schedule maintenance")
                    window = await windows.schedule(actor.user, cmd)
                    await ack(text=f"Scheduled *{window.ref}* {escape(window.title)}, {span(window)}; announcing it.")
                    svc.tasks.spawn(windows.announce(window), name=f"{window.ref}-announce")
                case parse.Transition():
                    await require_operator(svc, actor, f"{cmd.verb} maintenance windows")
                    window = await windows.transition(actor.user, cmd)
                    await ack(text=f"*{window.ref}* is {window.state.value}.")
                    svc.tasks.spawn(windows.transitioned(window, actor.user, cmd), name=f"{window.ref}-{cmd.verb}")

    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        values = view.get("state", {}).get("values", {})

        async def reply(text: str) -> None:
            await ack(response_action="errors", errors={"title": text[:150]})

        async with guarded("view", SCHEDULE_FORM, reply):
            await require_operator(svc, Actor.of_body(body), "schedule maintenance")
            errors: dict[str, str] = {}
            fields = {f: _value(values, f) for f in FORM_FIELDS}

            def check(block: str, read: Any) -> Any:
                try:
                    return read()
                except UserError as exc:
                    errors[block] = str(exc)[:150]
                    return None

            start = check("time", lambda: parse.local_time(fields["date"], fields["time"], tz))
            length = check("duration", lambda: parse.window_length(fields["duration"], longest))
            cluster = check(
                "cluster",
                lambda: (
                    parse.cluster_name(fields["cluster"], svc.runbooks.clusters.names) if fields["cluster"] else None
                ),
            )
            nodes = check("nodes", lambda: parse.node_names(fields["nodes"]))
            services = check("services", lambda: parse.service_names(fields["services"]))
            cmd = None
            if start is not None and length is not None and not errors:
                cmd = check(
                    "title",
                    lambda: parse.schedule(
                        start=start,
                        length=length,
                        title=fields["title"],
                        now=svc.clock(),
                        cluster=cluster,
                        nodes=nodes,
                        services=services,
                    ),
                )
            if errors or cmd is None:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            window = await windows.schedule(actor, cmd)
            svc.tasks.spawn(windows.announce(window), name=f"{window.ref}-announce")

    async def on_button(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        clicked = first_action(body)
        action = str(clicked.get("action_id", ""))
        value = str(clicked.get("value", ""))
        actor = Actor.of_body(body)
        reply = ephemeral(respond)
        async with guarded("action", action, reply):
            number_text, _, key = value.partition(":")
            number = parse_ref(number_text)
            if number is None:
                raise UserError("That button does not name a window.")
            if action in (START_ACTION, DONE_ACTION, CANCEL_ACTION):
                verb = {START_ACTION: "start", DONE_ACTION: "done", CANCEL_ACTION: "cancel"}[action]
                await require_operator(svc, actor, f"{verb} maintenance windows")
                cmd = parse.Transition(verb, number)
                await windows.transitioned(await windows.transition(actor.user, cmd), actor.user, cmd)
                return
            await require_responder(svc, actor, "work on maintenance windows")
            if action == STEP_ACTION:
                await reply(await windows.step(actor.user, number, key))
            elif action == ROLLOUT_ACTION:
                await reply("Following the rollouts in the window's thread…")
                svc.tasks.spawn(guard(windows.rollout_status(number), action, reply), name=f"mw-{number}-rollout")
            elif action == SMOKE_ACTION:
                await reply("Running the smoke tests; the results follow in the window's thread…")
                svc.tasks.spawn(
                    guard(windows.smoke_tests(number, actor.user), action, reply), name=f"mw-{number}-smoke"
                )

    async def guard(work: Any, name: str, reply: Any) -> None:
        async with guarded("action", name, reply):
            await work

    async def on_eks(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/eks", acked(ack)):
            actor = Actor.of_command(command)
            cmd = parse.parse_eks(command.get("text") or "", svc.runbooks.clusters.names)
            if isinstance(cmd, parse.Help):
                await ack(text=cmd.text)
                return
            await require_responder(svc, actor, "check EKS upgrades")
            if isinstance(cmd, parse.EksCheck):
                await ack(text=f"Checking whether `{cmd.cluster}` is ready to upgrade…")
                work = svc.eks.check(cmd)
                kind = "ephemeral"
            else:
                await ack(text=f"Checking `{cmd.cluster}` before offering the upgrade to {cmd.version}…")
                work = svc.eks.offer_upgrade(cmd, actor.user, command["channel_id"])
                kind = "in_channel"
            svc.tasks.spawn(answer(respond, lambda: work, "/eks", in_channel=kind == "in_channel"), name="eks")

    app.command("/maintenance")(on_command)
    app.view(SCHEDULE_FORM)(on_form)
    for action in (STEP_ACTION, START_ACTION, DONE_ACTION, CANCEL_ACTION, ROLLOUT_ACTION, SMOKE_ACTION):
        app.action(action)(on_button)
    app.command("/eks")(on_eks)
