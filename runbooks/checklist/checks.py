"""The operations guide's Morning Checklist as pure functions: Kubernetes objects in, typed findings out.

No I/O here: runbooks/checklist/collect.py reads the cluster and feeds these checks. Pods, nodes and events come
decoded into the typed shapes of ``runbooks.kube.shapes`` (only the fields read here); a plain dict is turned into
the same shape, so each check is also tested on plain dicts. The smaller lists (PVCs, certificates, HPAs) stay
plain dicts. Every problem object is named by namespace/name with the reason it was flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from runbooks.checklist.model import Finding, Section
from runbooks.kube import objects
from runbooks.kube.objects import Obj, meta, parse_time
from runbooks.kube.shapes import (
    ContainerStatus,
    Event,
    InvolvedObject,
    Node,
    Pod,
    PodStatus,
    by_type,
    each,
    name_of,
    shaped,
)

BAD_WAITING = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"}
PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
RESTART_WINDOW = timedelta(hours=24)
EVENT_WINDOW = timedelta(minutes=30)
CERT_WARNING = timedelta(days=14)
NO_STATUS, NO_OBJECT = PodStatus(), InvolvedObject()


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.rank, f.ref))


def check_nodes(nodes: Iterable[Node | Obj]) -> Section:
    found = []
    for node in each(Node, nodes):
        _, name = name_of(node.metadata)
        conditions = by_type(node.status.conditions if node.status is not None else None)
        ready = conditions.get("Ready")
        if ready is None or ready.status != "True":
            reason = (ready.reason if ready is not None else None) or "no Ready condition"
            found.append(Finding(namespace=None, name=name, why=f"NotReady ({reason})", rank=3))
        pressures = [p for p in PRESSURES if p in conditions and conditions[p].status == "True"]
        if pressures:
            found.append(Finding(namespace=None, name=name, why=", ".join(pressures), rank=2))
        if node.spec is not None and node.spec.unschedulable:
            found.append(Finding(namespace=None, name=name, why="cordoned (unschedulable)", rank=1))
    return Section(key="nodes", title="Nodes", findings=_sorted(found))


def _last_termination(status: ContainerStatus) -> str:
    terminated = status.last_terminated
    if terminated is None:
        return ""
    reason = "?" if terminated.reason is None else terminated.reason
    return f"last exit: {reason} (code {'?' if terminated.exitCode is None else terminated.exitCode})"


def pod_problem(pod: Pod | Obj) -> Finding | None:
    """Why a pod is not healthy (a container waiting in a bad state, or a phase other than Running/Succeeded)."""
    return _problem(shaped(Pod, pod))


def _problem(pod: Pod) -> Finding | None:
    status = pod.status or NO_STATUS
    phase = status.phase or "Unknown"
    bad = []
    for c in chain(status.containerStatuses or (), status.initContainerStatuses or ()):
        reason = c.waiting_reason
        if reason in BAD_WAITING:
            parts = [f"{c.name}: {reason}", f"{c.restarts} restarts"]
            last = _last_termination(c)
            bad.append(", ".join([*parts, last] if last else parts))
    if bad:
        ns, name = name_of(pod.metadata)
        return Finding(namespace=ns, name=name, why="; ".join(bad), rank=3)
    if phase in ("Running", "Succeeded"):
        return None
    ns, name = name_of(pod.metadata)
    reason = status.reason or next(
        (c.reason for c in status.conditions or () if c.status == "False" and c.reason),
        None,
    )
    rank = 3 if phase == "Failed" else 2
    return Finding(namespace=ns, name=name, why=phase + (f" ({reason})" if reason else ""), rank=rank)


def pod_restarts(pod: Pod | Obj, now: datetime) -> list[Finding]:
    """Containers whose last termination finished within 24 h (lifetime restart counters are ignored)."""
    return _restarts(shaped(Pod, pod), now)


def _restarts(pod: Pod, now: datetime) -> list[Finding]:
    found = []
    for c in (pod.status or NO_STATUS).containerStatuses or ():
        terminated = c.last_terminated
        finished = parse_time(terminated.finishedAt) if terminated is not None else None
        if terminated is None or finished is None or now - finished > RESTART_WINDOW:
            continue
        reason = "?" if terminated.reason is None else terminated.reason
        ago = int((now - finished).total_seconds() // 60)
        why = (
            f"{c.name}: restarted ({c.restarts} total), last {ago} min ago: "
            f"{reason} (exit {'?' if terminated.exitCode is None else terminated.exitCode})"
        )
        ns, name = name_of(pod.metadata)
        found.append(Finding(namespace=ns, name=name, why=why, rank=2 if reason in ("OOMKilled", "Error") else 1))
    return found


PODS_TITLE = "Pods not Running or Succeeded"
RESTARTS_TITLE = "Restarts in the last 24 h"


def check_pods(pods: Iterable[Pod | Obj]) -> Section:
    found = [f for f in map(_problem, each(Pod, pods)) if f is not None]
    return Section(key="pods", title=PODS_TITLE, findings=_sorted(found))


def check_restarts(pods: Iterable[Pod | Obj], now: datetime) -> Section:
    found = [f for pod in each(Pod, pods) for f in _restarts(pod, now)]
    return Section(key="restarts", title=RESTARTS_TITLE, findings=_sorted(found))


def check_pod_sections(pods: Iterable[Pod | Obj], now: datetime) -> tuple[Section, Section]:
    """Both pod checks in one pass, so a paginated list is reduced page by page and never held whole."""
    problems: list[Finding] = []
    restarts: list[Finding] = []
    for pod in each(Pod, pods):
        problem = _problem(pod)
        if problem is not None:
            problems.append(problem)
        restarts += _restarts(pod, now)
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


def check_events(events: Iterable[Event | Obj], now: datetime) -> Section:
    """Warning events of the last 30 minutes, grouped by reason and object."""
    groups: dict[tuple[str, str | None, str], list[Any]] = {}  # key → [count, message]
    for event in each(Event, events):
        if event.type != "Warning":
            continue
        when = (
            parse_time(event.lastTimestamp)
            or parse_time(event.eventTime)
            or parse_time(event.metadata.creationTimestamp if event.metadata is not None else None)
        )
        if when is None or now - when > EVENT_WINDOW:
            continue
        involved = event.involvedObject or NO_OBJECT
        key = (
            "?" if event.reason is None else event.reason,
            involved.namespace,
            f"{(involved.kind or '').lower()}/{'?' if involved.name is None else involved.name}",
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = [0, ""]
        group[0] += event.count or 1
        group[1] = (event.message or "")[:160]
    found = [
        (count, Finding(namespace=ns, name=obj, why=f"{reason} ×{count}: {message}", rank=1))
        for (reason, ns, obj), (count, message) in groups.items()
    ]
    found.sort(key=lambda f: (-f[0], f[1].ref))
    return Section(key="events", title="Warning events (last 30 min)", findings=[f for _, f in found])
