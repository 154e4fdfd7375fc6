"""``/backup`` (Velero) and ``/db`` (RDS): list and take backups and snapshots, offer restores. Responders only;
a restore is carried out by the one offer path (operators, once, audited) when its button is clicked."""

from __future__ import annotations

from dataclasses import replace

from bot.backups import parse
from bot.operations.follow import ResponseSink
from bot.operations.run import cluster_option
from handlers.kit import Answer, Command, Kit, Replies, Who
from handlers.needs import Needs


async def backup(needs: Needs, cmd: Command) -> Answer:
    backups, clusters = needs.backups, needs.runbooks.clusters
    cluster, words = cluster_option(cmd.words, clusters)
    where = f" in cluster `{cluster}`" if clusters.several else ""
    match parse.parse_backup(words):
        case parse.Help(text=text):
            return Answer(text)
        case parse.BackupList() as listing:
            return Answer.report(
                f"Reading Velero backups{where}…", lambda: backups.listing(cluster, listing), name="/backup list"
            )
        case parse.BackupCreate() as create:
            create = replace(create, namespaces=backups.scope(create.namespaces))  # kubernetes.namespaces

            async def take(replies: Replies) -> None:
                sink = ResponseSink(replies.respond, in_channel=True)
                await backups.create(cluster, create, cmd.actor.user, cmd.channel, sink)

            return Answer(
                f"Creating a Velero backup{where}… its progress follows here.", later=take, name="/backup create"
            )
        case parse.BackupRestore() as restore:
            restore = replace(restore, namespaces=backups.scope(restore.namespaces))
            return Answer.report(
                f"Reading backup `{restore.backup}`{where}…",
                lambda: backups.offer_restore(cluster, restore, cmd.actor.user, cmd.channel),
                name="/backup restore",
                public=True,
            )
    raise AssertionError("every /backup command is handled")


async def db(needs: Needs, cmd: Command) -> Answer:
    backups = needs.backups
    match parse.parse_db(cmd.words):
        case parse.Help(text=text):
            return Answer(text)
        case parse.DbSnapshots() as snapshots:
            return Answer.report(
                f"Reading the snapshots of `{snapshots.instance}`…",
                lambda: backups.db_snapshots(snapshots),
                name="/db snapshots",
            )
        case parse.DbSnapshot() as snapshot:

            async def take(replies: Replies) -> None:
                sink = ResponseSink(replies.respond, in_channel=True)
                await backups.db_snapshot(snapshot, cmd.actor.user, cmd.channel, sink)

            return Answer(f"Taking a snapshot of `{snapshot.instance}`… its progress follows here.", later=take,
                          name="/db snapshot")  # fmt: skip
        case parse.DbRestore() as restore:
            return Answer.report(
                f"Reading snapshot `{restore.snapshot}`…",
                lambda: backups.offer_db_restore(restore, cmd.actor.user, cmd.channel),
                name="/db restore",
                public=True,
            )
    raise AssertionError("every /db command is handled")


def register(kit: Kit) -> None:
    kit.command("/backup", backup, who=Who.RESPONDERS, doing="work with backups")
    kit.command("/db", db, who=Who.RESPONDERS, doing="work with database snapshots")
