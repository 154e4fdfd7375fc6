"""``/oncall``: who is on call, the hand-off checklist, overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.durations import format_duration, parse_duration
from bot.core.errors import DependencyError, UserError
from bot.core.ids import mentioned_user
from bot.core.slack import SLACK_ERRORS
from bot.core.text import user, when
from bot.oncall.render import oncall_blocks
from handlers.guard import acked, guarded

if TYPE_CHECKING:
    from bot.runtime.services import Services

USAGE = """*`/oncall` commands*
• `/oncall` — who is primary, secondary and lead now, and until when
• `/oncall handoff` — post the hand-off checklist in the incidents channel
• `/oncall override @user 4h` — make someone primary for a while (operators)
• `/oncall override clear` — end the override (operators)"""

MAX_OVERRIDE_DAYS = 14


def register(app: AsyncApp, svc: Services) -> None:
    commands = OnCallCommands(svc)
    app.command("/oncall")(commands.on_command)


class OnCallCommands:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        words = (command.get("text") or "").split()
        verb = words[0].lower() if words else ""
        async with guarded(
            "command", f"/oncall {verb if verb in ('', 'handoff', 'override', 'help') else 'other'}", acked(ack)
        ):
            svc = self.svc
            now = svc.clock()
            if not words:
                who = await svc.roster.now(now)
                await ack(text=f"Primary on call: {user(who.primary)}", blocks=oncall_blocks(who))
            elif verb == "handoff":
                try:
                    await svc.handoff.post(now, trigger="command")
                except SLACK_ERRORS:
                    raise DependencyError(
                        "Slack did not accept the hand-off checklist; it is logged. Try again shortly."
                    ) from None
                await ack(text=f"Posted the hand-off checklist in <#{svc.config.channels.incidents}>.")
            elif verb == "override":
                await self._override(ack, command["user_id"], words[1:])
            else:
                await ack(text=USAGE if verb == "help" else f"`{verb[:20]}` is not an /oncall command.\n{USAGE}")

    async def _override(self, ack: AsyncAck, actor: str, args: list[str]) -> None:
        svc = self.svc
        if not await svc.access.is_operator(actor):
            raise UserError("Only operators (permissions.operators) may override the rotation.")
        now = svc.clock()
        if args == ["clear"]:
            await svc.oncall.clear_override(actor, now)
            svc.roster.forget_override()
            await ack(text="Override cleared: the rotation decides again.")
            await self._announce(f"{user(actor)} cleared the on-call override; the rotation decides again.")
            return
        form = "`/oncall override @user 4h` (or `/oncall override clear`)"
        target = mentioned_user(args[0]) if args else None
        if target is None or len(args) != 2:
            raise UserError(f"Write it as {form}.")
        try:
            duration = parse_duration(args[1])
        except ValueError as exc:
            raise UserError(f"{exc}. Write it as {form}.") from None
        if duration.days > MAX_OVERRIDE_DAYS:
            raise UserError(f"Overrides last at most {MAX_OVERRIDE_DAYS} days; change oncall.rotation for longer.")
        await ack(text=await self.set_override(actor, target, duration))

    async def set_override(self, actor: str, target: str, duration: timedelta) -> str:
        """Make ``target`` primary for ``duration`` (the caller checked ``actor`` is an operator); announced."""
        svc = self.svc
        now = svc.clock()
        until = now + duration
        await svc.oncall.set_override(target, until, actor, now)
        svc.roster.forget_override()
        await self._announce(f"{user(actor)} made {user(target)} primary on call until {when(until)}.")
        return f"{user(target)} is primary on call until {when(until)} ({format_duration(duration)})."

    async def _announce(self, text: str) -> None:
        self.svc.tasks.spawn(
            self.svc.client.chat_postMessage(channel=self.svc.config.channels.incidents, text=text),
            name="oncall-news",
        )
