"""``/oncall``: who is on call, the hand-off checklist, overrides (operators)."""

from __future__ import annotations

from bot.core.durations import parse_duration
from bot.core.errors import DependencyError, UserError
from bot.core.ids import mentioned_user
from bot.core.permissions import Actor
from bot.core.settings.paging import mask
from bot.core.slack import SLACK_ERRORS
from bot.core.text import user
from bot.oncall import parse as oncall_parse
from bot.oncall.overrides import MAX_OVERRIDE
from bot.oncall.render import (
    COVER_TAKE_ACTION,
    REQUEST_ACCEPT_ACTION,
    REQUEST_DECLINE_ACTION,
    oncall_blocks,
    teams_blocks,
)
from bot.paging.providers import ProviderDown
from bot.paging.testpages import CONFIRM_ACTION
from handlers.kit import Answer, Click, Command, Kit, Replies, Who
from handlers.needs import Needs
from runbooks.kube.names import shown

USAGE = """*`/oncall` commands*
• `/oncall` — who is primary, secondary and lead now, and until when (every team); `/oncall <team>` — one team
• `/oncall handoff [team]` — post the hand-off checklist in the incidents channel (the team's channel)
• `/oncall cover [@user] [4h | until 18:00]` — ask for cover of your current or next shift (in your team's channel,
  or of the person named); the first of the team to take it is on call for exactly that span
• `/oncall swap @user <YYYY-MM-DD>` — propose swapping your shift of that day for their next one
• `/oncall override @user 4h` — make someone primary for a while (operators)
• `/oncall override clear` — end the override (operators)
• `/oncall phone` — your number for SMS and calls (masked); `/oncall phone +14155550101` adds it and texts you a
  code, `/oncall phone verify 123456` confirms it, `/oncall phone remove` forgets it
• `/oncall test` — a test page of yourself by every method (Slack, SMS, call), each to confirm;
  `/oncall test @user` tests someone else (operators)"""

OVERRIDE_FORM = "`/oncall override @user 4h` (or `/oncall override clear`)"


async def oncall(needs: Needs, cmd: Command) -> Answer:
    now = needs.clock()
    roster = needs.roster
    if not cmd.words and len(roster.teams) > 1:
        every = await roster.every(now)
        return Answer(f"On call in {len(every)} teams", teams_blocks(every))
    if not cmd.words or (cmd.verb in roster.teams and len(cmd.words) == 1):
        who = await roster.now(now, cmd.verb or None)
        tests = needs.pager.tests if needs.pager is not None else None
        tested = await tests.lines_of([p for p in (who.primary, who.secondary) if p]) if tests else []
        blocks = oncall_blocks(who, tested)
        if len(roster.teams) > 1:
            blocks = [*teams_blocks([who]), *blocks[1:]]
        return Answer(f"Primary on call: {user(who.primary)}", blocks)
    if cmd.verb == "handoff":
        team, _ = roster.team(cmd.words[1] if len(cmd.words) > 1 else None)
        try:
            await needs.handoff.post(now, trigger="command", team=team)
        except SLACK_ERRORS:
            raise DependencyError(
                "Slack did not accept the hand-off checklist; it is logged. Try again shortly."
            ) from None
        channel = needs.config.team_channel(team) if len(roster.teams) > 1 else needs.config.channels.incidents
        return Answer(f"Posted the hand-off checklist in <#{channel}>.")
    if cmd.verb == "override":
        return Answer(await override(needs, cmd.actor, cmd.words[1:]))
    if cmd.verb == "cover":
        return Answer(await needs.covers.ask(cmd.actor.user, oncall_parse.cover(cmd.words[1:])))
    if cmd.verb == "swap":
        return Answer(await needs.covers.propose_swap(cmd.actor.user, oncall_parse.swap(cmd.words[1:])))
    if cmd.verb == "phone":
        return await phone(needs, cmd.actor.user, cmd.words[1:])
    if cmd.verb == "test":
        return await test(needs, cmd.actor, cmd.words[1:])
    return Answer(USAGE if cmd.verb == "help" else f"`{shown(cmd.verb)}` is not an /oncall command.\n{USAGE}")


async def override(needs: Needs, actor: Actor, args: list[str]) -> str:
    """``@user 4h`` or ``clear`` (the kit checked that ``actor`` is an operator)."""
    if args == ["clear"]:
        return await needs.overrides.clear(actor.user)
    target = mentioned_user(args[0]) if args else None
    if target is None or len(args) != 2:
        raise UserError(f"Write it as {OVERRIDE_FORM}.")
    try:
        duration = parse_duration(args[1])
    except ValueError as exc:
        raise UserError(f"{exc}. Write it as {OVERRIDE_FORM}.") from None
    if duration.days > MAX_OVERRIDE.days:  # 14 days and some hours are still 14 days
        raise UserError(f"Overrides last at most {MAX_OVERRIDE.days} days; change oncall.rotation for longer.")
    return await needs.overrides.set(actor.user, target, duration)


async def phone(needs: Needs, person: str, args: list[str]) -> Answer:
    """Your own number: shown masked, added (a code by SMS), verified, removed. Never shown whole, never in a
    channel (the answers are yours alone)."""
    pager = needs.pager
    if pager is None:
        raise UserError("Paging by SMS and calls is not set up (`paging.twilio` or `paging.sns` in the config).")
    contacts = pager.contacts
    if not args:
        known = await contacts.number(person)
        if known is None:
            return Answer("No number for SMS and calls: add yours with `/oncall phone +14155550101`.")
        return Answer(f"Your number for SMS and calls: {known.shown}.")
    if args == ["remove"]:
        gone = await contacts.remove(person)
        return Answer(f"Forgot your number {gone}." if gone else "You had no number to remove.")
    if args[0] == "verify":
        if len(args) != 2:
            raise UserError("Write it as `/oncall phone verify 123456` (the code sent to you by SMS).")
        shown_number = await contacts.confirm(person, args[1])
        return Answer(f"Verified: {shown_number} gets SMS and calls when you are paged.")
    number, code = await contacts.start(person, "".join(args))

    async def send(replies: Replies) -> None:
        text = f"Your chatops-bot code is {code}. It expires in 10 minutes."
        try:
            await pager.providers.sms(number, text)
        except ProviderDown as exc:
            await replies.private(f":warning: The code could not be sent: {exc}. Try again later.")
            return
        await replies.private(f"Sent a code to {mask(number)}: confirm with `/oncall phone verify <code>`.")

    return Answer(f"Sending a code to {mask(number)}…", later=send, name="/oncall phone")


async def test(needs: Needs, actor: Actor, args: list[str]) -> Answer:
    """A test page by every method: of yourself, or (operators) of someone named."""
    tests = needs.pager.tests if needs.pager is not None else None
    if tests is None:
        raise UserError("Paging by SMS and calls is not set up (`paging.twilio` or `paging.sns` in the config).")
    person = actor.user
    if args:
        named = mentioned_user(args[0]) if len(args) == 1 else None
        if named is None:
            raise UserError("Write it as `/oncall test` (yourself) or `/oncall test @user` (operators).")
        if named != actor.user and not await needs.access.is_operator(actor.user):
            raise UserError("Only operators (`permissions.operators`) test someone else; `/oncall test` tests you.")
        person = named

    async def send(replies: Replies) -> None:
        await replies.private(await tests.start(person, f"<@{actor.user}>"))

    return Answer(f"Sending a test page to {user(person)}…", later=send, name="/oncall test")


async def confirm_test(needs: Needs, click: Click, replies: Replies) -> None:
    """The test page's Confirm button, in the person's own DM."""
    tests = needs.pager.tests if needs.pager is not None else None
    if tests is None or click.value != click.actor.user:
        raise UserError("This test page is someone else's: only they confirm it.")
    if await tests.confirm(click.actor.user, "slack"):
        await replies.private("✅ Test page confirmed: Slack reaches you.")
    else:
        await replies.private("No test page of yours is waiting (it was confirmed, or a newer one was sent).")


async def take_cover(needs: Needs, click: Click, replies: Replies) -> None:
    """A cover request's Take: the first of the team wins; the others are told who took it."""
    await replies.private(await needs.covers.take(click.value, click.actor.user))


async def accept_request(needs: Needs, click: Click, replies: Replies) -> None:
    await replies.private(await needs.covers.answer(click.value, click.actor.user, True))


async def decline_request(needs: Needs, click: Click, replies: Replies) -> None:
    await replies.private(await needs.covers.answer(click.value, click.actor.user, False))


def register(kit: Kit) -> None:
    kit.command(
        "/oncall",
        oncall,
        verbs={"override": (Who.OPERATORS, "override the rotation")},
        known=("", "handoff", "override", "phone", "test", "help", "cover", "swap"),
        blank="",  # the bare command (who is on call now) is counted as "/oncall "
    )
    kit.button(CONFIRM_ACTION, confirm_test, who=Who.ANYONE, doing="confirm a test page")
    kit.button(COVER_TAKE_ACTION, take_cover, who=Who.RESPONDERS, doing="take cover")
    kit.button(REQUEST_ACCEPT_ACTION, accept_request, who=Who.ANYONE, doing="answer a request")
    kit.button(REQUEST_DECLINE_ACTION, decline_request, who=Who.ANYONE, doing="answer a request")
