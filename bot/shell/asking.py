"""Asking the person at the terminal what Slack would let them pick or fill in: a confirm's yes or no, a person from a
picker, an option from a menu, and a form's fields one by one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.shell import render

Ask = Callable[[str], Awaitable[str | None]]


class Questions:
    def __init__(self, *, console: Console, names: render.Names, ask: Ask) -> None:
        self.console = console
        self.names = names
        self.ask = ask

    def say(self, text: str) -> None:
        self.console.print(Text(text, style="yellow"))

    async def confirmed(self, confirm: dict[str, Any]) -> bool:
        """A confirm dialog: its title and text, then y/n."""
        title = (confirm.get("title") or {}).get("text", "Are you sure?")
        said = render.mrkdwn(str((confirm.get("text") or {}).get("text", "")), self.names)
        self.console.print(Text(f"{title} ", style="bold") + said)
        answer = (await self.ask("y/n> ") or "").strip().lower()
        if answer not in ("y", "yes"):
            self.say("Cancelled: nothing was sent.")
            return False
        return True

    async def user(self) -> str | None:
        people = list(self.names.users.items())
        for i, (_, name) in enumerate(people, start=1):
            self.console.print(f"  {i}. @{name}")
        answer = (await self.ask("who> ") or "").strip().lstrip("@").lower()
        for i, (uid, name) in enumerate(people, start=1):
            if answer in (str(i), name.lower(), uid.lower()):
                return uid
        self.say("No one chosen: nothing was sent.")
        return None

    async def option(self, element: dict[str, Any]) -> dict[str, Any] | None:
        choices = render.options(element)
        for i, (_, label) in enumerate(choices, start=1):
            self.console.print(f"  {i}. {label}")
        answer = (await self.ask("choose> ") or "").strip()
        for i, (value, label) in enumerate(choices, start=1):
            if answer in (str(i), label, value):
                return {"value": value, "text": {"type": "plain_text", "text": label}}
        self.say("Nothing chosen: nothing was sent.")
        return None

    async def values(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """Every input of ``view``, field by field, as a submission carries them (None: the person closed it)."""
        title = (view.get("title") or {}).get("text", "Form")
        self.console.print(Text(f"▤ {title} (an empty answer keeps what is shown; '-' cancels)", style="bold"))
        values: dict[str, Any] = {}
        for block in view.get("blocks") or []:
            if block.get("type") == "context":
                self.console.print(Text(" · ").join(render._text(e, self.names, "dim")
                                                     for e in block.get("elements") or []))  # fmt: skip
            if block.get("type") != "input":
                continue
            value = await self.field(block)
            if value is None:
                self.say("Form closed: nothing was sent.")
                return None
            values[str(block.get("block_id"))] = {str(block["element"].get("action_id")): value}
        return values

    async def field(self, block: dict[str, Any]) -> dict[str, Any] | None:
        element = block.get("element") or {}
        label = (block.get("label") or {}).get("text", block.get("block_id"))
        optional = " (optional)" if block.get("optional") else ""
        kind = element.get("type")
        if kind == "plain_text_input":
            initial = str(element.get("initial_value") or "")
            shown = f" [{initial}]" if initial else ""
            answer = await self.ask(f"{label}{optional}{shown}> ")
            if answer is None or answer.strip() == "-":
                return None
            return {"type": kind, "value": answer.strip() or initial}
        if kind in ("static_select", "multi_static_select"):
            choices = render.options(element)
            self.console.print(Text(f"{label}{optional}: ", style="bold") + Text(
                "  ".join(f"{i}. {lab}" for i, (_, lab) in enumerate(choices, start=1))))  # fmt: skip
            answer = await self.ask("choose> ")
            if answer is None or answer.strip() == "-":
                return None
            picked = [choices[int(a) - 1] for a in answer.replace(",", " ").split()
                      if a.isdigit() and 0 < int(a) <= len(choices)]  # fmt: skip
            as_options = [{"value": v, "text": {"type": "plain_text", "text": t}} for v, t in picked]
            if kind == "static_select":
                return {"type": kind, "selected_option": as_options[0] if as_options else None}
            return {"type": kind, "selected_options": as_options}
        if kind == "users_select":
            who = await self.user()
            return None if who is None else {"type": kind, "selected_user": who}
        self.say(f"The shell cannot fill a {kind} field; it is left empty.")
        return {"type": kind}
