"""The shell's conversation: what a person types becomes the signed request Slack would send (a slash command, a
button click, a modal submission); what the bot sends back through the Slack stand-in is shown as it happens.

Lines: ``/command text``; ``click <n>|<label>`` on the last message's buttons (a confirm asks y/n, a picker lists
its options, a modal is filled field by field); ``as @alice``; ``in #channel``; ``dms``; ``wait 15m`` (moves the
bot's clock); ``help``; ``quit``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from rich.console import Console
from rich.text import Text

from bot.core.clock import MovableClock
from bot.core.durations import parse_duration
from bot.shell import render, wire
from bot.shell.asking import Ask, Questions
from bot.shell.running import MAX_DEADLINE_STOPS, SETTLE_MAX, Running
from bot.shell.slack import TEAM, Event, Message, SlackStandIn

HELP = """Type what you would type in Slack, one line at a time:
  /incident open P1 Checkout API returns 500s   a slash command (any of the bot's: /incident, /oncall, /health, …)
  click 1   or   click Acknowledge              a button of the last message shown (confirms ask y/n)
  as @alice                                     act as someone else (permissions apply)
  in #incidents                                 type in another channel (an incident's own channel too)
  dms                                           the current person's direct messages (pages)
  home                                          the app's Home tab, as the current person sees it
  wait 15m                                      move the bot's clock on (escalation, reminders)
  fire 1                                        (shell --demo) the demo's Alertmanager sends firing group 1
  help, quit (or Ctrl-D)"""

QUIET = 0.05  # the bot is done answering when it has no work left and Slack has heard nothing for this long


@dataclass
class Shown:
    message: Message
    clickables: list[render.Clickable] = field(default_factory=list)


class Shell:
    def __init__(
        self,
        *,
        slack: SlackStandIn,
        bot: Callable[[], Awaitable[tuple[str, Running]]],
        http: aiohttp.ClientSession,
        secret: str,
        names: render.Names,
        me: str,
        channel: str,
        clock: MovableClock,
        console: Console,
        ask: Ask,
        extra: Mapping[str, Callable[[Shell, str], Awaitable[None]]] | None = None,
    ) -> None:
        self.slack = slack
        self.extra = dict(extra or {})  # more words, such as the demo platform's ``fire``
        self._bot = bot  # the bot starts behind the prompt: its URL and itself, once it is up
        self.bot_url = ""
        self.running: Running | None = None
        self.http = http
        self.signer = wire.Signer(secret)
        self.names = names
        self.user = me
        self.channel = channel
        self.clock = clock
        self.console = console
        self.ask = ask
        self.questions = Questions(console=console, names=names, ask=ask)
        self.last: Shown | None = None
        self.modal: dict[str, Any] | None = None
        self.heard = time.monotonic()

    # What the bot sends ------------------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Called by the Slack stand-in for every post, edit, ephemeral reply, modal and file."""
        self.heard = time.monotonic()
        if event.kind == "modal":
            self.modal = event.view
            return
        if event.kind == "channel":
            self.console.print(Text(f"＋ {event.detail}", style="dim"))
            return
        if event.kind == "published":
            if event.detail == self.user and event.view:
                home = Message("home", self.slack.next_ts(), "App Home", list(event.view.get("blocks") or []))
                home.kind = "home"
                self.show(home)
            return
        message = event.message
        if message is None:
            return
        if message.kind == "ephemeral" and message.user not in (self.user, None):
            return  # only its reader sees it
        self.show(message, updated=event.kind == "updated")

    def show(self, message: Message, *, updated: bool = False) -> None:
        body, clickables = render.blocks(message.blocks, self.names, message.text)
        where = self.names.channel(message.channel)
        if message.kind == "home":
            head = f"⌂ App Home of {self.names.user(self.user)}"
        elif message.kind == "ephemeral":
            head = f"{where} · only you see this"
        elif updated:
            head = f"✎ {where} · message updated"
        elif message.thread_ts:
            head = f"{where} · ↳ in thread"
        else:
            head = where
        indent = "    " if message.thread_ts and not updated else ""
        self.console.print(Text(indent + head, style="dim"))
        for line in body.split("\n"):
            self.console.print(Text(indent) + line)
        if clickables:
            self.last = Shown(message, clickables)

    # What the person types ---------------------------------------------------------------------------------------
    async def handle(self, line: str) -> bool:
        """One line of input; False when the person is done."""
        text = line.strip()
        if not text:
            return True
        word, _, rest = text.partition(" ")
        try:
            if text.startswith("/"):
                await self.command(word, rest.strip())
            elif word == "click":
                await self.click(rest.strip())
            elif word == "as":
                self.switch_user(rest.strip())
            elif word == "in":
                self.switch_channel(rest.strip())
            elif word == "dms":
                self.dms()
            elif word == "home":
                await self.home()
            elif word == "wait":
                await self.wait(rest.strip())
            elif word in self.extra:
                await self.extra[word](self, rest.strip())
            elif word in ("quit", "exit"):
                return False
            elif word in ("help", "?"):
                self.console.print(HELP)
            else:
                self.say(f"“{text[:60]}” is not something Slack would send. Type help.")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.say(f"the bot did not answer ({type(exc).__name__})")
        return True

    def say(self, text: str) -> None:
        self.console.print(Text(text, style="yellow"))

    def switch_user(self, who: str) -> None:
        name = who.lstrip("@").lower()
        found = next((uid for uid, n in self.names.users.items() if n.lower() == name or uid.lower() == name), None)
        if found is None:
            known = ", ".join(f"@{n}" for n in self.names.users.values())
            self.say(f"No one called {who[:40]!r} here. People: {known}")
            return
        self.user = found
        self.say(f"You are {self.names.user(found)} now.")

    def switch_channel(self, where: str) -> None:
        name = where.lstrip("#").lower()
        found = next((cid for cid, n in self.names.channels.items() if n.lower() == name or cid.lower() == name), None)
        if found is None:
            known = ", ".join(f"#{n}" for n in self.names.channels.values())
            self.say(f"No channel {where[:40]!r}. Channels: {known}")
            return
        self.channel = found
        self.say(f"Typing in #{self.names.channels[found]} now.")

    def dms(self) -> None:
        mine = [m for (channel, _), m in self.slack.messages.items() if channel == "D" + self.user[1:]]
        if not mine:
            self.say(f"No direct messages for {self.names.user(self.user)}.")
        for message in mine:
            self.show(message)

    async def home(self) -> None:
        """Open the app's Home tab: Slack sends app_home_opened, the bot publishes the view."""
        opened = {
            "type": "app_home_opened",
            "user": self.user,
            "channel": "D" + self.user[1:],
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        await self.post(wire.event(opened, team=TEAM), wire.JSON)
        await self.settle()

    async def wait(self, text: str) -> None:
        try:
            step = parse_duration(text)
        except ValueError:
            self.say("Write it like: wait 15m (or 90s, 2h)")
            return
        if step <= timedelta() or step > timedelta(days=30):
            self.say("Wait between 1s and 30d.")
            return
        running = await self._up()
        every = await running.wait(self.clock, step, self.settle)  # what falls due meanwhile goes out, as it would
        self.say(f"⏩ The bot's clock is now {self.clock():%a %d %b %H:%M UTC} ({text} later).")
        if not every:
            self.say(f"After {MAX_DEADLINE_STOPS} deadlines in this wait the clock moved an hour at a time: later "
                     "pages and reminders went out at the hour after they fell due.")  # fmt: skip

    # Requests as Slack sends them --------------------------------------------------------------------------------
    async def post(self, body: str, content_type: str) -> tuple[int, str]:
        await self._up()  # a line typed while the bot starts waits for it
        headers = self.signer.headers(body, content_type)
        async with self.http.post(f"{self.bot_url}/slack/events", data=body.encode(), headers=headers) as resp:
            answer = resp.status, await resp.text()
        self.heard = time.monotonic()  # what the bot does next is waited for from here
        return answer

    def _response_url(self, message_ts: str | None = None, channel: str | None = None) -> str:
        return self.slack.response_url(uuid.uuid4().hex, self.user, channel or self.channel, message_ts)

    async def command(self, command: str, text: str) -> None:
        self.modal = None
        body = wire.command(
            command=command,
            text=text,
            user=self.user,
            channel=self.channel,
            response_url=self._response_url(),
            team=TEAM,
            user_name=self.names.users.get(self.user, self.user),
            channel_name=self.names.channels.get(self.channel, self.channel),
            app="A0SHELL",
        )
        status, answer = await self.post(body, wire.FORM)
        self.acknowledged(status, answer)
        await self.settle()
        await self.fill_modal()

    def acknowledged(self, status: int, answer: str) -> None:
        """Slack's acknowledgement of a command: shown to the person only."""
        if status != 200:
            self.say(f"Slack would say: the app did not respond ({status}).")
            return
        if not answer.strip():
            return
        try:
            data = json.loads(answer)
        except ValueError:
            data = {"text": answer}
        if isinstance(data, dict) and (data.get("text") or data.get("blocks")):
            blocks = data.get("blocks") if isinstance(data.get("blocks"), list) else []
            self.show(Message(self.channel, self.slack.next_ts(), str(data.get("text") or ""), blocks or [],
                              user=self.user, kind="ephemeral"))  # fmt: skip

    async def click(self, which: str) -> None:
        if self.last is None:
            self.say("Nothing to click yet: no message with buttons has been shown.")
            return
        chosen = None
        if which.isdigit():
            chosen = next((c for c in self.last.clickables if c.number == int(which)), None)
        elif which:
            chosen = next((c for c in self.last.clickables if c.label.lower() == which.lower()), None) or next(
                (c for c in self.last.clickables if which.lower() in c.label.lower()), None
            )
        if chosen is None:
            labels = " ".join(f"[{c.number} {c.label}]" for c in self.last.clickables)
            self.say(f"No such button on the last message: {labels}")
            return
        action = await self._action(chosen)
        if action is None:
            return
        message = self.last.message
        home = message.kind == "home"
        body = wire.click(
            action=action,
            user=self.user,
            team=TEAM,
            channel=message.channel,
            message_ts=message.ts,
            response_url=None if home else self._response_url(message.ts, message.channel),
            message={"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
            ephemeral=message.kind == "ephemeral",
            user_name=self.names.users.get(self.user, self.user),
            channel_name=self.names.channels.get(message.channel, message.channel),
            app="A0SHELL",
            thread_ts=message.thread_ts,
        )
        self.modal = None
        status, _ = await self.post(body, wire.FORM)
        if status != 200:
            self.say(f"Slack would say: the app did not respond ({status}).")
        await self.settle()
        await self.fill_modal()

    async def _action(self, chosen: render.Clickable) -> dict[str, Any] | None:
        element = chosen.element
        base = {"action_id": element.get("action_id"), "block_id": chosen.block_id, "type": element.get("type")}
        confirm = element.get("confirm")
        if isinstance(confirm, dict) and not await self.questions.confirmed(confirm):
            return None
        kind = element.get("type")
        if kind == "button":
            if element.get("url"):
                self.console.print(Text(f"Opens {element['url']}", style="dim"))
            return {**base, "value": element.get("value", ""), "text": element.get("text")}
        if kind == "users_select":
            who = await self.questions.user()
            return None if who is None else {**base, "selected_user": who}
        if kind == "static_select":
            picked = await self.questions.option(element)
            return None if picked is None else {**base, "selected_option": picked}
        self.say(f"The shell cannot use a {kind} element.")
        return None

    # Modals --------------------------------------------------------------------------------------------------------
    async def fill_modal(self) -> None:
        """A modal the bot opened, filled in field by field, then submitted as Slack submits it."""
        for _ in range(3):  # the bot may answer with errors: fix those fields and submit again
            view = self.modal
            if not view:
                return
            self.modal = None
            values = await self.questions.values(view)
            if values is None:
                return
            _status, answer = await self._submit(view, values)
            errors: dict[str, str] = {}
            if answer.strip():
                try:
                    errors = json.loads(answer).get("errors") or {}
                except ValueError:
                    errors = {}
            if not errors:
                await self.settle()
                return
            for block_id, error in errors.items():
                self.say(f"{block_id}: {error}")
            self.modal = view
        self.say("Form not accepted after three tries.")

    async def _submit(self, view: dict[str, Any], values: dict[str, Any]) -> tuple[int, str]:
        body = wire.submission(
            view={**view, "id": "V0SHELL"}, values=values, user=self.user, team=TEAM,
            user_name=self.names.users.get(self.user), app="A0SHELL",
        )  # fmt: skip
        return await self.post(body, wire.FORM)

    # Waiting for the bot -------------------------------------------------------------------------------------------
    async def _up(self) -> Running:
        if self.running is None:
            self.bot_url, self.running = await self._bot()
        return self.running

    async def settle(self, quiet: float = QUIET) -> None:
        """Until the bot has no work left and Slack has heard nothing from it for ``quiet`` (its work after the
        acknowledgement shows up meanwhile)."""
        deadline = time.monotonic() + SETTLE_MAX
        await asyncio.sleep(0.01)
        while time.monotonic() < deadline:
            idle = self.running is None or not self.running.busy()
            if idle and time.monotonic() - self.heard >= quiet:
                return
            await asyncio.sleep(0.01)
