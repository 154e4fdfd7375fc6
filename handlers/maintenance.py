"""``/maintenance`` (windows: schedule, list, start, done, cancel; a form for scheduling), the buttons on a
window's message, and ``/eks`` (upgrade pre-checks and the upgrade offer). Scheduling, starting, closing and
cancelling are for operators; the checklist, rollout status and smoke tests for responders."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bot.core.errors import UserError
from bot.core.text import escape
from bot.maintenance import parse
from bot.maintenance.model import parse_ref
from bot.maintenance.render import (
    CANCEL_ACTION,
    DONE_ACTION,
    ROLLOUT_ACTION,
    SCHEDULE_FORM,
    SMOKE_ACTION,
    START_ACTION,
    STEP_ACTION,
    schedule_form,
    span,
)
from handlers.kit import Answer, Click, Command, Kit, Replies, Submission, Submitted, Who
from handlers.needs import Needs

STEP_ACTIONS = re.compile(rf"^{STEP_ACTION}(?::[a-z0-9_-]{{1,64}})?$")  # mw_step:<step>; bare mw_step of older messages
TRANSITIONS = {START_ACTION: "start", DONE_ACTION: "done", CANCEL_ACTION: "cancel"}
OPERATORS = {verb: (Who.OPERATORS, f"{verb} maintenance windows") for verb in ("schedule", "start", "done", "cancel")}


async def maintenance(needs: Needs, cmd: Command) -> Answer:
    windows = needs.maintenance
    longest = needs.config.maintenance.max_duration
    tz = ZoneInfo(needs.config.oncall.timezone)
    parsed = parse.parse(cmd.text, tz=tz, now=needs.clock(), clusters=needs.runbooks.clusters.names, longest=longest)
    match parsed:
        case parse.Help(text=text):
            return Answer(text)
        case parse.ListWindows():
            await needs.access.require(Who.RESPONDERS, cmd.actor, "list maintenance windows")
            blocks, summary = await windows.listing()
            return Answer(summary, blocks)
        case parse.ScheduleForm():
            return Answer.form(
                schedule_form(),
                cmd.trigger_id,
                instead="Use `/maintenance schedule <YYYY-MM-DD> <HH:MM> <duration> <title>`.",
                name="schedule-form",
            )
        case parse.Schedule():
            window = await windows.schedule(cmd.actor.user, parsed)

            async def announce(replies: Replies) -> None:
                await windows.messages.announce(window)

            scheduled = f"Scheduled *{window.ref}* {escape(window.title)}, {span(window)}; announcing it."
            return Answer(scheduled, later=announce, name="maintenance-announce", task=f"{window.ref}-announce")
        case parse.Transition():
            moved = await windows.transition(cmd.actor.user, parsed)

            async def follow(replies: Replies) -> None:
                await windows.transitioned(moved, cmd.actor.user, parsed)

            return Answer(f"*{moved.ref}* is {moved.state.value}.", later=follow, name=f"maintenance-{parsed.verb}",
                          task=f"{moved.ref}-{parsed.verb}")  # fmt: skip
    raise AssertionError("every /maintenance command is handled")


async def schedule_submitted(needs: Needs, form: Submission) -> Submitted:
    fields = {f: form.text(f).strip() for f in parse.FORM_FIELDS}
    found, errors = parse.from_form(
        fields,
        tz=ZoneInfo(needs.config.oncall.timezone),
        now=needs.clock(),
        clusters=needs.runbooks.clusters.names,
        longest=needs.config.maintenance.max_duration,
    )
    if found is None:
        return Submitted(errors)
    window = await needs.maintenance.schedule(form.actor.user, found)
    return Submitted(later=lambda: needs.maintenance.messages.announce(window), name=f"{window.ref}-announce")


def _window(click: Click) -> tuple[int, str]:
    number_text, _, key = click.value.partition(":")
    number = parse_ref(number_text)
    if number is None:
        raise UserError("That button does not name a window.")
    return number, key


async def transition_button(needs: Needs, click: Click, replies: Replies) -> None:
    number, _ = _window(click)
    cmd = parse.Transition(TRANSITIONS[click.action_id], number)
    windows = needs.maintenance
    await windows.transitioned(await windows.transition(click.actor.user, cmd), click.actor.user, cmd)


async def step_button(needs: Needs, click: Click, replies: Replies) -> None:
    number, key = _window(click)
    await replies.private(await needs.maintenance.work.step(click.actor.user, number, key))


async def rollout_button(needs: Needs, click: Click, replies: Replies) -> None:
    number, _ = _window(click)
    await replies.private("Following the rollouts in the window's thread…")
    await needs.maintenance.work.rollout_status(number)


async def smoke_button(needs: Needs, click: Click, replies: Replies) -> None:
    number, _ = _window(click)
    await replies.private("Running the smoke tests; the results follow in the window's thread…")
    await needs.maintenance.work.smoke_tests(number, click.actor.user)


async def eks(needs: Needs, cmd: Command) -> Answer:
    found = parse.parse_eks(cmd.text, needs.runbooks.clusters.names)
    if isinstance(found, parse.Help):
        return Answer(found.text)
    await needs.access.require(Who.RESPONDERS, cmd.actor, "check EKS upgrades")
    if isinstance(found, parse.EksPatches):
        return await eks_patches(needs, cmd, found.cluster)
    if isinstance(found, parse.EksCheck):
        check = found
        return Answer.report(f"Checking whether `{check.cluster}` is ready to upgrade…", lambda: needs.eks.check(check),
                             name="/eks")  # fmt: skip
    upgrade = found
    return Answer.report(
        f"Checking `{upgrade.cluster}` before offering the upgrade to {upgrade.version}…",
        lambda: needs.eks.offer_upgrade(upgrade, cmd.actor.user, cmd.channel),
        name="/eks",
        public=True,
    )


async def eks_patches(needs: Needs, cmd: Command, cluster: str | None) -> Answer:
    needs.patches.targets(cluster)  # a cluster without EKS in the config is refused before any AWS call
    operator = await needs.access.is_operator(cmd.actor.user)
    return Answer.report(
        f"Reading the security patches of {f'`{cluster}`' if cluster else 'every EKS cluster'}…",
        lambda: needs.patches.report(cluster, cmd.actor.user, cmd.channel, operator=operator),
        name="/eks patches",
    )


def register(kit: Kit) -> None:
    kit.command("/maintenance", maintenance, verbs=OPERATORS)
    kit.form(SCHEDULE_FORM, schedule_submitted, who=Who.OPERATORS, doing="schedule maintenance", field="title")
    for action, verb in TRANSITIONS.items():
        kit.button(action, transition_button, who=Who.OPERATORS, doing=f"{verb} maintenance windows")
    kit.button(STEP_ACTIONS, step_button, doing="work on maintenance windows", metric=STEP_ACTION)
    kit.button(ROLLOUT_ACTION, rollout_button, doing="work on maintenance windows")
    kit.button(SMOKE_ACTION, smoke_button, doing="work on maintenance windows")
    kit.command("/eks", eks)
