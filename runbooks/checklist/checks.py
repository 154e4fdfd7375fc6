"""The operations guide's Morning Checklist as pure functions: raw Kubernetes JSON in, typed findings out.

No I/O here: runbooks/checklist/collect.py reads the cluster and feeds these checks, so each is tested on
plain dicts. Every problem object is named by namespace/name with the reason it was flagged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from runbooks.checklist.model import Finding, Section
from runbooks.kube import objects
from runbooks.kube.objects import Obj, meta, parse_time

BAD_WAITING = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"}
PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
RESTART_WINDOW = timedelta(hours=24)
EVENT_WINDOW = timedelta(minutes=30)
CERT_WARNING = timedelta(days=14)


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.rank, f.ref))


def check_nodes(nodes: Iterable[Obj]) -> Section:
    found = []
    for node in nodes:
        _, name = meta(node)
        conditions = objects.conditions(node)
        ready = conditions.get("Ready", {})
        if ready.get("status") != "True":
            reason = ready.get("reason") or "no Ready condition"
            found.append(Finding(namespace=None, name=name, why=f"NotReady ({reason})", rank=3))
        pressures = [p for p in PRESSURES if conditions.get(p, {}).get("status") == "True"]
        if pressures:
            found.append(Finding(namespace=None, name=name, why=", ".join(pressures), rank=2))
        if (node.get("spec") or {}).get("unschedulable"):
            found.append(Finding(namespace=None, name=name, why="cordoned (unschedulable)", rank=1))
    return Section(key="nodes", title="Nodes", findings=_sorted(found))


def _last_termination(status: Obj) -> str:
    terminated = ((status.get("lastState") or {}).get("terminated")) or {}
    if not terminated:
        return ""
    return f"last exit: {terminated.get('reason', '?')} (code {terminated.get('exitCode', '?')})"


def pod_problem(pod: Obj) -> Finding | None:
    """Why a pod is not healthy (a container waiting in a bad state, or a phase other than Running/Succeeded)."""
    ns, name = meta(pod)
    status = pod.get("status") or {}
    phase = status.get("phase") or "Unknown"
    containers = list(status.get("containerStatuses") or []) + list(status.get("initContainerStatuses") or [])
    bad = []
    for c in containers:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in BAD_WAITING:
            parts = [f"{c.get('name')}: {waiting['reason']}", f"{c.get('restartCount', 0)} restarts"]
            last = _last_termination(c)
            bad.append(", ".join([*parts, last] if last else parts))
    if bad:
        return Finding(namespace=ns, name=name, why="; ".join(bad), rank=3)
    if phase in ("Running", "Succeeded"):
        return None
    reason = status.get("reason") or next(
        (c.get("reason") for c in (status.get("conditions") or []) if c.get("status") == "False" and c.get("reason")),
        None,
    )
    rank = 3 if phase == "Failed" else 2
    return Finding(namespace=ns, name=name, why=phase + (f" ({reason})" if reason else ""), rank=rank)


def pod_restarts(pod: Obj, now: datetime) -> list[Finding]:
    """Containers whose last termination finished within 24 h (lifetime restart counters are ignored)."""
    ns, name = meta(pod)
    found = []
    for c in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = ((c.get("lastState") or {}).get("terminated")) or {}
        finished = parse_time(terminated.get("finishedAt"))
        if finished is None or now - finished > RESTART_WINDOW:
            continue
        reason = terminated.get("reason", "?")
        ago = int((now - finished).total_seconds() // 60)
        why = (
            f"{c.get('name')}: restarted ({c.get('restartCount', 0)} total), last {ago} min ago: "
            f"{reason} (exit {terminated.get('exitCode', '?')})"
        )
        found.append(Finding(namespace=ns, name=name, why=why, rank=2 if reason in ("OOMKilled", "Error") else 1))
    return found


PODS_TITLE = "Pods not Running or Succeeded"
RESTARTS_TITLE = "Restarts in the last 24 h"


def check_pods(pods: Iterable[Obj]) -> Section:
    found = [f for f in map(pod_problem, pods) if f is not None]
    return Section(key="pods", title=PODS_TITLE, findings=_sorted(found))


def check_restarts(pods: Iterable[Obj], now: datetime) -> Section:
    found = [f for pod in pods for f in pod_restarts(pod, now)]
    return Section(key="restarts", title=RESTARTS_TITLE, findings=_sorted(found))


def check_pod_sections(pods: Iterable[Obj], now: datetime) -> tuple[Section, Section]:
    """Both pod checks in one pass, so a paginated list is reduced page by page and never held whole."""
    problems: list[Finding] = []
    restarts: list[Finding] = []
    for pod in pods:
        problem = pod_problem(pod)
        if problem is not None:
            problems.append(problem)
        restarts += pod_restarts(pod, now)
    return (
        Section(key="pods", title=PODS_TITLE, findings=_sorted(problems)),
        Section(key="restarts", title=RESTARTS_TITLE, findings=_sorted(restarts)),
    )


def check_pvcs(pvcs: Iterable[Obj]) -> Section:
    found = []
    for pvc in pvcs:
        ns, name = meta(pvc)
        phase = (pvc.get("status") or {}).get("phase") or "Unknown"
        if phase != "Bound":
            found.append(Finding(namespace=ns, name=name, why=phase, rank=3 if phase == "Lost" else 2))
    return Section(key="pvcs", title="PersistentVolumeClaims not Bound", findings=_sorted(found))


def check_certificates(certs: Iterable[Obj], now: datetime) -> Section:
    found = []
    for cert in certs:
        ns, name = meta(cert)
        ready = objects.conditions(cert).get("Ready", {})
        if ready.get("status") != "True":
            detail = ready.get("reason") or ready.get("message") or "no Ready condition"
            found.append(Finding(namespace=ns, name=name, why=f"not Ready ({detail})", rank=3))
            continue
        not_after = parse_time((cert.get("status") or {}).get("notAfter"))
        if not_after is not None and not_after - now <= CERT_WARNING:
            days = (not_after - now).days
            why = "expired" if not_after <= now else f"expires in {days} day{'s' if days != 1 else ''}"
            found.append(Finding(namespace=ns, name=name, why=why, rank=3 if not_after <= now else 2))
    return Section(key="certificates", title="Certificates (cert-manager)", findings=_sorted(found))


def check_hpas(hpas: Iterable[Obj]) -> Section:
    found = []
    for hpa in hpas:
        ns, name = meta(hpa)
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        conditions = objects.conditions(hpa)
        stuck = [t for t in ("AbleToScale", "ScalingActive") if conditions.get(t, {}).get("status") == "False"]
        if stuck:
            reasons = ", ".join(f"{t}=False ({conditions[t].get('reason', '?')})" for t in stuck)
            found.append(Finding(namespace=ns, name=name, why=reasons, rank=2))
        current, maximum = status.get("currentReplicas"), spec.get("maxReplicas")
        if isinstance(current, int) and isinstance(maximum, int) and current >= maximum:
            found.append(Finding(namespace=ns, name=name, why=f"at max replicas ({current}/{maximum})", rank=1))
    return Section(key="hpas", title="HorizontalPodAutoscalers", findings=_sorted(found))


def check_events(events: Iterable[Obj], now: datetime) -> Section:
    """Warning events of the last 30 minutes, grouped by reason and object."""
    groups: dict[tuple[str, str | None, str], dict[str, Any]] = defaultdict(lambda: {"count": 0, "message": ""})
    for event in events:
        if event.get("type") != "Warning":
            continue
        when = (
            parse_time(event.get("lastTimestamp"))
            or parse_time(event.get("eventTime"))
            or parse_time((event.get("metadata") or {}).get("creationTimestamp"))
        )
        if when is None or now - when > EVENT_WINDOW:
            continue
        involved = event.get("involvedObject") or {}
        key = (
            str(event.get("reason", "?")),
            involved.get("namespace"),
            f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '?')}",
        )
        groups[key]["count"] += int(event.get("count") or 1)
        groups[key]["message"] = str(event.get("message", ""))[:160]
    found = [
        Finding(namespace=ns, name=obj, why=f"{reason} ×{g['count']}: {g['message']}", rank=1)
        for (reason, ns, obj), g in groups.items()
    ]
    found.sort(key=lambda f: (-int(f.why.split("×")[1].split(":")[0]), f.ref))
    return Section(key="events", title="Warning events (last 30 min)", findings=found)
