"""``/changes [namespace | namespace/workload] [--since=2h] [--cluster=c]``: what changed in the clusters, newest
first (responders); a rollout still running has a Roll back button (the rollback runbook's offer)."""

from __future__ import annotations

from datetime import timedelta

from bot.changes.feed import listing
from bot.core.durations import parse_duration
from bot.core.errors import UserError
from bot.core.settings.teams import owners
from bot.core.words import cluster_name, split_options
from bot.incidents.parse import parse_service
from handlers.kit import Answer, Command, Kit, Replies, Who
from handlers.needs import Needs

USAGE = (
    "`/changes [namespace | namespace/workload] [--since=2h] [--cluster=c]` — what changed, newest first "
    "(no argument: the whole cluster, nodes included; `--since` up to 30d, default 24h)"
)
DEFAULT_SINCE = timedelta(hours=24)
LONGEST = timedelta(days=30)


async def changes(needs: Needs, cmd: Command) -> Answer:
    if cmd.words[:1] in (["help"], ["--help"]):
        return Answer(USAGE)
    positional, options = split_options(cmd.words, {"since", "cluster"}, USAGE)
    if len(positional) > 1:
        raise UserError(f"Name one namespace or workload.\n{USAGE}")
    try:
        since = parse_duration(options["since"]) if options.get("since") else DEFAULT_SINCE
    except ValueError as exc:
        raise UserError(f"{exc}.\n{USAGE}") from None
    if not timedelta(minutes=1) <= since <= LONGEST:
        raise UserError(f"`--since` is between 1m and 30d.\n{USAGE}")
    configured = [c.name for c in needs.config.kubernetes.clusters]
    cluster = cluster_name(options["cluster"], configured) if options.get("cluster") else None
    namespace = workload = None
    if positional:
        service = parse_service(positional[0], USAGE)
        namespace, _, rest = service.partition("/")
        workload = rest or None
    incident = await needs.store.room_of(cmd.channel)

    async def report(replies: Replies) -> None:
        now = needs.clock()
        origin = {"incident": incident, "offered_to": cmd.actor.user}
        text, parts = await listing(
            needs.changes,
            now - since,
            cluster=cluster,
            namespace=namespace,
            workload=workload,
            origin=origin,
            owners=owners(needs.config.teams, needs.config.default_team),
        )
        for blocks in parts:
            await replies.public(text, blocks)

    return Answer("Reading what changed… it follows here.", later=report)


def register(kit: Kit) -> None:
    kit.command("/changes", changes, who=Who.RESPONDERS, doing="read the change feed")
