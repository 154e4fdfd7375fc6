"""``/runbook`` and ``/rollback``, the buttons of their offers (and of every other offer: restores, node changes,
upgrades, renewals), and the announcement's Runbooks button.

Read-only steps run after the 3-second ack and their report is posted where the command was typed; mutating steps
are offered as buttons, carried out by ``bot.operations.execute`` (operators only, once, audited: the executor
checks, so it can audit a refusal), then followed in the clicked message's thread.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.errors import DependencyError
from bot.incidents.render import RUNBOOKS_ACTION
from bot.operations.follow import ThreadSink
from bot.operations.offered import CHANGE_ACTION_PREFIX, LEGACY_CHANGE_ACTION_PREFIX
from bot.operations.render import next_offers_blocks
from bot.operations.run import Request
from handlers.kit import Answer, Click, Command, Kit, Replies, Who
from handlers.needs import Needs

# offer_<kind>, offer_<kind>:<key> (several of a kind in one block), and runbook_<kind> of older offers
OFFER_ACTIONS = re.compile(
    rf"^(?:{CHANGE_ACTION_PREFIX}|{LEGACY_CHANGE_ACTION_PREFIX})[a-z0-9_-]+(?::[a-z0-9._-]{{1,64}})?$"
)


def _run(needs: Needs, request: Request, cmd: Command) -> Answer:
    async def later(replies: Replies) -> None:
        async def publish(blocks: list[Any], summary: str, in_channel: bool) -> None:
            await (replies.public if in_channel else replies.private)(summary, blocks)

        await needs.runbooks.run(request, channel=cmd.channel, user=cmd.actor.user, publish=publish)

    return Answer(needs.runbooks.starting(request), later=later, name=request.book.name, kind="runbook")


async def runbook(needs: Needs, cmd: Command) -> Answer:
    runner = needs.runbooks
    words = cmd.words
    if not words or words[0] in ("list", "help", "--help"):
        return Answer(runner.listing())
    book, rest = runner.find(words[0]), words[1:]
    if rest in (["--help"], ["help"]):
        return Answer(runner.help(book))
    return _run(needs, runner.request(book, rest), cmd)


async def rollback(needs: Needs, cmd: Command) -> Answer:
    book = needs.runbooks.find("rollback")
    if not cmd.words:
        return Answer(needs.runbooks.help(book))
    return _run(needs, needs.runbooks.request(book, cmd.words), cmd)


async def carry_out(needs: Needs, click: Click, replies: Replies) -> None:
    """An offer's button: carried out (or refused) for whoever clicked, then followed in the message's thread."""
    done = await needs.executor.execute(click.value, click.actor.user)
    await replies.public(done.text)
    if not done.change.followed:
        return
    # followed in the clicked message's thread (the thread it is a reply in, for a report posted in an incident's)
    sink = ThreadSink(needs.client, click.channel or "", click.thread_ts or click.message_ts or "", replies.public)
    outcome = await needs.follower.follow_change(done.change, done.site, sink)
    try:
        following = await needs.executor.follow_ups(done, outcome)
    except DependencyError as exc:  # the change is made and said; only what it offers next is missing
        await replies.private(
            f":warning: The {done.change.label} is made, but what it offers next could not be prepared: {exc}. "
            "Run the command again to have it offered."
        )
        return
    if following:
        blocks = next_offers_blocks(done.change, following)
        await sink.post(f"Next, after the {done.change.label}: {len(following)} offer(s)", blocks)


async def runbooks_button(needs: Needs, click: Click, replies: Replies) -> None:
    """The announcement's Runbooks button: what can be run, and how."""
    await replies.private(needs.runbooks.listing())


def register(kit: Kit) -> None:
    kit.command("/runbook", runbook, who=Who.RESPONDERS, doing="run runbooks")
    kit.command("/rollback", rollback, who=Who.RESPONDERS, doing="run runbooks")
    kit.button(OFFER_ACTIONS, carry_out, who=Who.ANYONE, metric="offer")
    kit.button(RUNBOOKS_ACTION, runbooks_button, who=Who.ANYONE)
