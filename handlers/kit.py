"""The listener kit: a command, button, form or event declares who may use it, what to say while it works and its
slow part; the kit acknowledges Slack within its 3 seconds, checks who is asking (from the signed request, never a
button's value), turns every failure into a reply through ``handlers.guard`` and runs the slow part in the
background, tracked so shutdown waits for it.

Callbacks are plain module-level functions of what the listener needs (``handlers.needs.Needs``) and the request:

- a command's ``(needs, Command) -> Answer``: the answer's text goes in the acknowledgement, its ``later`` part
  runs after it and answers through the command's response URL;
- a button's ``(needs, Click, Replies) -> None``, run after the acknowledgement;
- a form's ``(needs, Submission) -> Submitted``: errors per field, or nothing and the ``later`` part;
- an event's ``(needs, event) -> None``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core import words
from bot.core.errors import UserError
from bot.core.permissions import Actor, Who
from bot.core.slack import SLACK_ERRORS
from handlers.guard import Reply, acked, guarded
from handlers.needs import Needs

__all__ = ["Answer", "Click", "Command", "Kit", "Replies", "Submission", "Submitted", "Who", "open_form"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A slash command as typed (from the signed payload)."""

    name: str
    text: str
    actor: Actor
    channel: str
    trigger_id: str

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Command:
        return cls(
            name=str(payload.get("command") or ""),
            text=str(payload.get("text") or ""),
            actor=Actor.of_command(payload),
            channel=str(payload.get("channel_id") or ""),
            trigger_id=str(payload.get("trigger_id") or ""),
        )

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def verb(self) -> str:
        """The first word, lower case ("" when there is none)."""
        return words.verb(self.words)[0][:20] if self.words else ""


@dataclass(frozen=True)
class Click:
    """A click on a button or a pick in a menu of a message or the App Home."""

    action_id: str
    value: str
    block_id: str
    actor: Actor
    trigger_id: str
    channel: str | None = None  # None on the App Home
    message_ts: str | None = None
    thread_ts: str | None = None  # the thread the clicked message is a reply in, if it is one
    selected_user: str | None = None
    on_home: bool = False

    @classmethod
    def of(cls, body: dict[str, Any]) -> Click:
        actions = body.get("actions") or [{}]
        clicked = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        container = body.get("container") or {}
        return cls(
            action_id=str(clicked.get("action_id") or ""),
            value=str(clicked.get("value") or ""),
            block_id=str(clicked.get("block_id") or ""),
            actor=Actor.of_body(body),
            trigger_id=str(body.get("trigger_id") or ""),
            channel=str((body.get("channel") or {}).get("id") or "") or None,
            message_ts=str(container.get("message_ts") or "") or None,
            thread_ts=str(container.get("thread_ts") or (body.get("message") or {}).get("thread_ts") or "") or None,
            selected_user=str(clicked.get("selected_user") or "") or None,
            on_home=container.get("type") == "view" or not body.get("response_url"),
        )


@dataclass(frozen=True)
class Submission:
    """A form submitted: each input by its block id."""

    callback_id: str
    actor: Actor
    private_metadata: str
    values: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any], view: dict[str, Any]) -> Submission:
        return cls(
            callback_id=str(view.get("callback_id") or ""),
            actor=Actor.of_body(body),
            private_metadata=str(view.get("private_metadata") or ""),
            values=(view.get("state") or {}).get("values") or {},
        )

    def _element(self, block: str) -> dict[str, Any]:
        found = (self.values.get(block) or {}).get("value") or {}
        return found if isinstance(found, dict) else {}

    def text(self, block: str) -> str:
        """A text input (or a date or time picker) as typed, "" when empty."""
        element = self._element(block)
        found = element.get("value") or element.get("selected_date") or element.get("selected_time") or ""
        return found if isinstance(found, str) else ""

    def choice(self, block: str) -> str | None:
        option = self._element(block).get("selected_option") or {}
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def choices(self, block: str) -> list[str]:
        options = self._element(block).get("selected_options") or []
        return [str(o.get("value")) for o in options if isinstance(o, dict) and o.get("value") is not None]


class Replies:
    """How work after the acknowledgement answers: privately (ephemeral, below what was typed or clicked; a DM for a
    click on the App Home, which has no response URL), or for the whole channel."""

    def __init__(self, respond: Any, needs: Needs, user: str, *, direct: bool = False) -> None:
        self.respond = respond
        self.needs = needs
        self.user = user
        self.direct = direct

    async def private(self, text: str, blocks: Sequence[Block] | None = None) -> None:
        if self.direct:
            await self.needs.client.chat_postMessage(channel=self.user, text=text, blocks=blocks)
            return
        await self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    async def public(self, text: str, blocks: Sequence[Block] | None = None) -> None:
        if self.direct:
            await self.private(text, blocks)
            return
        await self.respond(text=text, blocks=blocks, response_type="in_channel", replace_original=False)


Later = Callable[[Replies], Awaitable[object]]
Report = Callable[[], Awaitable[tuple[list[Any], str]]]


@dataclass(frozen=True)
class Answer:
    """What a command says in its acknowledgement, and what it does after."""

    text: str = ""
    blocks: Sequence[Block] | None = None
    later: Later | None = None
    name: str = ""  # of the later part in the request metrics, a fixed word (default: the command's)
    kind: str = "command"  # of the later part, in the request metrics
    task: str = ""  # of the later part among the tasks shutdown waits for ("announce-INC-7"; default: ``name``)

    @classmethod
    def report(cls, text: str, produce: Report, *, name: str, public: bool = False) -> Answer:
        """Say ``text`` now; then build the report (its blocks and summary) and post it privately or publicly."""

        async def later(replies: Replies) -> None:
            blocks, summary = await produce()
            await (replies.public if public else replies.private)(summary, blocks)

        return cls(text, later=later, name=name)

    @classmethod
    def form(cls, view: View, trigger_id: str, *, instead: str, name: str) -> Answer:
        """Open a form after the acknowledgement (views.open may be slow; Slack's 3 seconds hold for the ack); when
        Slack does not open it, say privately what to type ``instead``."""

        async def later(replies: Replies) -> None:
            try:
                await open_form(replies.needs, trigger_id, view, instead=instead)
            except UserError as exc:
                await replies.private(str(exc))

        return cls(later=later, name=name)


async def open_form(needs: Needs, trigger_id: str, view: View, *, instead: str) -> None:
    """views.open; when Slack does not open the form (a trigger expires in 3 s), a UserError saying what to type
    ``instead``."""
    try:
        await needs.client.views_open(trigger_id=trigger_id, view=view)
    except SLACK_ERRORS as exc:
        log.warning("views.open failed: %s", type(exc).__name__)
        raise UserError(f"Slack did not open the form in time. {instead}") from None


@dataclass(frozen=True)
class Submitted:
    """A form's answer: errors by block id (the form stays open), or none and what follows."""

    errors: dict[str, str] = field(default_factory=dict)
    later: Callable[[], Coroutine[Any, Any, object]] | None = None
    name: str = "form"


CommandCallback = Callable[[Needs, Command], Awaitable[Answer]]
ClickCallback = Callable[[Needs, Click, Replies], Awaitable[None]]
FormCallback = Callable[[Needs, Submission], Awaitable[Submitted]]
EventCallback = Callable[[Needs, dict[str, Any]], Awaitable[None]]
Rule = tuple[Who, str]  # who may, and what they would be doing ("acknowledge incidents")


async def _nobody(text: str) -> None:
    """Events have no one to answer privately; failures are logged and counted by the guard."""


class Kit:
    def __init__(self, app: AsyncApp, needs: Needs) -> None:
        self.app = app
        self.needs = needs

    def command(
        self,
        name: str,
        callback: CommandCallback,
        *,
        who: Who = Who.ANYONE,
        doing: str = "",
        verbs: Mapping[str, Rule] | None = None,
        known: Sequence[str] = (),
        blank: str = "help",
    ) -> None:
        """``/name``: ``who`` may use it (``doing`` says what, in a refusal); ``verbs`` give other rules by first word,
        checked before the rest is read. ``known``: the verbs counted by name in the request metrics (the bare command
        as ``blank``)."""
        rules = dict(verbs or {})

        async def listener(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
            cmd = Command.of(command)
            verb = cmd.verb or blank
            metric = f"{name} {verb if verb in known else 'other'}" if known else name
            async with guarded("command", metric, acked(ack)):
                rule_who, rule_doing = rules.get(cmd.verb, (who, doing))
                await self.needs.access.require(rule_who, cmd.actor, rule_doing)
                answer = await callback(self.needs, cmd)
                if answer.text or answer.blocks:
                    await ack(text=answer.text, blocks=answer.blocks)
                else:
                    await ack()
                if answer.later is not None:
                    replies = Replies(respond, self.needs, cmd.actor.user)
                    later = self._later(answer.kind, answer.name or metric, answer.later, replies)
                    self.needs.tasks.spawn(later, name=answer.task or answer.name or metric)

        self.app.command(name)(listener)

    def button(
        self,
        action: str | re.Pattern[str],
        callback: ClickCallback,
        *,
        who: Who = Who.RESPONDERS,
        doing: str = "",
        metric: str | None = None,
    ) -> None:
        """A button (or menu) ``action``: acknowledged at once; ``callback`` runs after, for ``who``."""
        name = metric or (action if isinstance(action, str) else action.pattern.strip("^$"))

        async def listener(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
            await ack()
            click = Click.of(body)
            replies = Replies(respond, self.needs, click.actor.user, direct=click.on_home)

            async def run(replies: Replies) -> None:
                await self.needs.access.require(who, click.actor, doing)
                await callback(self.needs, click, replies)

            self.needs.tasks.spawn(self._later("action", name, run, replies), name=f"click {name}")

        self.app.action(action)(listener)

    def form(
        self, callback_id: str, callback: FormCallback, *, who: Who = Who.ANYONE, doing: str = "", field: str
    ) -> None:
        """A modal's submission: refusals and failures are shown on ``field``; ``callback`` decides the rest."""

        async def listener(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
            async def reply(text: str) -> None:
                await ack(response_action="errors", errors={field: text[:150]})

            async with guarded("view", callback_id, reply):
                submission = Submission.of(body, view)
                await self.needs.access.require(who, submission.actor, doing)
                submitted = await callback(self.needs, submission)
                if submitted.errors:
                    await ack(response_action="errors", errors=submitted.errors)
                    return
                await ack()
                if submitted.later is not None:
                    self.needs.tasks.spawn(submitted.later(), name=submitted.name)

        self.app.view(callback_id)(listener)

    def event(self, name: str, callback: EventCallback) -> None:
        async def listener(event: dict[str, Any]) -> None:
            async with guarded("event", name, _nobody):
                await callback(self.needs, event)

        self.app.event(name)(listener)

    def link(self, action: str | re.Pattern[str]) -> None:
        """A link button: Slack opens its URL and still tells the app, which only acknowledges."""

        async def listener(ack: AsyncAck) -> None:
            await ack()

        self.app.action(action)(listener)

    async def _later(self, kind: str, name: str, work: Later, replies: Replies) -> None:
        reply: Reply = replies.private
        async with guarded(kind, name, reply):
            await work(replies)
