"""The restores of a drill, each on its own: a Velero Schedule's latest Completed backup into scratch namespaces
(verified: the restored item count against the backup's, Deployments available, PVCs bound, the ``dr.checks``
probes), an RDS instance's latest snapshot to a drill instance (until ``available``); each timed (RTO) and aged (RPO),
its scratch copy deleted whatever happened. Every failure is the restore's reason, one sentence naming what failed;
nothing here raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.core.durations import format_duration
from bot.core.settings.config import BotConfig
from bot.dr import model
from bot.dr.model import Restored
from bot.dr.store import Running
from runbooks.aws import rds
from runbooks.aws import rds_drill as rdsd
from runbooks.aws.session import AwsSession
from runbooks.errors import NotConfigured, Refused
from runbooks.kube import drill as kd
from runbooks.kube import velero
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException
from runbooks.kube.velero_objects import DONE, TERMINAL, RestoreInfo

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_POLL = 0.2  # seconds before the first read again; each wait half as long again, up to the most below
KUBE_POLL = 2.0
RDS_POLL = 10.0
SETTLE = timedelta(minutes=5)  # how long a drill's clean-up waits for its Restore to end before deleting anyway
FAILED_RDS = ("failed", "incompatible-restore", "incompatible-parameters", "storage-full", "incompatible-network")
RBAC_VELERO = "get/list on Velero's backups and create on its restores (deploy/rbac-velero.yaml)"
RBAC_DR = "get/list/create/delete on namespaces and create on networkpolicies (deploy/rbac-dr.yaml)"


class Failed(Exception):
    """A restore that failed: the message is the report's reason."""


def reason(exc: BaseException, what: str, grant: str = RBAC_DR) -> str:
    """One sentence for a failure of ``what``, naming the dependency that failed."""
    if isinstance(exc, Failed | Refused | NotConfigured):
        return str(exc)
    if isinstance(exc, ApiException) and exc.status == 403:
        return f"forbidden: the bot may not do that on {what}; grant it {grant}"
    if isinstance(exc, API_ERRORS):
        return f"Kubernetes: {explain_kube(exc, what, 'list')}"
    from runbooks.aws.errors import AWS_ERRORS, DENIED, code  # noqa: PLC0415 - botocore only when AWS is used
    from runbooks.aws.errors import explain as explain_aws  # noqa: PLC0415

    if isinstance(exc, AWS_ERRORS):
        if code(exc) in DENIED:
            return f"AWS refused {what}: access denied for the bot's identity ({grant})"
        return f"AWS: {explain_aws(exc, grant, what)}"
    log.error("the DR drill's %s failed", what, exc_info=exc)
    return f"{what} failed: {type(exc).__name__} (the bot's log has the details)"


class Restorer:
    def __init__(
        self, *, config: BotConfig, clusters: ClusterSet, aws: AwsSession | None, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        self.settings = config.dr
        self.clusters = clusters
        self.aws = aws
        self.clock = clock

    async def until(
        self, read: Callable[[], T], done: Callable[[T], bool], deadline: datetime, most: float = KUBE_POLL
    ) -> tuple[T, bool]:
        """Read (in a worker thread) until ``done`` or the deadline on the bot's clock: (the last read, done)."""
        wait = FIRST_POLL
        while True:
            value = await asyncio.to_thread(read)
            if done(value):
                return value, True
            if self.clock() >= deadline:
                return value, False
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, most)

    # Velero -------------------------------------------------------------------------------------------------------
    async def velero(self, schedule: str, held: Running) -> Restored:
        result = Restored(kind="velero", name=schedule)
        created: list[str] = []
        cluster: Cluster | None = None
        restore: str | None = None
        try:
            cluster = await asyncio.to_thread(self.clusters.connect, None)
            result = await self._backup(cluster, schedule, held)
            mapping = dict(zip(result.namespaces, result.target, strict=True))
            for scratch in result.target:
                still(held)
                try:
                    await asyncio.to_thread(kd.create_scratch, cluster, scratch, held.owner, self.clock())
                    created.append(scratch)
                    await asyncio.to_thread(kd.isolate, cluster, scratch, held.owner)
                except API_ERRORS as exc:
                    raise Failed(reason(exc, f"namespace {scratch} (and its NetworkPolicy)", RBAC_DR)) from None
            still(held)
            restore = model.restore_name(result.name, held.drill, held.attempt)
            result = await self._restore_and_verify(cluster, result, mapping, held, restore)
        except Exception as exc:  # noqa: BLE001 - the reason is the report's
            result = result.model_copy(update={"ok": False, "reason": reason(exc, f"the drill of {schedule}")})
        if cluster is not None and created:
            result = await self._clean_namespaces(cluster, created, result, restore)
        return result

    async def _backup(self, cluster: Cluster, schedule: str, held: Running) -> Restored:
        """The Schedule's latest Completed backup, and where each of its namespaces goes."""
        ns = self.config.velero.namespace
        try:
            backup = await asyncio.to_thread(kd.latest_completed, cluster, ns, schedule)
            if backup is None:
                names = {s.name for s in await asyncio.to_thread(velero.schedules, cluster, ns)}
                missing = f"no Velero Schedule named {schedule} in namespace {ns}"
                raise Failed(missing if schedule not in names else f"schedule {schedule} has no Completed backup")
        except ApiException as exc:
            if exc.status == 404:
                raise Failed(f"Velero is not installed in cluster `{cluster.name}` (no velero.io/v1 API)") from None
            raise Failed(reason(exc, f"Velero's backups in namespace {ns}", RBAC_VELERO)) from None
        try:
            mapping = model.mapping(backup.namespaces, held.started)
        except ValueError as exc:
            raise Failed(f"backup {backup.name}: {exc}") from None
        return Restored(
            kind="velero", name=schedule, source=backup.name, namespaces=list(mapping), target=list(mapping.values()),
            items_total=backup.items_total, rpo=model.age(backup.completed, held.started),
        )  # fmt: skip

    async def _restore_and_verify(
        self, cluster: Cluster, result: Restored, mapping: dict[str, str], held: Running, name: str
    ) -> Restored:
        ns, start, exclude = self.config.velero.namespace, self.clock(), self.settings.velero.exclude
        deadline, owner = start + self.settings.timeout, held.owner
        try:
            await asyncio.to_thread(
                lambda: kd.create_restore(cluster, ns, name, str(result.source), mapping=mapping, owner=owner,
                                          exclude=exclude)
            )  # fmt: skip
            state, finished = await self.until(
                lambda: velero.restore(cluster, ns, name), lambda r: r.finished, deadline
            )
        except API_ERRORS as exc:
            raise Failed(reason(exc, f"Restore {name} in namespace {ns}", RBAC_VELERO)) from None
        # With resources excluded Velero restores fewer than the backup holds: its own total is what it should.
        total = state.items_total if exclude and state.items_total is not None else result.items_total
        result = result.model_copy(update={"items_restored": state.items_done, "items_total": total})
        if not finished:
            raise Failed(f"Restore {name} was still {state.phase} after {format_duration(self.settings.timeout)}")
        if state.phase != DONE:
            raise Failed(_restore_failure(name, state))
        problem = model.items_problem(state.items_done, total)
        if problem is not None:
            raise Failed(f"Restore {name} {problem}")
        await self._workloads_ready(cluster, list(mapping.values()), deadline)
        checks = await self._checks(cluster, mapping)
        result = result.model_copy(update={"checks": [line for line, _ in checks]})
        failing = [line for line, ok in checks if not ok]
        if failing:
            return result.model_copy(update={"reason": f"{len(failing)} of {len(checks)} smoke check(s) failed"})
        return result.model_copy(update={"ok": True, "rto": (self.clock() - start).total_seconds()})

    async def _workloads_ready(self, cluster: Cluster, scratch: list[str], deadline: datetime) -> None:
        """Until every restored Deployment is available and every PVC bound (or the deadline: Failed, saying which)."""

        def problems() -> list[str]:
            out: list[str] = []
            for namespace in scratch:
                deployments, claims = kd.restored(cluster, namespace)
                out += [f"{namespace}: {p}" for p in model.deployment_problems(deployments)]
                out += [f"{namespace}: {p}" for p in model.claim_problems(claims)]
            return out

        try:
            found, ready = await self.until(problems, lambda p: not p, deadline)
        except API_ERRORS as exc:
            raise Failed(reason(exc, "what was restored (Deployments, PVCs)", "list on deployments and pvcs")) from None
        if not ready:
            raise Failed(f"not ready after {format_duration(self.settings.timeout)}: " + "; ".join(found[:10]))

    async def _checks(self, cluster: Cluster, mapping: dict[str, str]) -> list[tuple[str, bool]]:
        """The ``dr.checks`` of this backup's namespaces (the others are another Schedule's; ``unchecked`` says
        those of no Schedule's)."""
        out = []
        for check in self.settings.checks:
            scratch = mapping.get(check.namespace)
            if scratch is None:
                continue
            status = await asyncio.to_thread(kd.probe, cluster, scratch, check.name, check.port, check.path)
            ok = status == check.expect_status
            shown = f"{check.service} {check.path}: {status or 'no answer'}"
            out.append((shown + ("" if ok else f", expected {check.expect_status}"), ok))
        return out

    def unchecked(self, restores: list[Restored]) -> list[str]:
        """The ``dr.checks`` whose namespace is in none of the backups restored: misconfigured (never probed).
        Said only when every Schedule's backup was read (a failed one's namespaces are not known)."""
        velero_restores = [r for r in restores if r.kind == "velero"]
        if any(not r.namespaces for r in velero_restores):
            return []
        covered = {ns for r in velero_restores for ns in r.namespaces}
        schedules = ", ".join(self.settings.velero.schedules) or "none"
        return [
            f"{c.service} {c.path}: namespace {c.namespace} is in no backup of dr.velero.schedules ({schedules}); "
            "not probed" for c in self.settings.checks if c.namespace not in covered
        ]  # fmt: skip

    async def _clean_namespaces(
        self, cluster: Cluster, created: list[str], result: Restored, restore: str | None
    ) -> Restored:
        """Delete the scratch namespaces, once the Restore has ended (Velero recreates a namespace deleted while it
        still restores into it), waiting for that at most ``SETTLE``."""
        problems = []
        if restore is not None:
            phase = await self._settled(cluster, restore)
            if phase is not None:
                problems.append(f"Restore {restore} was still {phase} when its namespaces were deleted")
        sources = await self._sources(cluster, result)
        for scratch in created:
            try:
                await asyncio.to_thread(_delete, cluster, scratch, sources)
            except Exception as exc:  # noqa: BLE001 - said in the report; the sweep retries
                problems.append(reason(exc, f"namespace {scratch}"))
        return result.model_copy(update={"cleaned": not problems, "cleanup": "; ".join(problems) or None})

    async def _settled(self, cluster: Cluster, restore: str) -> str | None:
        """Until the Restore is in a terminal phase (or gone): None, else the phase it is still in."""
        ns = self.config.velero.namespace
        try:
            phase, ended = await self.until(
                lambda: kd.restore_phase(cluster, ns, restore),
                lambda p: p is None or p in TERMINAL,
                self.clock() + SETTLE,
            )
        except Exception as exc:  # noqa: BLE001 - the namespaces are deleted all the same
            log.warning("could not read Restore %s before deleting its namespaces: %s", restore, exc)
            return None
        return None if ended else phase

    async def _sources(self, cluster: Cluster, result: Restored) -> set[str]:
        """The namespaces never deleted: the backup's, and every configured Schedule's."""
        found = set(result.namespaces)
        try:
            ns, schedules = self.config.velero.namespace, self.settings.velero.schedules
            found |= await asyncio.to_thread(kd.sources, cluster, ns, schedules)
        except Exception as exc:  # noqa: BLE001 - the backup's namespaces are known; scratch names never clash
            log.warning("could not read the Velero Schedules' namespaces: %s", exc)
        return found

    # RDS ----------------------------------------------------------------------------------------------------------
    async def instances(self) -> list[str]:
        """The instances a drill restores: ``aws.rds.instances``, or every one but the drills' own for ``all``."""
        if self.aws is None or self.config.aws is None:
            raise NotConfigured("dr.rds is on but AWS is not configured (aws.region, aws.rds.instances)")
        wanted = self.config.aws.rds.wanted
        if wanted is not None:
            return wanted
        client = self.aws.rds()

        def every() -> list[str]:
            drills = {found[0] for found in rdsd.drill_instances(client)}
            return [i.id for i in rds.instances(client) if i.id not in drills]

        return await asyncio.to_thread(every)

    async def rds(self, source_id: str, held: Running) -> Restored:
        new_id = model.drill_instance(source_id, held.started)
        result = Restored(kind="rds", name=source_id, target=[new_id])
        assert self.aws is not None
        client = self.aws.rds()
        made = False
        try:
            result, snapshot, source = await self._snapshot(client, result, held)
            still(held)
            start = self.clock()
            try:
                await asyncio.to_thread(
                    lambda: rdsd.restore(client, snapshot, new_id, source=source, owner=held.owner, started=start)
                )
            except Exception as exc:  # noqa: BLE001 - the reason is the report's
                raise Failed(reason(exc, f"the restore of {snapshot.id} to {new_id}", _RESTORE)) from None
            made = True
            state, done = await self.until(
                lambda: rds.instance(client, new_id),
                lambda db: db is not None and (db.status == "available" or db.status in FAILED_RDS),
                start + self.settings.timeout,
                most=RDS_POLL,
            )
            status = state.status if state is not None else "not visible"
            if not done or status != "available":
                raise Failed(f"{new_id} was {status}, not available, after {format_duration(self.clock() - start)}")
            result = result.model_copy(update={"ok": True, "rto": (self.clock() - start).total_seconds()})
        except Exception as exc:  # noqa: BLE001 - the reason is the report's
            result = result.model_copy(update={"ok": False, "reason": reason(exc, f"the drill of {source_id}", _READ)})
        if made:
            result = await self._clean_instance(client, new_id, result)
        return result

    async def _snapshot(self, client: Any, result: Restored, held: Running) -> tuple[Restored, Any, Any]:
        source_id = result.name
        try:
            source = await asyncio.to_thread(rds.instance, client, source_id)
            if source is None:
                raise Failed(f"no RDS instance named {source_id}")
            snapshot = await asyncio.to_thread(rdsd.latest_snapshot, client, source_id)
        except Failed:
            raise
        except Exception as exc:  # noqa: BLE001 - the reason is the report's
            raise Failed(reason(exc, f"reading {source_id} and its snapshots", _READ)) from None
        if snapshot is None:
            raise Failed(f"{source_id} has no available snapshot")
        rpo = model.age(snapshot.created, held.started)
        return result.model_copy(update={"source": snapshot.id, "rpo": rpo}), snapshot, source

    async def _clean_instance(self, client: Any, new_id: str, result: Restored) -> Restored:
        try:
            await asyncio.to_thread(rdsd.delete, client, new_id)
        except Exception as exc:  # noqa: BLE001 - said in the report; the sweep retries
            return result.model_copy(update={"cleanup": reason(exc, f"deleting {new_id}", _DELETE)})
        return result.model_copy(update={"cleaned": True})


# What each RDS step needs (the drill's deletes: deploy/iam-policy-dr.json).
_READ = "it needs DescribeDBInstances and DescribeDBSnapshots, deploy/iam-policy.json"
_RESTORE = "it needs RestoreDBInstanceFromDBSnapshot and AddTagsToResource, deploy/iam-policy.json"
_DELETE = "it needs DeleteDBInstance on drill instances, deploy/iam-policy-dr.json"


def _delete(cluster: Cluster, scratch: str, sources: set[str]) -> bool:
    return kd.delete_scratch(cluster, scratch, sources=sources)


def still(held: Running) -> None:
    """Go on only while the drill holds its lock: another drill took it (this one's lapsed), so stop here."""
    if held.lost is not None:
        raise Failed(f"stopped: drill {held.lost.drill} took the drill lock (this drill's lapsed)")


def _restore_failure(name: str, state: RestoreInfo) -> str:
    why = f": {state.failure}" if state.failure else ""
    counts = f" ({state.errors} error(s), {state.warnings} warning(s))" if state.errors or state.warnings else ""
    return f"Restore {name} ended {state.phase}{counts}{why}"
