"""``/capacity [cluster]``: the capacity review now, posted in the channel; responders only."""

from __future__ import annotations

from bot.core.blocks import messages
from bot.core.errors import UserError
from bot.core.words import cluster_name
from handlers.kit import Answer, Command, Kit, Replies, Who
from handlers.needs import Needs

USAGE = (
    "`/capacity [cluster]`: per node group allocatable, requested and used CPU and memory with their trend, "
    "pending pods by reason, HPAs pinned at their maximum, namespaces requesting far more than they use."
)


async def capacity(needs: Needs, cmd: Command) -> Answer:
    words = cmd.words
    if words[:1] == ["help"]:
        return Answer(USAGE)
    if len(words) > 1:
        raise UserError(f"Too many words. {USAGE}")
    clusters = needs.runbooks.clusters
    name = cluster_name(words[0], clusters.names or [clusters.UNLISTED]) if words else None
    shown = f"{len(clusters.names)} clusters" if name is None and clusters.several else f"`{clusters.shown(name)}`"

    async def review(replies: Replies) -> None:
        blocks, summary = await needs.capacity.report(name)
        for part in messages(blocks, most=3):
            await replies.public(summary, part)

    return Answer(f"Reviewing the capacity of {shown}… the review is posted here.", later=review)


def register(kit: Kit) -> None:
    kit.command("/capacity", capacity, who=Who.RESPONDERS, doing="run /capacity")
