"""Restores, the most dangerous buttons the bot has: a Velero backup restored into the cluster, an RDS snapshot
restored to a **new** instance (the original is never touched). Both are offers carried out only through the
bot's safety path (operators, once, re-checked at the click, audited)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from runbooks.aws import rds
from runbooks.aws.errors import explain as explain_aws
from runbooks.changes import Change, Site
from runbooks.errors import Refused
from runbooks.kube import velero
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException
from runbooks.kube.velero_objects import DONE, BackupInfo

FOLLOW_FOR = 30 * 60.0  # a restore takes a while


def restorable(backup: BackupInfo, partial: bool) -> None:
    """Refused unless the backup Completed (or PartiallyFailed, when ``--partial`` says that is wanted)."""
    if backup.phase == DONE:
        return
    if backup.phase == "PartiallyFailed":
        if partial:
            return
        raise Refused(
            f"backup {backup.name} is PartiallyFailed ({backup.errors} error(s)); restore it only on purpose, "
            "with --partial in the command"
        )
    raise Refused(f"backup {backup.name} is {backup.phase}, not Completed; nothing in it can be restored")


class VeleroRestore(Change):
    kind: Literal["velero-restore"] = "velero-restore"
    velero_namespace: str
    backup: str
    namespaces: list[str] = Field(default_factory=list)  # empty: every namespace the backup holds
    partial: bool = False  # PartiallyFailed accepted: said in the command, named in the confirm
    restore: str  # the Restore's name, chosen with the offer

    label: ClassVar[str] = "restore"
    verb: ClassVar[str] = "restore"
    done: ClassVar[str] = "restored"
    follow_for: ClassVar[float | None] = FOLLOW_FOR

    @property
    def target(self) -> str:
        into = ", ".join(self.namespaces) or "every namespace it holds"
        return f"backup {self.backup} into {into}"

    @property
    def progress_title(self) -> str:
        return f"Restore `{self.restore}` from backup `{self.backup}`"

    def explain(self, exc: BaseException) -> str:
        grant = f"get and create on velero.io backups and restores in {self.velero_namespace} (deploy/rbac-velero.yaml)"
        return explain_kube(exc, f"velero restores in {self.velero_namespace}", "change", grant)

    def carry_out(self, site: Site, now: datetime) -> str:
        cluster = site.cluster()
        try:
            backup = velero.backup(cluster, self.velero_namespace, self.backup)
        except ApiException as exc:
            if exc.status == 404:
                raise Refused(f"backup {self.backup} is gone (expired or deleted)") from None
            raise
        restorable(backup, self.partial)
        try:
            velero.create_restore(cluster, self.velero_namespace, self.restore, self.backup, self.namespaces)
        except ApiException as exc:
            if exc.status == 409:
                raise Refused(f"a restore named {self.restore} exists already; run /backup restore again") from None
            raise
        return f"(Velero Restore {self.restore}, backup {backup.phase})"

    def progress(self, site: Site) -> tuple[str, bool]:
        state = velero.restore(site.cluster(), self.velero_namespace, self.restore)
        items = (
            f"{state.items_done}/{state.items_total} items"
            if state.items_total is not None
            else "items not counted yet"
        )
        notes = f", {state.warnings} warning(s), {state.errors} error(s)" if state.warnings or state.errors else ""
        failure = f": {state.failure}" if state.failure else ""
        return f"{state.phase}, {items}{notes}{failure}", state.finished


class RdsRestore(Change):
    kind: Literal["rds-restore"] = "rds-restore"
    snapshot: str
    instance: str  # the new instance
    source: str  # the instance the snapshot was taken of (never touched)
    instance_class: str = ""
    subnet_group: str | None = None  # the source's, as read at the offer (used if it is gone at the click)
    security_groups: list[str] = Field(default_factory=list)  # the source's VPC security groups, likewise

    label: ClassVar[str] = "database restore"
    verb: ClassVar[str] = "restore a snapshot to"
    done: ClassVar[str] = "restored a snapshot to"
    still: ClassVar[str] = "still creating"
    follow_for: ClassVar[float | None] = FOLLOW_FOR

    @property
    def target(self) -> str:
        return f"RDS instance {self.instance}"

    @property
    def progress_title(self) -> str:
        return f"New RDS instance `{self.instance}` from `{self.snapshot}`"

    def explain(self, exc: BaseException) -> str:
        return explain_aws(exc, "rds:RestoreDBInstanceFromDBSnapshot and rds:AddTagsToResource", self.target)

    def carry_out(self, site: Site, now: datetime) -> str:
        client = site.require_aws().rds()
        snapshot = rds.snapshot(client, self.snapshot)
        if snapshot is None:
            raise Refused(f"snapshot {self.snapshot} is gone")
        if snapshot.status != "available":
            raise Refused(f"snapshot {self.snapshot} is {snapshot.status}, not available")
        if rds.instance(client, self.instance) is not None:
            raise Refused(f"an instance named {self.instance} exists already; choose another with --as=<new-id>")
        # The source's network as it is now (read again: its groups may have changed since the offer), else as
        # it was at the offer; never publicly accessible.
        source = rds.instance(client, self.source)
        made = rds.restore(
            client,
            self.snapshot,
            self.instance,
            instance_class=(source.instance_class if source else "") or self.instance_class,
            subnet_group=source.subnet_group if source else self.subnet_group,
            security_groups=source.security_groups if source else self.security_groups,
        )
        return f"from {self.snapshot} ({made.status}, not publicly accessible; {self.source} is untouched)"

    def progress(self, site: Site) -> tuple[str, bool]:
        db = rds.instance(site.require_aws().rds(), self.instance)
        if db is None:
            return "not visible yet", False
        if db.status == "available":
            return f"available at {db.endpoint or 'its endpoint'}", True
        return db.status, db.status in ("failed", "incompatible-restore", "incompatible-parameters")
