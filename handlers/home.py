"""The App Home tab's own buttons: "Take over for 4h" (operators, the same override as ``/oncall override``) and
"Run /health" (the digest, sent to the person). The incidents' buttons there are the announcement's. A click on the
Home has no response URL: the kit answers by DM."""

from __future__ import annotations

from datetime import timedelta

from bot.digest import render as digest_render
from bot.home.render import RUN_HEALTH_ACTION, TAKE_OVER_ACTION
from handlers.kit import Click, Kit, Replies, Who
from handlers.needs import Needs

TAKE_OVER_FOR = timedelta(hours=4)


async def take_over(needs: Needs, click: Click, replies: Replies) -> None:
    """One click for operators; with ``teams``, anyone else asks the team's primary (a request they may let)."""
    operator = await needs.access.is_operator(click.actor.user)
    if not click.value.startswith("team:"):  # the one rotation of the oncall section: operators only, as ever
        await needs.access.require(Who.OPERATORS, click.actor, "override the rotation")
        await replies.private(await needs.overrides.set(click.actor.user, click.actor.user, TAKE_OVER_FOR))
    elif operator:
        team = click.value.removeprefix("team:")
        await replies.private(await needs.covers.take_over(team, click.actor.user, TAKE_OVER_FOR))
    else:
        team = click.value.removeprefix("team:")
        await replies.private(await needs.covers.ask_take_over(team, click.actor.user, TAKE_OVER_FOR))
    await needs.home.publish(click.actor.user)


async def run_health(needs: Needs, click: Click, replies: Replies) -> None:
    digest = await needs.digest.recent()
    for part in digest_render.messages(digest):
        await replies.private(digest_render.verdict(digest), part)
    await needs.home.publish(click.actor.user)


def register(kit: Kit) -> None:
    kit.button(TAKE_OVER_ACTION, take_over, who=Who.RESPONDERS, doing="take over on call")
    kit.button(RUN_HEALTH_ACTION, run_health, who=Who.RESPONDERS, doing="run the health digest")
