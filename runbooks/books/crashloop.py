"""Runbook "Pod CrashLooping" (operations guide): crashing pods, why they stopped, their last words.

For each crashing container: restarts, last termination reason and exit code (OOMKilled shows the
memory limit beside it), the previous container's last log lines, the pod's recent events, and the
ConfigMaps it uses with their last change time. Secrets are named, never read.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from runbooks.books.restart import Restart
from runbooks.changes import Proposal
from runbooks.checklist.checks import BAD_WAITING
from runbooks.kube import names
from runbooks.kube.client import Cluster, path
from runbooks.kube.objects import Obj, parse_time
from runbooks.kube.workload import pods, selector_for
from runbooks.registry import Runbook

LOG_LINES = 20


class CrashloopParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: names.WorkloadName
    namespace: names.Namespace = "default"


class CrashingContainer(BaseModel):
    pod: str
    container: str
    restarts: int
    waiting: str | None
    last_reason: str | None
    exit_code: int | None
    memory_limit: str | None
    previous_logs: list[str]


class CrashloopReport(BaseModel):
    namespace: str
    workload: str
    deployment: bool  # the workload is a Deployment (so a rolling restart can be offered)
    selector: str
    pods_seen: int
    crashing: list[CrashingContainer]
    events: list[str]
    configmaps: list[str]
    secrets: list[str]


def _config_refs(pod: Obj) -> tuple[set[str], set[str]]:
    spec = pod.get("spec") or {}
    configmaps, secrets = set(), set()
    for volume in spec.get("volumes") or []:
        if (volume.get("configMap") or {}).get("name"):
            configmaps.add(volume["configMap"]["name"])
        if (volume.get("secret") or {}).get("secretName"):
            secrets.add(volume["secret"]["secretName"])
    for container in spec.get("containers") or []:
        for source in container.get("envFrom") or []:
            if (source.get("configMapRef") or {}).get("name"):
                configmaps.add(source["configMapRef"]["name"])
            if (source.get("secretRef") or {}).get("name"):
                secrets.add(source["secretRef"]["name"])
        for env in container.get("env") or []:
            ref = env.get("valueFrom") or {}
            if (ref.get("configMapKeyRef") or {}).get("name"):
                configmaps.add(ref["configMapKeyRef"]["name"])
            if (ref.get("secretKeyRef") or {}).get("name"):
                secrets.add(ref["secretKeyRef"]["name"])
    return configmaps, secrets


def _limit(pod: Obj, container: str) -> str | None:
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c.get("name") == container:
            return ((c.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def _changed(configmap: Obj) -> datetime | None:
    meta = configmap.get("metadata") or {}
    times = [parse_time(f.get("time")) for f in meta.get("managedFields") or []]
    times = [t for t in times if t] or [parse_time(meta.get("creationTimestamp"))]
    return max((t for t in times if t), default=None)


def diagnose(cluster: Cluster, params: CrashloopParams) -> CrashloopReport:
    selector, is_deployment = selector_for(cluster, params.namespace, params.workload)
    found = pods(cluster, params.namespace, selector)
    crashing: list[CrashingContainer] = []
    events: list[str] = []
    configmaps: set[str] = set()
    secrets: set[str] = set()
    for pod in found:
        name = str((pod.get("metadata") or {}).get("name"))
        bad = False
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = ((status.get("state") or {}).get("waiting") or {}).get("reason")
            terminated = ((status.get("lastState") or {}).get("terminated")) or {}
            if waiting not in BAD_WAITING and not (terminated and int(status.get("restartCount") or 0) > 0):
                continue
            bad = True
            reason = terminated.get("reason")
            logs = cluster.text(
                path("/api/v1", params.namespace, "pods", name, "log"),
                container=status.get("name"),
                previous="true",
                tailLines=LOG_LINES,
            )
            crashing.append(
                CrashingContainer(
                    pod=name,
                    container=str(status.get("name")),
                    restarts=int(status.get("restartCount") or 0),
                    waiting=waiting,
                    last_reason=reason,
                    exit_code=terminated.get("exitCode"),
                    memory_limit=_limit(pod, str(status.get("name"))) if reason == "OOMKilled" else None,
                    previous_logs=str(logs or "").splitlines()[-LOG_LINES:],
                )
            )
        if bad:
            maps, secs = _config_refs(pod)
            configmaps |= maps
            secrets |= secs
            listed = cluster.list_all(
                path("/api/v1", params.namespace, "events"), fieldSelector=f"involvedObject.name={name}"
            )
            for event in list(listed)[-5:]:
                events.append(f"{name}: {event.get('type')} {event.get('reason')}: {event.get('message', '')}"[:300])
    configmap_lines = []
    for cm in sorted(configmaps):
        data = cluster.get(path("/api/v1", params.namespace, "configmaps", cm))
        changed = _changed(data)
        configmap_lines.append(f"{cm} (last changed {changed:%Y-%m-%d %H:%M UTC})" if changed else cm)
    return CrashloopReport(
        namespace=params.namespace,
        workload=params.workload,
        deployment=is_deployment,
        selector=selector,
        pods_seen=len(found),
        crashing=crashing,
        events=events,
        configmaps=configmap_lines,
        secrets=sorted(secrets),
    )


def _propose(report: CrashloopReport, cluster: str | None, now: datetime) -> list[Proposal]:
    """A rolling restart, when the crashing workload is a Deployment."""
    if not (report.deployment and report.crashing):
        return []
    return [Proposal("restart", Restart(namespace=report.namespace, deployment=report.workload, cluster=cluster))]


RUNBOOK = Runbook(
    name="crashloop",
    summary="Pod CrashLooping: crashing pods, last exit and reason, previous logs, events, ConfigMaps",
    usage="/runbook crashloop <workload> [namespace]",
    params=CrashloopParams,
    steps=(
        "identify crashing pods",
        "previous container logs",
        "pod events",
        "resource limits (OOMKilled)",
        "recent ConfigMap changes",
    ),
    run=diagnose,
    propose=_propose,
    shows_logs=True,
)
