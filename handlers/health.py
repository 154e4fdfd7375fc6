"""``/health``: the morning checklist now, for the configured cluster(s); responders only."""

from __future__ import annotations

from bot.core import telemetry
from bot.digest import render
from handlers.kit import Answer, Command, Kit, Replies, Who
from handlers.needs import Needs


async def health(needs: Needs, cmd: Command) -> Answer:
    clusters = len(needs.config.kubernetes.clusters) or 1

    async def report(replies: Replies) -> None:
        digest = await needs.digest.recent()
        for part in render.messages(digest):
            await replies.private(render.verdict(digest), part)
        telemetry.DIGESTS_POSTED.labels(trigger="command").inc()

    return Answer(f"Checking {clusters} cluster{'s' if clusters != 1 else ''}… the digest follows here.", later=report)


def register(kit: Kit) -> None:
    kit.command("/health", health, who=Who.RESPONDERS, doing="run /health")
