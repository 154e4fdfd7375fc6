"""``/backup`` (Velero) and ``/db`` (RDS): list and take backups and snapshots, offer restores. Responders only;
a restore is carried out by the generic offer path (operators, once, audited) when its button is clicked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.backups import parse
from bot.core.permissions import Actor
from bot.operations.follow import ResponseSink
from bot.operations.run import cluster_option
from handlers.guard import acked, answer, ephemeral, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services


def register(app: AsyncApp, svc: Services) -> None:
    backups = svc.backups

    async def on_backup(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/backup", acked(ack)):
            actor = Actor.of_command(command)
            await require_responder(svc, actor, "work with backups")
            cluster, words = cluster_option((command.get("text") or "").split(), svc.runbooks.clusters)
            cmd = parse.parse_backup(words)
            where = f" in cluster `{cluster}`" if svc.runbooks.clusters.several else ""
            match cmd:
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.BackupList():
                    await ack(text=f"Reading Velero backups{where}…")
                    svc.tasks.spawn(
                        answer(respond, lambda: backups.listing(cluster, cmd), "/backup list"), name="backups"
                    )
                case parse.BackupCreate():
                    await ack(text=f"Creating a Velero backup{where}… its progress follows here.")
                    sink = ResponseSink(respond, in_channel=True)
                    work = backups.create(cluster, cmd, actor.user, command["channel_id"], sink)
                    svc.tasks.spawn(run(respond, work, "/backup create"), name="backup-create")
                case parse.BackupRestore():
                    await ack(text=f"Reading backup `{cmd.backup}`{where}…")
                    offer = lambda: backups.offer_restore(cluster, cmd, actor.user, command["channel_id"])  # noqa: E731
                    svc.tasks.spawn(answer(respond, offer, "/backup restore", in_channel=True), name="backup-restore")

    async def on_db(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/db", acked(ack)):
            actor = Actor.of_command(command)
            await require_responder(svc, actor, "work with database snapshots")
            cmd = parse.parse_db((command.get("text") or "").split())
            match cmd:
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.DbSnapshots():
                    await ack(text=f"Reading the snapshots of `{cmd.instance}`…")
                    svc.tasks.spawn(answer(respond, lambda: backups.db_snapshots(cmd), "/db snapshots"), name="db-list")
                case parse.DbSnapshot():
                    await ack(text=f"Taking a snapshot of `{cmd.instance}`… its progress follows here.")
                    sink = ResponseSink(respond, in_channel=True)
                    work = backups.db_snapshot(cmd, actor.user, command["channel_id"], sink)
                    svc.tasks.spawn(run(respond, work, "/db snapshot"), name="db-snapshot")
                case parse.DbRestore():
                    await ack(text=f"Reading snapshot `{cmd.snapshot}`…")
                    offer = lambda: backups.offer_db_restore(cmd, actor.user, command["channel_id"])  # noqa: E731
                    svc.tasks.spawn(answer(respond, offer, "/db restore", in_channel=True), name="db-restore")

    async def run(respond: Any, work: Any, name: str) -> None:
        async with guarded("command", name, ephemeral(respond)):
            await work

    app.command("/backup")(on_backup)
    app.command("/db")(on_db)
