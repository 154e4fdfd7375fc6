"""``/runbook`` and ``/rollback``, the action buttons of their offers, and the announcement's Runbooks button.

Read-only steps run at once (after the 3-second ack) and their report is posted where the command was
typed; mutating steps are offered as buttons, carried out by ``bot.operations.execute`` (operators only,
once, audited), then the rollout is followed in the clicked message's thread.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.permissions import Actor
from bot.incidents.render import RUNBOOKS_ACTION
from bot.operations.follow import ThreadSink
from bot.operations.render import CHANGE_ACTION_PREFIX, next_offers_blocks
from bot.operations.run import Request
from handlers.guard import acked, ephemeral, first_action, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services

CHANGE_ACTIONS = re.compile(rf"^{CHANGE_ACTION_PREFIX}[a-z0-9_-]+$")


def register(app: AsyncApp, svc: Services) -> None:
    runner = svc.runbooks

    async def start(ack: AsyncAck, command: dict[str, Any], respond: Any, name: str, words: list[str]) -> None:
        async with guarded("command", name, acked(ack)):
            await require_responder(svc, Actor.of_command(command), "run runbooks")
            if name == "/runbook":
                if not words or words[0] in ("list", "help", "--help"):
                    await ack(text=runner.listing())
                    return
                book, words = runner.find(words[0]), words[1:]
                if words in (["--help"], ["help"]):
                    await ack(text=runner.help(book))
                    return
            else:
                book = runner.find("rollback")
                if not words:
                    await ack(text=runner.help(book))
                    return
            request = runner.request(book, words)
            await ack(text=runner.starting(request))
            svc.tasks.spawn(run(request, command, respond), name=f"runbook-{book.name}")

    async def run(request: Request, command: dict[str, Any], respond: Any) -> None:
        async def publish(blocks: list[Any], summary: str, in_channel: bool) -> None:
            kind = "in_channel" if in_channel else "ephemeral"
            await respond(text=summary, blocks=blocks, response_type=kind, replace_original=False)

        async with guarded("runbook", request.book.name, ephemeral(respond)):
            await runner.run(request, channel=command["channel_id"], user=command["user_id"], publish=publish)

    async def on_runbook(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        await start(ack, command, respond, "/runbook", (command.get("text") or "").split())

    async def on_rollback(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        await start(ack, command, respond, "/rollback", (command.get("text") or "").split())

    async def on_change_click(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        svc.tasks.spawn(execute(body, respond), name="runbook-change")

    async def execute(body: dict[str, Any], respond: Any) -> None:
        clicked = first_action(body)
        async with guarded("action", str(clicked.get("action_id", "change")), ephemeral(respond)):
            done = await svc.executor.execute(str(clicked.get("value", "")), body["user"]["id"])
            await respond(text=done.text, response_type="in_channel", replace_original=False)

            async def fallback(text: str, blocks: list[Any] | None = None) -> None:
                await respond(text=text, blocks=blocks, response_type="in_channel", replace_original=False)

            if not done.change.followed:
                return
            channel = str((body.get("channel") or {}).get("id") or "")
            thread = str((body.get("container") or {}).get("message_ts") or "")
            sink = ThreadSink(svc.client, channel, thread, fallback)
            outcome = await svc.follower.follow_change(done.change, done.site, sink)
            following = await svc.executor.follow_ups(done, outcome)
            if following:
                blocks = next_offers_blocks(done.change, following)
                await sink.post(f"Next, after the {done.change.label}: {len(following)} offer(s)", blocks)

    async def on_runbooks_button(ack: AsyncAck, respond: Any) -> None:
        """The announcement's Runbooks button: what can be run, and how."""
        await ack()
        await ephemeral(respond)(runner.listing())

    app.command("/runbook")(on_runbook)
    app.command("/rollback")(on_rollback)
    app.action(CHANGE_ACTIONS)(on_change_click)
    app.action(RUNBOOKS_ACTION)(on_runbooks_button)
